"""The console's Integrations and keys: each integration's keys and webhook health, a
webhook event sent again with its own id, and VAPID keys rotated and retired, counted by
the subscriptions browsers made through the real API. Admins only; no private key or
HMAC secret is ever in an answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from server.core.config import Settings
from server.integrations.webhooks.models import WebhookDelivery
from server.integrations.webhooks.sender import EVENT_ID_HEADER
from server.integrations.webhooks.worker import WebhookWorker
from server.push.keys import KeyStore
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Account, Accounts, make_settings
from tests.integrations.test_webhooks import outbox, send_due, tell
from tests.integrations.webhook_receiver import Receiver, receiver, shop
from tests.pushservice import PushService

__all__ = ["receiver"]  # the loopback marketplace's webhook endpoint (a fixture)

SECRET_MARKERS = ("PRIVATE KEY", "whsec_", "secret")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No background loops: each test runs the webhook worker it needs itself.
    return make_settings(tmp_path, database_url, webhook_allowed_hosts="127.0.0.1")


def no_secrets(response: httpx.Response) -> None:
    for marker in SECRET_MARKERS:
        assert marker not in response.text, marker


async def overview(client: httpx.AsyncClient, admin: Account) -> list[dict[str, Any]]:
    response = await client.get("/api/admin/integrations-overview", headers=admin.headers)
    assert response.status_code == 200, response.text
    no_secrets(response)
    found: list[dict[str, Any]] = response.json()
    return found


async def wait_for(receiver: Receiver, count: int, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while len(receiver.received) < count:
            await asyncio.sleep(0.02)


async def test_a_redelivered_event_reaches_the_marketplace_again_with_the_same_id(
    app: Any, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    receiver.statuses = [500]
    await tell(app, market.user_id)
    assert await send_due(app) == 1
    [row] = await outbox(app)
    assert row.status == "queued"  # a 500: retried later, after a backoff
    admin = await admin_account(client, app.state.settings)

    [integration] = await overview(client, admin)
    hook = integration["webhook"]
    assert (hook["url"], hook["last_status"], hook["queued"]) == (receiver.url(), 500, 1)
    assert [d["event_id"] for d in hook["recent"]] == [row.event_id]
    assert [k["key_id"] for k in integration["hmac_keys"]] == [market.key_id]
    assert integration["allowed_origins"] == ["https://shop.example"]
    path = f"/api/admin/integrations/{integration['id']}/webhook-deliveries/{row.id}/redeliver"
    busy = await client.post(path, headers=admin.headers)
    assert busy.status_code == 409 and busy.json()["code"] == "delivery_queued"

    # A worker that would sleep for a minute: only the redelivery's signal wakes it.
    worker = WebhookWorker(app.state.units, app.state.secret_key, poll_seconds=60.0)
    await worker.start()
    try:
        await asyncio.sleep(0.1)  # its first round finds nothing due yet (backoff)
        assert len(receiver.received) == 1
        async with app.state.units.writer() as uow:  # the retries ran out: failed
            await uow.session.execute(
                update(WebhookDelivery).values(status="failed", error="answered 500")
            )
            await uow.commit()
        [integration] = await overview(client, admin)
        assert integration["webhook"]["failures_last_day"] == 1

        again = await client.post(path, headers=admin.headers)
        assert again.status_code == 200, again.text
        no_secrets(again)
        assert again.json()["event_id"] == row.event_id
        assert again.json()["status"] == "queued"
        await wait_for(receiver, 2)
        async with asyncio.timeout(5):  # and its answer recorded
            while (await outbox(app))[0].status != "delivered":
                await asyncio.sleep(0.02)
    finally:
        await worker.stop()

    first, second = receiver.received
    assert json.loads(second.body)["id"] == json.loads(first.body)["id"] == row.event_id
    assert second.headers[EVENT_ID_HEADER] == row.event_id
    assert second.body == first.body
    [row] = await outbox(app)
    assert (row.status, row.last_status, row.event_id) == (
        "delivered",
        200,
        first.headers[EVENT_ID_HEADER],
    )
    [integration] = await overview(client, admin)
    assert integration["webhook"]["last_status"] == 200
    assert integration["webhook"]["failures_last_day"] == 0

    # Delivered can be sent again too (the marketplace lost it); unknown ids are 404s.
    assert (await client.post(path, headers=admin.headers)).status_code == 200
    for wrong in (
        f"/api/admin/integrations/{integration['id']}/webhook-deliveries/999999/redeliver",
        f"/api/admin/integrations/{integration['id']}/webhook-deliveries/abc/redeliver",
        f"/api/admin/integrations/nope/webhook-deliveries/{row.id}/redeliver",
        f"/api/admin/integrations/{integration['id']}/webhook-deliveries/%C2%B2/redeliver",
        f"/api/admin/integrations/%00/webhook-deliveries/{row.id}/redeliver",
    ):
        missing = await client.post(wrong, headers=admin.headers)
        assert missing.status_code == 404, missing.text
        assert set(missing.json()) == {"detail", "code"}
    # The integration's own page refused a NUL the same way (PostgreSQL cannot store one).
    detail = await client.get("/api/admin/integrations/%00", headers=admin.headers)
    assert detail.status_code == 404 and detail.json()["code"] == "integration_not_found"


async def test_a_vendor_may_not_see_or_change_keys(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    await tell(app, market.user_id)
    [row] = await outbox(app)
    vendor = await accounts.vendor()
    admin = await admin_account(client, app.state.settings)
    [integration] = await overview(client, admin)
    calls = [
        ("GET", "/api/admin/integrations-overview"),
        ("GET", "/api/admin/vapid-keys"),
        ("POST", "/api/admin/vapid-keys/rotate"),
        ("POST", "/api/admin/vapid-keys/retire"),
        (
            "POST",
            f"/api/admin/integrations/{integration['id']}/webhook-deliveries/{row.id}/redeliver",
        ),
    ]
    before = (await client.get("/api/admin/vapid-keys", headers=admin.headers)).json()
    for method, path in calls:
        response = await client.request(method, path, headers=vendor.headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"]
    after = (await client.get("/api/admin/vapid-keys", headers=admin.headers)).json()
    assert after == before  # nothing rotated by the refused calls


async def vapid_keys(client: httpx.AsyncClient, admin: Account) -> dict[str, Any]:
    response = await client.get("/api/admin/vapid-keys", headers=admin.headers)
    assert response.status_code == 200, response.text
    no_secrets(response)
    found: dict[str, Any] = response.json()
    return found


async def test_rotate_then_retire_keeps_keys_in_use_and_counts_subscriptions(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    admin = await admin_account(client, app.state.settings)
    vendor = await accounts.vendor()
    first = await vapid_keys(client, admin)
    [old] = first["keys"]
    assert old["current"] and old["subscriptions"] == 0 and old["created_at"]
    served = (await client.get("/api/push/vapid-public-key")).json()["public_key"]
    assert old["public_key"] == served

    for _ in range(2):  # two browsers subscribe with the key served now
        body = push_service.subscribe().to_json()
        made = await client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
        assert made.status_code == 201, made.text
    assert [k["subscriptions"] for k in (await vapid_keys(client, admin))["keys"]] == [2]

    rotated = await client.post("/api/admin/vapid-keys/rotate", headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    no_secrets(rotated)
    new, kept = rotated.json()["keys"]
    assert new["current"] and not kept["current"]
    assert (kept["kid"], kept["subscriptions"], new["subscriptions"]) == (old["kid"], 2, 0)
    # The API serves the new key at once; a browser subscribing now is counted under it.
    served = (await client.get("/api/push/vapid-public-key")).json()["public_key"]
    assert served == new["public_key"] != old["public_key"]
    body = push_service.subscribe().to_json()
    assert (
        await client.post("/api/push/subscriptions", json=body, headers=vendor.headers)
    ).status_code == 201

    # A second rotation leaves a key that nothing was ever signed with.
    rotated = await client.post("/api/admin/vapid-keys/rotate", headers=admin.headers)
    newest, middle, _oldest = rotated.json()["keys"]
    assert (middle["kid"], middle["subscriptions"]) == (new["kid"], 1)
    retired = await client.post("/api/admin/vapid-keys/retire", headers=admin.headers)
    assert retired.status_code == 200, retired.text
    no_secrets(retired)
    assert retired.json()["retired"] == []  # both old keys still sign subscriptions

    # The vendor's devices go: the old keys are unused, the current one always stays.
    devices = (await client.get("/api/push/subscriptions", headers=vendor.headers)).json()
    for device in devices:
        gone = await client.delete(
            f"/api/push/subscriptions/{device['id']}", headers=vendor.headers
        )
        assert gone.status_code in (200, 204), gone.text
    retired = await client.post("/api/admin/vapid-keys/retire", headers=admin.headers)
    assert sorted(retired.json()["retired"]) == sorted([old["kid"], new["kid"]])
    [left] = retired.json()["keys"]
    assert (left["kid"], left["current"], left["subscriptions"]) == (newest["kid"], True, 0)
    assert [k["kid"] for k in (await vapid_keys(client, admin))["keys"]] == [newest["kid"]]
    assert sorted(p.name for p in Path(app.state.settings.keys_dir).glob("vapid-*.pem")) == [
        f"vapid-{newest['kid']}.pem"
    ]
    again = await client.post("/api/admin/vapid-keys/retire", headers=admin.headers)
    assert again.json()["retired"] == []


async def test_a_rotation_through_the_api_reaches_another_process(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Another process has its own KeyStore over the same KEYS_DIR: it signs with the
    new key from its next look, as after `python -m server keys rotate`."""
    other = KeyStore.load_or_create(app.state.settings)
    before = other.current.kid
    admin = await admin_account(client, app.state.settings)
    await asyncio.sleep(0.01)  # a later mtime on the `current` pointer
    rotated = (await client.post("/api/admin/vapid-keys/rotate", headers=admin.headers)).json()
    new = next(k for k in rotated["keys"] if k["current"])
    assert other.current.kid == new["kid"] != before
    assert other.get(before) is not None  # the old key still signs its subscriptions
