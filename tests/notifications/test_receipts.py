"""Receipts without a session: a push's receipt token reports `shown` and `clicked`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server.core.ids import parse_id
from server.push.keys import KeyStore
from server.push.receipts import receipt_device, receipt_token, with_receipt
from server.push.sender import Job, Sender
from tests.conftest import Accounts, place_order

DEVICE = 41


async def first_notification(client: httpx.AsyncClient, vendor: Any) -> dict[str, Any]:
    response = await client.get("/api/notifications", headers=vendor.headers)
    item: dict[str, Any] = response.json()["items"][0]
    return item


def receipt_for(app: Any, notification: dict[str, Any]) -> str:
    notification_id = parse_id(notification["id"])
    assert notification_id is not None
    return receipt_token(app.state.secret_key, notification_id, DEVICE)


async def report(client: httpx.AsyncClient, body: dict[str, str]) -> httpx.Response:
    # As the embed worker sends it: text/plain, no cookie, no Authorization.
    client.cookies.clear()
    return await client.post(
        "/api/notifications/receipts",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
    )


async def test_a_clicked_receipt_without_any_cookie_marks_the_notification_read(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await place_order(client, customer, vendor)
    notification = await first_notification(client, vendor)
    body = {"notification": notification["id"], "receipt": receipt_for(app, notification)}
    assert (await report(client, {**body, "event": "shown"})).status_code == 204
    assert (await report(client, {**body, "event": "clicked"})).status_code == 204
    counts = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert counts["unread"] == 0
    assert (await first_notification(client, vendor))["read_at"] is not None


async def test_a_receipt_for_another_notification_or_forged_is_refused_404(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await place_order(client, customer, vendor)
    await place_order(client, customer, vendor)
    newer, older = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    for body in (
        {"notification": newer["id"], "receipt": receipt_for(app, older)},
        {"notification": newer["id"], "receipt": f"{DEVICE}.{'A' * 32}"},
        {"notification": newer["id"], "receipt": "not a token"},
    ):
        response = await report(client, {**body, "event": "clicked"})
        assert response.status_code == 404, body
        assert response.json()["code"] == "notification_not_found"
    assert (await client.get("/api/notifications/count", headers=vendor.headers)).json()[
        "unread"
    ] == 2


async def test_a_receipt_body_that_is_not_one_is_refused_422(client: httpx.AsyncClient) -> None:
    client.cookies.clear()
    response = await client.post(
        "/api/notifications/receipts", content=b"{", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422


def test_each_device_gets_its_own_receipt_in_the_push_it_is_sent(settings: Any) -> None:
    sender = Sender(settings, KeyStore(settings.data_dir / "keys"))
    now = datetime.now(UTC)
    payload = '{"web_push":8030,"notification":{"title":"Hi","navigate":"https://x/"}}'
    job = Job(
        id=1, payload=payload, urgency="high", topic=None, created_at=now,
        expires_at=now + timedelta(hours=1), attempts=1, subscription_id=DEVICE,
        endpoint="https://push.example/1", p256dh="k", auth="a", key_id="v", notification_id=9,
    )  # fmt: skip
    document = json.loads(sender.payload(job))
    secret = settings.resolved_secret_key()
    assert receipt_device(secret, 9, document["receipt"]) == DEVICE
    assert receipt_device(secret, 10, document["receipt"]) is None
    assert document["notification"]["title"] == "Hi"
    assert with_receipt("not json", "t") == "not json"
