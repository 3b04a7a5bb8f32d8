"""SSRF: hostile push endpoints are refused, at subscription time and at send time,
and no connection is ever attempted to them."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from server.app import create_app
from server.core.config import Settings
from server.push.keys import KeyStore
from server.push.sender import Job, Sender
from tests.conftest import Accounts, make_settings
from tests.pushservice import make_browser_subscription

ALLOWED = ["*.push.example.test", "*.push.services.mozilla.com", "named.example.test"]
# What the fake DNS answers: one public name, and names that point inside.
DNS = {
    "ok.push.example.test": "93.184.216.34",
    "rebind.push.example.test": "10.0.0.7",
    "v6.push.example.test": "fd00::1",
    "mapped.push.example.test": "::ffff:192.168.0.1",
    "meta.push.example.test": "169.254.169.254",
    "zero.push.example.test": "0.0.0.0",
    "loop.push.example.test": "127.0.0.1",
    "named.example.test": "10.9.8.7",  # listed by name, yet private: still refused
}
HOSTILE = [
    "http://ok.push.example.test/x",  # plain http to a non-listed host
    "ftp://ok.push.example.test/x",
    "https://10.0.0.1/x",
    "https://127.0.0.1/x",
    "https://[::1]/x",
    "https://0.0.0.0/x",
    "https://2130706433/x",  # 127.0.0.1 in decimal
    "https://0177.0.0.1/x",  # octal
    "https://0x7f.0.0.1/x",  # hex
    "https://169.254.169.254/latest/meta-data",
    "https://[fe80::1]/x",
    "https://fcm.googleapis.com@10.0.0.1/",  # userinfo trick
    "https://user:pw@ok.push.example.test/x",
    "https://evil.example.com/x",  # unknown host
    "https://push.example.test.evil.com/x",  # suffix trick
    "https://evilpush.example.test/x",  # no dot boundary
    "https://localhost/x",
    "https://ok.push.example.test:99999/x",  # invalid port
    "https://rebind.push.example.test/x",  # resolves to a private address
    "https://v6.push.example.test/x",
    "https://mapped.push.example.test/x",
    "https://meta.push.example.test/x",
    "https://zero.push.example.test/x",
    "https://loop.push.example.test/x",
    "https://a..push.services.mozilla.com/x",  # malformed host on an allowed suffix
    # A host listed by name gains nothing over a wildcard: https, 443, public addresses.
    "http://named.example.test/x",
    "https://named.example.test:8443/x",
    "https://named.example.test/x",
    "https://ok.push.example.test:8443/x",
]


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, database_url: str) -> list[Any]:
    """Fake DNS for the names above, and a record of every outgoing connect()
    (except to the test database itself)."""
    attempts: list[Any] = []
    db = make_url(database_url)
    database_address = (db.host, db.port or 5432) if db.host else None
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in DNS:
            address = DNS[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port or 443, 0, 0) if ":" in address else (address, port or 443)
            return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]
        if isinstance(host, str) and host.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "no such name")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def refuse_connect(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[:2] == database_address:
            return real_connect(sock, address)
        attempts.append(address)
        raise ConnectionRefusedError("test: outgoing connections are not allowed")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    return attempts


@pytest.fixture
def strict_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, push_allowed_hosts=ALLOWED)


async def test_hostile_endpoints_are_refused_without_a_request(
    strict_settings: Settings, connections: list[Any]
) -> None:
    assert len(HOSTILE) >= 15
    app = create_app(strict_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            vendor = await Accounts(client).vendor()
            for endpoint in HOSTILE:
                body = make_browser_subscription(endpoint).to_json()
                response = await client.post(
                    "/api/push/subscriptions", json=body, headers=vendor.headers
                )
                assert response.status_code == 422, (endpoint, response.text)
                assert response.json()["code"].startswith("endpoint_"), endpoint
            listed = await client.get("/api/push/subscriptions", headers=vendor.headers)
            assert listed.json() == []
    assert connections == []


async def test_a_public_endpoint_on_an_allowed_host_is_accepted(
    strict_settings: Settings, connections: list[Any]
) -> None:
    app = create_app(strict_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            vendor = await Accounts(client).vendor()
            body = make_browser_subscription("https://ok.push.example.test/x").to_json()
            response = await client.post(
                "/api/push/subscriptions", json=body, headers=vendor.headers
            )
    assert response.status_code == 201, response.text
    assert connections == []


def hostile_job(endpoint: str, key_id: str) -> Job:
    device = make_browser_subscription(endpoint)
    keys = device.to_json()["keys"]
    now = datetime.now(UTC)
    return Job(
        id=1, payload='{"web_push":8030}', urgency="normal", topic=None, created_at=now,
        expires_at=now + timedelta(hours=1), attempts=1, subscription_id=1, endpoint=endpoint,
        p256dh=keys["p256dh"], auth=keys["auth"], key_id=key_id,
    )  # fmt: skip


async def test_send_time_check_refuses_and_never_connects(
    strict_settings: Settings, connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows that got in anyway (rules changed, DNS rebinding) are refused at send time."""
    # The name was public when the subscription was saved; now it points inside.
    monkeypatch.setitem(DNS, "ok.push.example.test", "10.1.2.3")
    keys = KeyStore.load_or_create(strict_settings)
    sender = Sender(strict_settings, keys)
    try:
        for endpoint in [*HOSTILE, "https://ok.push.example.test/rebound"]:
            if ":99999" in endpoint:
                continue
            outcome = await sender.send(hostile_job(endpoint, keys.current.kid))
            assert outcome.kind == "failed", (endpoint, outcome)
            assert outcome.reason is not None and outcome.reason.startswith("endpoint refused")
    finally:
        await sender.close()
    assert connections == []
