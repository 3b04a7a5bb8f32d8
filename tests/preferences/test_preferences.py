"""Preferences: what rings, what lands in the inbox, quiet hours and their digest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from server.notifications.preferences import service as preferences_service
from server.notifications.preferences.digest import release_held
from server.notifications.types import KINDS, Kind, declare
from server.push.payload import PUSH_TYPES
from tests.conftest import Account, Accounts, place_order
from tests.preferences.factories import add_device, deliveries


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    monkeypatch.setattr(preferences_service, "now", c)
    return c


async def put(client: httpx.AsyncClient, user: Account, body: dict[str, Any]) -> httpx.Response:
    return await client.put("/api/preferences", json=body, headers=user.headers)


async def inbox(client: httpx.AsyncClient, user: Account) -> list[dict[str, Any]]:
    page = await client.get("/api/notifications?status=all", headers=user.headers)
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def pay(client: httpx.AsyncClient, customer: Account, order: dict[str, Any]) -> None:
    r = await client.post(
        f"/api/orders/{order['id']}/payments", json={"amount_cents": 100}, headers=customer.headers
    )
    assert r.status_code in (200, 201), r.text


async def test_defaults_push_and_keep_everything(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    body = (await client.get("/api/preferences", headers=vendor.headers)).json()
    # Email, the fallback channel, is on for orders only.
    assert body["types"] == {
        t: {"push": True, "inbox": True, "email": t == "order"}
        for t in ("order", "payment", "message", "system")
    }
    assert body["quiet_hours"] == {
        "enabled": False,
        "start": "22:00",
        "end": "07:00",
        "time_zone": "UTC",
        "orders_ring": True,
    }


async def test_the_answer_lists_every_declared_type_in_order_for_the_app_to_draw(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    # The PWA keeps no list of types: its filters and settings rows are these keys.
    kind = declare(Kind("shipping", 3600, "low", email=False, digest=lambda lang, n: str(n)))
    try:
        customer = await accounts.customer()
        body = (await client.get("/api/preferences", headers=customer.headers)).json()
    finally:
        del KINDS[kind.name], PUSH_TYPES[kind.name]
    assert list(body["types"]) == ["order", "payment", "message", "system", "shipping"]


async def test_the_answer_names_the_types_with_an_email_switch_and_may_be_sent_back(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    answer = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert answer["email_offered"] == ["order"]  # the one email there is
    listed = await client.get("/api/preferences", headers=customer.headers)
    assert listed.json()["email_offered"] == []
    answer["types"]["payment"]["push"] = False
    answer["email_offered"] = []  # said by the server, ignored when sent
    saved = await put(client, vendor, answer)
    assert saved.status_code == 200, saved.text
    assert saved.json()["email_offered"] == ["order"]
    assert saved.json()["types"]["payment"]["push"] is False


async def test_saved_preferences_come_back(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    body = {
        "types": {"payment": {"push": False, "inbox": True}},
        "quiet_hours": {
            "enabled": True,
            "start": "23:15",
            "end": "06:45",
            "time_zone": "America/New_York",
            "orders_ring": False,
        },
    }
    saved = await put(client, vendor, body)
    assert saved.status_code == 200, saved.text
    again = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert again == saved.json()
    assert again["types"]["payment"] == {"push": False, "inbox": True, "email": False}
    assert again["types"]["order"] == {"push": True, "inbox": True, "email": True}
    assert again["quiet_hours"]["time_zone"] == "America/New_York"


async def test_email_is_saved_per_type_and_left_out_means_the_default(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    body = {
        "types": {
            "order": {"push": True, "inbox": True, "email": False},
            "message": {"push": True, "inbox": True, "email": False},
            "payment": {"push": False, "inbox": True},
        }
    }
    saved = await put(client, vendor, body)
    assert saved.status_code == 200, saved.text
    again = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert {t: c["email"] for t, c in again["types"].items()} == {
        "order": False,
        "payment": False,
        "message": False,
        "system": False,
    }
    await put(client, vendor, {"types": {"order": {"push": True, "inbox": True}}})
    again = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert again["types"]["order"]["email"] is True  # left out: back to the default


async def test_an_email_switch_that_would_do_nothing_is_refused(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """Only a vendor's orders fall back to email: switching email on for messages, or
    for a customer at all, is refused instead of saved and never used."""
    vendor, customer = await accounts.vendor(), await accounts.customer()
    message_email = {"types": {"message": {"push": True, "inbox": True, "email": True}}}
    refused = await put(client, vendor, message_email)
    assert refused.status_code == 422 and refused.json()["code"] == "email_not_offered"
    order_email = {"types": {"order": {"push": True, "inbox": True, "email": True}}}
    refused = await put(client, customer, order_email)
    assert refused.status_code == 422 and refused.json()["code"] == "email_not_offered"
    assert "customer" in refused.json()["detail"]
    # Left out, the default is taken: a customer's order email reads off, not refused.
    left_out = await put(client, customer, {"types": {"order": {"push": True, "inbox": True}}})
    assert left_out.status_code == 200 and left_out.json()["types"]["order"]["email"] is False
    answered = (await client.get("/api/preferences", headers=customer.headers)).json()
    assert all(channels["email"] is False for channels in answered["types"].values())


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"quiet_hours": {"time_zone": "Mars/Olympus_Mons"}}, "invalid_time_zone"),
        ({"quiet_hours": {"time_zone": "../../etc/passwd"}}, "invalid_time_zone"),
        ({"types": {"order": {"push": True, "inbox": False}}}, "order_inbox_required"),
        ({"quiet_hours": {"enabled": True, "start": "08:00", "end": "08:00"}}, "empty_quiet_hours"),
        ({"quiet_hours": {"start": "25:00"}}, "validation_error"),
        ({"types": {"spam": {"push": False}}}, "validation_error"),
    ],
)
async def test_invalid_preferences_are_refused(
    client: httpx.AsyncClient, accounts: Accounts, body: dict[str, Any], code: str
) -> None:
    vendor = await accounts.vendor()
    response = await put(client, vendor, body)
    assert response.status_code == 422
    assert response.json()["code"] == code


async def test_muted_type_keeps_the_inbox_row_but_queues_no_push(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    await put(client, vendor, {"types": {"payment": {"push": False, "inbox": True}}})
    order = await place_order(client, customer, vendor)
    await pay(client, customer, order)
    assert [n["type"] for n in await inbox(client, vendor)] == ["payment", "order"]
    assert [d["data"]["event"] for d in await deliveries(app, vendor.id)] == ["order.created"]


async def test_type_off_everywhere_writes_nothing(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    await put(client, vendor, {"types": {"payment": {"push": False, "inbox": False}}})
    order = await place_order(client, customer, vendor)
    await pay(client, customer, order)
    assert [n["type"] for n in await inbox(client, vendor)] == ["order"]
    assert len(await deliveries(app, vendor.id)) == 1


async def test_push_only_type_rings_but_never_counts_as_unread(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    await put(client, vendor, {"types": {"payment": {"push": True, "inbox": False}}})
    order = await place_order(client, customer, vendor)
    await pay(client, customer, order)
    count = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert count["unread"] == 1 and count["by_type"]["payment"] == 0
    assert len(await deliveries(app, vendor.id)) == 2


async def test_quiet_hours_across_midnight_and_dst_hold_then_release_one_digest_per_type(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, clock: Clock
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    await put(
        client,
        vendor,
        {
            "quiet_hours": {
                "enabled": True,
                "start": "22:00",
                "end": "07:00",
                "time_zone": "Europe/Berlin",
                "orders_ring": False,
            }
        },
    )
    # Berlin moves from CET (+1) to CEST (+2) at 02:00 local on 29 March 2026.
    clock.now = datetime(2026, 3, 28, 21, 30, tzinfo=UTC)  # 22:30 CET
    order = await place_order(client, customer, vendor)
    clock.now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET, after midnight
    await place_order(client, customer, vendor)
    clock.now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, after the change
    await place_order(client, customer, vendor)
    await pay(client, customer, order)
    assert await deliveries(app, vendor.id) == []
    assert len(await inbox(client, vendor)) == 4  # the inbox does not wait

    async def release(at: datetime) -> int:
        async with app.state.units.writer() as uow:
            n = await release_held(uow, at)
            await uow.commit()
        return n

    # 06:59 CEST: still quiet. (05:59 at a fixed +1 offset would agree, 07:30 would not.)
    assert await release(datetime(2026, 3, 29, 4, 59, tzinfo=UTC)) == 0
    assert await release(datetime(2026, 3, 29, 5, 30, tzinfo=UTC)) == 2  # 07:30 CEST
    pushes = await deliveries(app, vendor.id)
    by_event = {p["data"]["event"]: p for p in pushes}
    assert sorted(by_event) == ["order.digest", "payment.received"]  # one held payment: as is
    assert by_event["order.digest"]["title"] == "3 new orders while you were away"
    assert await release(datetime(2026, 3, 29, 6, 0, tzinfo=UTC)) == 0  # released once


async def test_new_orders_ring_in_quiet_hours_when_the_vendor_wants_them(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, clock: Clock
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    quiet = {"enabled": True, "start": "20:00", "end": "08:00", "time_zone": "Asia/Tokyo"}
    await put(client, vendor, {"quiet_hours": {**quiet, "orders_ring": True}})
    clock.now = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
    order = await place_order(client, customer, vendor)
    await pay(client, customer, order)
    assert [d["data"]["event"] for d in await deliveries(app, vendor.id)] == ["order.created"]


async def test_muted_device_gets_no_push_while_the_others_do(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer, other = (
        await accounts.vendor(),
        await accounts.customer(),
        await accounts.vendor(),
    )
    phone, laptop = await add_device(app, vendor.id), await add_device(app, vendor.id)
    muted = await client.patch(
        f"/api/push/subscriptions/{laptop}", json={"muted": True}, headers=vendor.headers
    )
    assert muted.status_code == 200 and muted.json() == {"id": laptop, "muted": True}
    stranger = await client.patch(
        f"/api/push/subscriptions/{phone}", json={"muted": True}, headers=other.headers
    )
    assert stranger.status_code == 404
    await place_order(client, customer, vendor)
    assert [d["subscription_id"] for d in await deliveries(app, vendor.id)] == [phone]


async def test_changed_preferences_apply_to_the_very_next_notification(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """Preferences are cached per process; saving them must not leave the old ones in use."""
    vendor, customer = await accounts.vendor(), await accounts.customer()
    await add_device(app, vendor.id)
    first = await place_order(client, customer, vendor)
    await pay(client, customer, first)  # payments ring: the defaults are read (and kept)
    await put(client, vendor, {"types": {"payment": {"push": False, "inbox": True}}})
    await pay(client, customer, await place_order(client, customer, vendor))
    await put(client, vendor, {"types": {"payment": {"push": True, "inbox": True}}})
    await pay(client, customer, await place_order(client, customer, vendor))
    events = [d["data"]["event"] for d in await deliveries(app, vendor.id)]
    assert events == [
        "order.created", "payment.received", "order.created", "order.created", "payment.received",
    ]  # fmt: skip
