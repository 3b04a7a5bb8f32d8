"""VAPID keys: made once, kept private, rotated without breaking anyone, retired when unused."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.core.config import Settings
from server.push.keys import KeyStore
from tests.conftest import Accounts
from tests.pushservice import PushService

ROOT = Path(__file__).resolve().parents[2]


def test_first_run_generates_a_private_key_readable_only_by_us(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.keys_dir = tmp_path / "fresh-keys"
    with caplog.at_level(logging.DEBUG):
        store = KeyStore.load_or_create(settings)
    [pem] = settings.keys_dir.glob("vapid-*.pem")
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    secret_line = pem.read_text().splitlines()[1]
    assert secret_line not in caplog.text
    again = KeyStore.load_or_create(settings)
    assert again.current.public_key == store.current.public_key


async def test_public_key_is_served_and_the_private_key_is_not(
    client: httpx.AsyncClient, app: object, settings: Settings
) -> None:
    response = await client.get("/api/push/vapid-public-key")
    assert response.status_code == 200
    key = response.json()["public_key"]
    assert key == app.state.keys.current.public_key  # type: ignore[attr-defined]
    assert len(key) == 87  # base64url of a 65-byte uncompressed point
    [pem] = settings.keys_dir.glob("vapid-*.pem")
    for path in (f"/keys/{pem.name}", f"/{pem.name}", "/keys/"):
        leaked = await client.get(path)
        assert "PRIVATE KEY" not in leaked.text


async def test_rotation_serves_a_new_key_and_keeps_the_old_one_until_unused(
    client: httpx.AsyncClient, app: object, accounts: Accounts, push_service: PushService
) -> None:
    store: KeyStore = app.state.keys  # type: ignore[attr-defined]
    vendor = await accounts.vendor()
    old_device = push_service.subscribe()
    response = await client.post(
        "/api/push/subscriptions", json=old_device.to_json(), headers=vendor.headers
    )
    assert response.status_code == 201
    old_kid = store.current.kid

    new = store.rotate()
    served = (await client.get("/api/push/vapid-public-key")).json()["public_key"]
    assert served == new.public_key
    new_device = push_service.subscribe()
    await client.post("/api/push/subscriptions", json=new_device.to_json(), headers=vendor.headers)
    devices = (await client.get("/api/push/subscriptions", headers=vendor.headers)).json()
    assert [d["vapid_key_id"] for d in devices] == [old_kid, new.kid]

    assert store.retire({old_kid, new.kid}) == []
    await client.delete(f"/api/push/subscriptions/{devices[0]['id']}", headers=vendor.headers)
    assert store.retire({new.kid}) == [old_kid]
    assert store.get(old_kid) is None
    assert store.current.kid == new.kid


def test_a_rotation_by_another_process_is_picked_up(settings: Settings) -> None:
    running = KeyStore.load_or_create(settings)
    other = KeyStore.load_or_create(settings)
    rotated = other.rotate()
    assert running.current.kid == rotated.kid


def test_cli_shows_public_keys_only(settings: Settings) -> None:
    env = {"KEYS_DIR": str(settings.keys_dir), "DATABASE_URL": settings.database_url,
           "DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}  # fmt: skip
    run = [sys.executable, "-m", "server", "keys"]
    rotated = subprocess.run([*run, "rotate"], env=env, cwd=ROOT, capture_output=True, text=True)
    shown = subprocess.run([*run, "show"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 2 and sum(line.startswith("*") for line in lines) == 1
    assert "PRIVATE" not in shown.stdout + rotated.stdout + shown.stderr + rotated.stderr
    current = KeyStore.load_or_create(settings).current
    assert f"public_key={current.public_key}" in shown.stdout
