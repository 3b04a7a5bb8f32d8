"""The shop integration API: signed, fresh, idempotent events become vendor notifications."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.core.config import Settings
from server.integrations import cli, keys
from server.integrations.models import IntegrationEvent, IntegrationKey
from server.integrations.sealing import UnsealError, unseal
from server.integrations.signature import header
from server.notifications.models import Notification
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Account, Accounts
from tests.preferences.factories import add_device, deliveries
from tests.pushservice import PushService


async def issue_key(app: Any, name: str = "shop") -> tuple[str, str]:
    async with app.state.db.writer() as session:
        key, secret = await keys.issue(session, app.state.secret_key, name)
        await session.commit()
        return key.key_id, secret


def event(vendor: Account | str, event_id: str = "evt_1", **data: Any) -> dict[str, Any]:
    ref = vendor if isinstance(vendor, str) else vendor.id
    base = {"order_ref": "A-1001", "customer": "Ada", "total_cents": 1250, "currency": "EUR"}
    return {"id": event_id, "type": "order.created", "vendor": ref, "data": {**base, **data}}


async def send(
    client: httpx.AsyncClient,
    key: tuple[str, str],
    body: dict[str, Any] | bytes,
    *,
    at: float | None = None,
    secret: str | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    t = int(at if at is not None else time.time())
    headers = {
        "Vendorbell-Key": key[0],
        "Vendorbell-Signature": header(secret or key[1], t, raw),
        "Content-Type": "application/json",
    }
    return await client.post("/api/events", content=raw, headers=headers)


async def stored(app: Any) -> tuple[int, int]:
    """(integration events, notifications) in the database."""
    async with app.state.db.reader() as session:
        events = await session.scalar(select(func.count()).select_from(IntegrationEvent))
        notes = await session.scalar(select(func.count()).select_from(Notification))
    return int(events or 0), int(notes or 0)


async def test_valid_event_notifies_the_vendor_and_queues_pushes(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    await add_device(app, vendor.id)
    key = await issue_key(app)
    r = await send(client, key, event(vendor))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted"
    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert (item["type"], item["event"], item["title"]) == (
        "order",
        "order.created",
        "New order A-1001",
    )
    assert item["body"] == "Ada · €12.50"  # Babel, CLDR
    assert item["id"] == r.json()["notification_id"]
    assert [d["data"]["event"] for d in await deliveries(app, vendor.id)] == ["order.created"]


async def test_vendor_can_be_named_by_email(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    r = await send(client, await issue_key(app), event(vendor.email.upper()))
    assert r.status_code == 201, r.text


async def test_the_same_event_twice_is_accepted_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    first = await send(client, key, event(vendor))
    again = await send(client, key, event(vendor))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "status": "duplicate"}
    assert await stored(app) == (1, 1)


def _rejections(vendor: Account, customer: Account, key: tuple[str, str]) -> list[Any]:
    now = time.time()
    return [
        ("wrong secret", event(vendor), {"secret": "whsec_wrong"}, 401, "invalid_signature"),
        # A minute past the 300 s tolerance either way: the cases run one after another,
        # and "+301" turned valid when a loaded machine took a second to reach it.
        ("stale timestamp", event(vendor), {"at": now - 360}, 401, "stale_timestamp"),
        ("from the future", event(vendor), {"at": now + 360}, 401, "stale_timestamp"),
        ("unknown vendor", event("999999"), {}, 422, "unknown_vendor"),
        ("customer as vendor", event(customer), {}, 422, "unknown_vendor"),
        ("unknown email", event("nobody@example.com"), {}, 422, "unknown_vendor"),
        ("not JSON", b'{"id": "evt_2", ', {}, 422, "malformed_json"),
        ("no id", {"type": "order.created", "vendor": vendor.id}, {}, 422, "invalid_event"),
        ("unknown type", {**event(vendor), "type": "order.exploded"}, {}, 422, "invalid_event"),
        ("bad currency", event(vendor, currency="euro"), {}, 422, "invalid_event"),
    ]


async def test_bad_events_are_refused_and_nothing_is_stored(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    key = await issue_key(app)
    for name, body, options, status, code in _rejections(vendor, customer, key):
        r = await send(client, key, body, **options)
        assert (r.status_code, r.json().get("code")) == (status, code), (name, r.text)
    assert await stored(app) == (0, 0)


async def test_a_reused_event_id_with_another_body_is_refused(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    r = await send(client, key, event(vendor, total_cents=99))
    assert (r.status_code, r.json()["code"]) == (409, "event_id_reused")
    assert await stored(app) == (1, 1)


async def test_missing_or_unknown_key_is_401(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    r = await client.post("/api/events", json=event(vendor))
    assert (r.status_code, r.json()["code"]) == (401, "missing_signature")
    r = await send(client, ("ik_unknown", "whsec_x"), event(vendor))
    assert (r.status_code, r.json()["code"]) == (401, "invalid_key")
    key_id, _ = await issue_key(app)
    r = await client.post(
        "/api/events",
        json=event(vendor),
        headers={"Vendorbell-Key": key_id, "Vendorbell-Signature": "v1=abc"},
    )
    assert (r.status_code, r.json()["code"]) == (401, "malformed_signature")
    assert await stored(app) == (0, 0)


async def test_admins_issue_list_and_revoke_keys(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    admin, vendor = await admin_account(client, settings), await accounts.vendor()
    created = await client.post(
        "/api/admin/integration-keys", json={"name": "Main shop"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    key = (created.json()["key_id"], created.json()["secret"])
    listed = (await client.get("/api/admin/integration-keys", headers=admin.headers)).json()
    assert [k["key_id"] for k in listed] == [key[0]] and "secret" not in listed[0]
    assert (await send(client, key, event(vendor))).status_code == 201
    revoked = await client.delete(f"/api/admin/integration-keys/{key[0]}", headers=admin.headers)
    assert revoked.status_code == 204
    r = await send(client, key, event(vendor, "evt_2"))
    assert (r.status_code, r.json()["code"]) == (401, "invalid_key")
    forbidden = await client.get("/api/admin/integration-keys", headers=vendor.headers)
    assert forbidden.status_code == 403


async def test_secret_is_stored_sealed_and_only_opens_with_this_secret_key(app: Any) -> None:
    key_id, secret = await issue_key(app)
    async with app.state.db.reader() as session:
        row = await session.scalar(select(IntegrationKey).where(IntegrationKey.key_id == key_id))
    assert row is not None and secret not in row.secret_sealed
    assert unseal(app.state.secret_key, key_id, row.secret_sealed) == secret
    with pytest.raises(UnsealError):
        unseal("another-secret-key", key_id, row.secret_sealed)
    with pytest.raises(UnsealError):
        unseal(app.state.secret_key, "ik_other", row.secret_sealed)


async def test_cli_creates_lists_and_revokes_keys(
    app: Any, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    created = await cli.run(settings, argparse.Namespace(action="create", name="POS"))
    key_id = created[0].split()[-1]
    assert key_id.startswith("ik_") and created[1].split()[-1].startswith("whsec_")
    listed = await cli.run(settings, argparse.Namespace(action="list"))
    assert len(listed) == 1 and key_id in listed[0] and "active" in listed[0]
    await cli.run(settings, argparse.Namespace(action="revoke", key=key_id))
    assert "revoked" in (await cli.run(settings, argparse.Namespace(action="list")))[0]


async def vendor_with_a_device(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> tuple[Account, tuple[str, str]]:
    """A vendor whose browser subscribed on the loopback push service, and a shop's key."""
    vendor = await accounts.vendor()
    device = push_service.subscribe()
    r = await client.post("/api/push/subscriptions", json=device.to_json(), headers=vendor.headers)
    assert r.status_code == 201, r.text
    return vendor, await issue_key(app)


async def test_an_event_rings_the_vendors_device_end_to_end(
    worker_app: Any,
    worker_client: httpx.AsyncClient,
    worker_accounts: Accounts,
    push_service: PushService,
) -> None:
    vendor, key = await vendor_with_a_device(
        worker_app, worker_client, worker_accounts, push_service
    )
    assert (await send(worker_client, key, event(vendor))).status_code == 201
    [message] = await push_service.wait_for(1, timeout=15)
    assert message.json["notification"]["title"] == "New order A-1001"
    assert message.headers["Urgency"] == "high"
