"""The console's Activity tells an admin why a vendor did (not) hear of a notification:
a real order pushed by the real worker to three devices (one answers 410 and is pruned),
a message held by quiet hours, an email the mail server refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from server.console import activity as console_activity
from server.core.db import utcnow
from server.mail.schemas import EmailOut
from server.notifications.preferences.digest import release_held
from server.orders.alerts.emails import emails_for_order, queue_order_email
from server.orders.service import load_order
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Account, Accounts, place_order
from tests.mail.smtpserver import Mailbox
from tests.pushservice import PushService


def quiet_hours_now() -> dict[str, Any]:
    """Quiet hours from an hour ago to an hour from now (UTC): the real clock is inside,
    so what was held can be told from when it was created."""
    now = utcnow()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    return {
        "enabled": True,
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "time_zone": "UTC",
    }


async def settled(client: httpx.AsyncClient, vendor: Account) -> None:
    """Until the worker has recorded every push outcome of the vendor's notifications."""
    for _ in range(500):
        items = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
        if items and all(item["push"]["queued"] == 0 for item in items):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("push outcomes not recorded")


async def failed_email(app: Any, order_id: str) -> EmailOut:
    for _ in range(500):
        async with app.state.units.reader() as uow:
            emails = await emails_for_order(uow.session, int(order_id))
        if emails and emails[0].status != "queued":
            return emails[0]
        await asyncio.sleep(0.02)
    raise AssertionError("the email was not tried")


@pytest.fixture
async def story(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    push_service: PushService,
    mailbox: Mailbox,
) -> dict[str, Any]:
    """A vendor with three devices; an order rings them (the iPhone's subscription is
    gone: 410); its "unanswered" email is refused; a message waits for the quiet hours."""
    vendor = await accounts.vendor("Corner Bakery")
    customer = await accounts.customer("Alice")
    quiet = quiet_hours_now()
    body = {"quiet_hours": quiet}  # new orders still ring (orders_ring, the default)
    assert (await client.put("/api/preferences", json=body, headers=vendor.headers)).is_success
    devices = {label: push_service.subscribe() for label in ("iPhone", "Pixel", "Laptop")}
    push_service.answer(devices["iPhone"], 410)
    for label, device in devices.items():
        response = await client.post(
            "/api/push/subscriptions", json=device.to_json(label=label), headers=vendor.headers
        )
        assert response.status_code == 201, response.text
    order = await place_order(client, customer, vendor)
    await push_service.wait_for(2, timeout=15)
    await settled(client, vendor)

    mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
    async with app.state.units.writer() as uow:
        assert await queue_order_email(
            uow, await load_order(uow.session, int(order["id"])), "unanswered"
        )
        await uow.commit()
    assert (await failed_email(app, order["id"])).status == "failed"

    message = await client.post(
        f"/api/orders/{order['id']}/messages",
        json={"body": "Gluten free?"},
        headers=customer.headers,
    )
    assert message.status_code == 201, message.text
    admin = await admin_account(client, app.state.settings)
    return {"vendor": vendor, "customer": customer, "order": order, "admin": admin, "quiet": quiet}


async def activity(client: httpx.AsyncClient, admin: Account, **params: Any) -> httpx.Response:
    return await client.get("/api/admin/activity", params=params, headers=admin.headers)


async def test_the_timeline_and_sentence_name_each_reason(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    vendor, admin = story["vendor"], story["admin"]
    response = await activity(client, admin, q=vendor.email)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["user"]["id"] == vendor.id and page["user"]["name"] == "Corner Bakery"
    held, order = page["items"]
    assert (held["type"], order["event"]) == ("message", "order.created")

    assert held["sentence"].startswith("The push is held by quiet hours"), held["sentence"]
    [hold] = [e for e in held["timeline"] if e["kind"] == "held"]
    quiet = story["quiet"]
    assert f"{quiet['start']} to {quiet['end']} (UTC)" in hold["text"]
    assert held["failed"] is False

    sentence = order["sentence"]
    assert sentence.startswith("Delivered to 2 of 3 devices; "), sentence
    assert "the subscription of a removed device expired on" in sentence
    assert "(410) and was removed" in sentence
    assert sentence.endswith("the email failed: the mail server refused the message.")
    assert order["failed"] is True
    pushes = [e for e in order["timeline"] if e["kind"] == "push"]
    delivered = {e["device"]["label"] for e in pushes if e["status"] == "delivered"}
    assert delivered == {"Pixel", "Laptop"}
    assert all(e["device"]["service"] == "127.0.0.1" for e in pushes if e["device"]["known"])
    assert all(
        e["latency_ms"] is not None and e["latency_ms"] >= 0
        for e in pushes
        if e["status"] == "delivered"
    )
    [gone] = [e for e in pushes if e["status"] == "failed"]
    assert (gone["status_code"], gone["pruned"], gone["device"]["known"]) == (410, True, False)
    assert gone["device"]["label"] is None  # deleted with the subscription: not invented
    assert "its name was not kept" in gone["text"]
    [email] = [e for e in order["timeline"] if e["kind"] == "email"]
    assert (email["status"], email["error"]) == ("failed", "the mail server refused the message")
    # The server's own reply ("550 5.1.1 Mailbox unavailable") stays in the logs. Not a
    # bare "550": a timestamp's microseconds may hold those digits.
    assert "Mailbox unavailable" not in response.text and "5.1.1" not in response.text
    [reminder] = [e for e in order["timeline"] if e["kind"] == "reminder"]
    assert reminder["status"] == "active"
    kinds = [e["kind"] for e in order["timeline"]]
    assert kinds[0] == "created" and "decision" in kinds


async def test_the_sentence_is_in_the_admin_s_language(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    admin = story["admin"]
    await client.patch("/api/me", json={"locale": "de"}, headers=admin.headers)
    page = (await activity(client, admin, q=story["vendor"].id, failed_only="true")).json()
    [order] = page["items"]
    assert order["sentence"].startswith("An 2 von 3 Geräten zugestellt"), order["sentence"]
    assert "(410)" in order["sentence"]


async def test_filters_and_pages_by_cursor(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    admin, vendor, order = story["admin"], story["vendor"], story["order"]
    first = (await activity(client, admin, q=vendor.email, limit=1)).json()
    assert [i["type"] for i in first["items"]] == ["message"] and first["next_cursor"]
    second = (
        await activity(client, admin, q=vendor.email, limit=1, cursor=first["next_cursor"])
    ).json()
    assert [i["event"] for i in second["items"]] == ["order.created"]
    assert second["next_cursor"] is None

    failed = (await activity(client, admin, q=vendor.email, failed_only="true")).json()
    assert [i["event"] for i in failed["items"]] == ["order.created"]
    typed = (await activity(client, admin, q=vendor.email, type="message")).json()
    assert [i["type"] for i in typed["items"]] == ["message"]
    by_order = (await activity(client, admin, order=order["id"])).json()
    assert {i["user_id"] for i in by_order["items"]} == {vendor.id}
    assert len(by_order["items"]) == 2
    one = (await activity(client, admin, notification=second["items"][0]["id"])).json()
    assert [i["id"] for i in one["items"]] == [second["items"][0]["id"]]
    later = (await activity(client, admin, q=vendor.email, since="2100-01-01T00:00:00Z")).json()
    assert later["items"] == [] and later["user"]["id"] == vendor.id


async def test_a_name_shared_by_several_users_lists_them(
    client: httpx.AsyncClient, accounts: Accounts, story: dict[str, Any]
) -> None:
    await accounts.vendor("Corner Shop")
    page = (await activity(client, story["admin"], q="corner")).json()
    assert page["items"] == [] and page["user"] is None
    assert {m["name"] for m in page["matches"]} == {"Corner Bakery", "Corner Shop"}


async def test_only_an_admin_may_ask(client: httpx.AsyncClient, story: dict[str, Any]) -> None:
    vendor = story["vendor"]
    refused = await activity(client, vendor, q=vendor.email)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Only administrators can do this.", "code": "admin_only"}
    client.cookies.clear()  # the admin's sign-in left its cookie on the shared client
    anonymous = await client.get("/api/admin/activity", params={"q": vendor.email})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, "search_required"),
        ({"q": "nobody-like-this@example.com"}, 404, "user_not_found"),
        ({"notification": "999999"}, 404, "notification_not_found"),
        ({"order": "999999"}, 404, "order_not_found"),
        ({"notification": "12a"}, 422, "invalid_id"),
        ({"q": "x", "limit": "0"}, 422, "validation_error"),
        ({"q": "x", "limit": "101"}, 422, "validation_error"),
        ({"q": "x", "type": "parcel"}, 422, "validation_error"),
        ({"q": "x", "cursor": "not-ours"}, 422, "invalid_cursor"),
        (
            {"q": "x", "since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            422,
            "invalid_range",
        ),
        ({"q": "x", "since": "yesterday"}, 422, "validation_error"),
        ({"q": "x", "tz": "Mars/Olympus_Mons"}, 422, "invalid_time_zone"),
        ({"q": "a\x00b"}, 422, "validation_error"),
    ],
)
async def test_bad_input_is_a_4xx_json_answer(
    client: httpx.AsyncClient,
    accounts: Accounts,
    app: Any,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    vendor = await accounts.vendor()  # `q` finds one: the other parameters are refused
    admin = await admin_account(client, app.state.settings)
    params = {k: vendor.id if v == "x" else v for k, v in params.items()}
    response = await activity(client, admin, **params)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def test_a_push_held_then_released_says_when_it_went(
    app: Any, client: httpx.AsyncClient, story: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A release seconds later stands for one hours later: the wait that tells them apart.
    monkeypatch.setattr(console_activity, "RELEASED_AFTER", timedelta(0))
    async with app.state.units.writer() as uow:
        assert await release_held(uow, utcnow() + timedelta(hours=3)) == 1
        await uow.commit()
    await settled(client, story["vendor"])
    page = await activity(client, story["admin"], q=story["vendor"].id, type="message")
    [held] = page.json()["items"]
    assert held["sentence"].startswith("Held by quiet hours until "), held["sentence"]
    assert "; delivered to 2 of 2 devices." in held["sentence"]
    [hold] = [e for e in held["timeline"] if e["kind"] == "held"]
    assert hold["status"] == "released" and "then sent at" in hold["text"]


async def test_without_the_wait_a_push_is_told_as_sent_at_once(
    app: Any, client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    page = await activity(client, story["admin"], q=story["vendor"].id, type="order")
    [order] = page.json()["items"]
    decisions = [e["text"] for e in order["timeline"] if e["kind"] == "decision"]
    assert "Push sent at once" in decisions  # a new order rings in the quiet hours too
