"""Registering a marketplace: the admin API and the CLI, origins and webhook URLs checked."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from server.__main__ import main
from server.core.config import Settings
from server.core.errors import AppError
from server.integrations import embed_keys, registry
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Accounts, make_settings
from tests.integrations.embedding import exchange


def public_pem(private: Any) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def test_admins_register_an_integration_and_manage_its_keys(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    body = {
        "name": "Shop",
        "allowed_origins": ["https://Shop.example:443", "http://127.0.0.1:9000"],
        "link_base": "https://shop.example",
        "webhook_events": ["notification.read"],
    }
    r = await client.post("/api/admin/integrations", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    integration = r.json()
    assert integration["allowed_origins"] == ["https://shop.example", "http://127.0.0.1:9000"]
    base = f"/api/admin/integrations/{integration['id']}"
    pem = public_pem(ec.generate_private_key(ec.SECP256R1()))
    added = await client.post(
        f"{base}/embed-keys", json={"public_key_pem": pem}, headers=admin.headers
    )
    assert added.status_code == 201 and added.json()["alg"] == "ES256"
    assert added.json()["private_key_pem"] is None
    both = {"public_key_pem": pem, "generate": "ES256"}
    refused = await client.post(f"{base}/embed-keys", json=both, headers=admin.headers)
    assert refused.status_code == 422
    generated = await client.post(
        f"{base}/embed-keys", json={"generate": "EdDSA"}, headers=admin.headers
    )
    assert generated.status_code == 201
    assert generated.json()["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    third = await client.post(
        f"{base}/embed-keys", json={"generate": "ES256"}, headers=admin.headers
    )
    assert (third.status_code, third.json()["code"]) == (409, "too_many_keys")
    kid = added.json()["kid"]
    assert (
        await client.delete(f"{base}/embed-keys/{kid}", headers=admin.headers)
    ).status_code == 204
    detail = (await client.get(base, headers=admin.headers)).json()
    assert [k["retired_at"] is not None for k in detail["embed_keys"]] == [True, False]
    assert "private_key_pem" not in str(detail)
    listed = (await client.get("/api/admin/integrations", headers=admin.headers)).json()
    assert [i["id"] for i in listed] == [integration["id"]]
    key = await client.post(
        "/api/admin/integration-keys",
        json={"name": "Shop server", "integration_id": integration["id"]},
        headers=admin.headers,
    )
    assert key.status_code == 201 and key.json()["integration_id"] == integration["id"]


async def test_only_admins_manage_integrations(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    r = await client.get("/api/admin/integrations", headers=vendor.headers)
    assert (r.status_code, r.json()["code"]) == (403, "admin_only")
    assert (await client.get("/api/admin/integrations")).status_code == 401


async def test_refused_registrations_are_422(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    good = {
        "name": "Shop",
        "allowed_origins": ["https://shop.example"],
        "link_base": "https://shop.example",
    }
    cases = {
        "origin with a path": ({"allowed_origins": ["https://shop.example/app"]}, "invalid_origin"),
        "origin with credentials": (
            {"allowed_origins": ["https://a:b@shop.example"]},
            "invalid_origin",
        ),
        "not http": ({"allowed_origins": ["javascript:alert(1)"]}, "invalid_origin"),
        "no origins": ({"allowed_origins": []}, "validation_error"),
        "webhook at a private address": (
            {"webhook_url": "https://10.0.0.1/hook"},
            "webhook_url_refused",
        ),
        "webhook at loopback": ({"webhook_url": "https://127.0.0.1/hook"}, "webhook_url_refused"),
        "webhook over http": ({"webhook_url": "http://hooks.example/x"}, "webhook_url_refused"),
        "webhook at localhost": ({"webhook_url": "https://localhost/x"}, "webhook_url_refused"),
        "webhook on another port": (
            {"webhook_url": "https://hooks.example:8443/x"},
            "webhook_url_refused",
        ),
        "webhook with credentials": (
            {"webhook_url": "https://u:p@hooks.example/x"},
            "webhook_url_refused",
        ),
        "unknown webhook event": ({"webhook_events": ["order.paid"]}, "validation_error"),
    }
    for case, (change, code) in cases.items():
        r = await client.post(
            "/api/admin/integrations", json={**good, **change}, headers=admin.headers
        )
        assert (r.status_code, r.json()["code"]) == (422, code), case


async def test_a_trusted_webhook_host_may_be_local_http(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, webhook_allowed_hosts="127.0.0.1")
    assert registry.check_webhook_url("http://127.0.0.1:9999/hook", settings)
    with pytest.raises(AppError):
        registry.check_webhook_url("https://hooks.example/x", settings)  # not listed


def test_keys_are_pinned_to_one_algorithm_by_their_type() -> None:
    with pytest.raises(AppError):
        embed_keys.load_public_key(public_pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(AppError):
        embed_keys.load_public_key(public_pem(rsa.generate_private_key(65537, 1024)))
    private_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(AppError):
        embed_keys.load_public_key(private_pem.decode())


async def test_the_cli_registers_a_marketplace_whose_tokens_then_sign_in(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("server.__main__.get_settings", lambda: settings)
    await _cli(
        "integration create --name Shop --origin https://shop.example --link-base https://shop.example"
    )
    integration_id = re.fullmatch(r"id: (\S+)\n", capsys.readouterr().out)
    assert integration_id
    iss = integration_id[1]
    private = ec.generate_private_key(ec.SECP256R1())
    pem_file = tmp_path / "shop.pem"
    pem_file.write_text(public_pem(private))
    await _cli(f"embed-key add --integration {iss} --public-key {pem_file}")
    out = capsys.readouterr().out
    kid = embed_keys.thumbprint(private.public_key())
    assert out.startswith(f"kid: {kid}\n")
    await _cli(f"embed-key generate --integration {iss} --alg ES256")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("kid: ") and lines[1] == "-----BEGIN PRIVATE KEY-----"
    await _cli(f"integration-key create --name Shop --integration {iss}")
    assert "secret:" in capsys.readouterr().out
    await _cli(f"embed-key retire --integration {iss} --kid {lines[0][5:]}")
    from tests.integrations.embedding import Marketplace

    market = Marketplace(iss, kid, private)
    assert (await exchange(client, market.token())).status_code == 201


async def _cli(line: str) -> None:
    import asyncio

    await asyncio.to_thread(main, line.split())


def test_a_bad_cli_call_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from server.integrations.cli import cmd_embed_key

    args = argparse.Namespace(action="add", integration="x", public_key=str(tmp_path / "missing"))
    with pytest.raises(SystemExit, match="cannot read"):
        cmd_embed_key(args, make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/x.db"))
