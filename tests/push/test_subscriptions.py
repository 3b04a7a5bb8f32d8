"""Subscriptions API: upsert by endpoint, validation of keys, ownership."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from server.app import create_app
from server.core.db import utcnow
from server.push.models import PushSubscription
from tests.conftest import Accounts, make_settings
from tests.pushservice import PushService


async def test_same_endpoint_again_updates_instead_of_duplicating(
    client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor, other = await accounts.vendor(), await accounts.vendor()
    device = push_service.subscribe()
    first = await client.post(
        "/api/push/subscriptions", json=device.to_json(label="Till"), headers=vendor.headers
    )
    again = await client.post(
        "/api/push/subscriptions/", json=device.to_json(), headers=vendor.headers
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["label"] == "Till"

    handed_over = await client.post(
        "/api/push/subscriptions", json=device.to_json(label="Kiosk"), headers=other.headers
    )
    assert handed_over.status_code == 200
    assert handed_over.json()["id"] == first.json()["id"]
    mine = await client.get("/api/push/subscriptions", headers=vendor.headers)
    theirs = await client.get("/api/push/subscriptions", headers=other.headers)
    assert mine.json() == []
    assert [d["label"] for d in theirs.json()] == ["Kiosk"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ({"p256dh": _b64(b"\x04" + b"\x01" * 64)}, "invalid_p256dh"),  # not on the curve
        ({"p256dh": _b64(b"\x02" + b"\x01" * 32)}, "invalid_p256dh"),  # compressed
        ({"p256dh": "not base64!"}, "invalid_keys"),
        ({"auth": _b64(b"x" * 15)}, "invalid_auth"),
        ({"auth": _b64(b"x" * 32)}, "invalid_auth"),
    ],
)
async def test_bad_keys_are_refused(
    client: httpx.AsyncClient,
    accounts: Accounts,
    push_service: PushService,
    keys: dict[str, str],
    code: str,
) -> None:
    vendor = await accounts.vendor()
    body = push_service.subscribe().to_json()
    body["keys"].update(keys)
    response = await client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
    assert response.status_code == 422
    assert response.json()["code"] == code


async def test_a_nonsense_expiration_time_is_refused(
    client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor = await accounts.vendor()
    body = push_service.subscribe().to_json(expirationTime=10**20)
    response = await client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_expiration")


async def test_only_the_owner_can_delete_a_device(
    client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor, other = await accounts.vendor(), await accounts.vendor()
    body = push_service.subscribe().to_json()
    created = await client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
    path = f"/api/push/subscriptions/{created.json()['id']}"

    assert (await client.delete(path, headers=other.headers)).status_code == 404
    assert (
        await client.delete("/api/push/subscriptions/abc", headers=vendor.headers)
    ).status_code == 404
    assert (await client.delete(path, headers=vendor.headers)).status_code == 204
    assert (await client.get("/api/push/subscriptions", headers=vendor.headers)).json() == []


async def test_subscribing_needs_a_signed_in_user(
    client: httpx.AsyncClient, push_service: PushService
) -> None:
    body = push_service.subscribe().to_json()
    response = await client.post("/api/push/subscriptions", json=body)
    assert response.status_code == 401


async def test_a_browser_subscribing_twice_at_once_gets_one_device(
    client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor = await accounts.vendor()
    body = push_service.subscribe().to_json()
    answers = await asyncio.gather(
        *(
            client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
            for _ in range(4)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1


async def test_a_device_beyond_the_cap_replaces_the_least_recently_used(
    tmp_path: Path, database_url: str, push_service: PushService
) -> None:
    app = create_app(make_settings(tmp_path, database_url, max_devices_per_user=3))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            vendor = await Accounts(client).vendor()
            ids = []
            for n in range(5):
                device = push_service.subscribe().to_json(label=f"Device {n}")
                response = await client.post(
                    "/api/push/subscriptions", json=device, headers=vendor.headers
                )
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
                if n == 1:  # device 0 received a push since: it is in use
                    async with app.state.db.writer() as session:
                        await session.execute(
                            update(PushSubscription)
                            .where(PushSubscription.id == int(ids[0]))
                            .values(last_success_at=utcnow() + timedelta(minutes=1))
                        )
                        await session.commit()
            listed = await client.get("/api/push/subscriptions", headers=vendor.headers)
    assert [d["label"] for d in listed.json()] == ["Device 0", "Device 3", "Device 4"]
