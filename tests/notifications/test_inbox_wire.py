"""The inbox page built from stored wire JSON answers exactly what the ORM and pydantic
rendering answered: same bytes, for every filter, page, state and language."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from server.core.db import utcnow
from server.core.unit_of_work import UnitOfWork, UnitOfWorkFactory
from server.notifications.fanout import notify_many
from server.notifications.inbox import decode_cursor, encode_cursor
from server.notifications.models import Notification
from server.notifications.schemas import NotificationOut, NotificationPage, PushOutcome
from server.notifications.service import notify
from server.notifications.types import KINDS
from server.notifications.wire import MUTABLE_FIELDS, WIRE_FIELDS, wire_of
from server.push.models import DELIVERY_STATES, PushDelivery, PushSubscription
from server.push.outbox import outcomes_for
from tests.conftest import Account, Accounts

TYPES = list(KINDS)
TRICKY = [
    ("en", 'A "quoted" order \\ back\\slash </script><script>alert(1)</script>', "🎉 émoji"),
    ("de", "Neue Bestellung „Müller“ — 2 x Käse, 12,40 €", "Grüße aus Köln\u2028nächste Zeile"),
    ("fr", "Commande « café » de l'été", "Déjà payé : 3,50 € — merci !"),
]


async def _old_answer(
    uow: UnitOfWork, user_id: int, status: str, type: str | None, limit: int, cursor: str | None
) -> str:
    """The inbox page as it was rendered before the wire column: ORM rows, pydantic."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if status == "unread":
        stmt = stmt.where(Notification.read_at.is_(None))
    elif status == "read":
        stmt = stmt.where(Notification.read_at.is_not(None))
    if type:
        stmt = stmt.where(Notification.type == type)
    if cursor:
        stmt = stmt.where(Notification.id < decode_cursor(cursor))
    stmt = stmt.order_by(Notification.id.desc()).limit(limit + 1)
    rows: Sequence[Notification] = (await uow.session.scalars(stmt)).all()
    more, rows = len(rows) > limit, rows[:limit]
    outcomes = await outcomes_for(uow.session, [row.id for row in rows])
    fields = [f for f in NotificationOut.model_fields if f not in ("id", "push")]
    items = [
        NotificationOut.model_construct(
            **{f: getattr(row, f) for f in fields},
            id=str(row.id),
            push=PushOutcome.model_construct(None, **outcomes[row.id]),
        )
        for row in rows
    ]
    next_cursor = encode_cursor(rows[-1].id) if more and rows else None
    return NotificationPage.model_construct(items=items, next_cursor=next_cursor).model_dump_json()


async def _compare_every_page(
    client: httpx.AsyncClient, units: UnitOfWorkFactory, vendor: Account
) -> int:
    """Walks every filter's pages (two sizes); returns how many items it compared."""
    compared = 0
    for status in ("all", "unread", "read"):
        for type in (None, *KINDS):
            for limit in (2, 50):
                cursor: str | None = None
                while True:
                    query: dict[str, Any] = {"status": status, "limit": limit}
                    if type:
                        query["type"] = type
                    if cursor:
                        query["cursor"] = cursor
                    got = await client.get(
                        "/api/notifications", params=query, headers=vendor.headers
                    )
                    assert got.status_code == 200, got.text
                    async with units.reader() as uow:
                        want = await _old_answer(uow, int(vendor.id), status, type, limit, cursor)
                    assert got.text == want, query
                    compared += len(got.json()["items"])
                    cursor = got.json()["next_cursor"]
                    if not cursor:
                        break
    return compared


async def _seed(units: UnitOfWorkFactory, vendor_id: int, other_id: int) -> None:
    """Notifications by `notify` in three languages (one device: a delivery each), a
    broadcast by `notify_many`, and one row written without its wire (before 0023)."""
    now = utcnow()
    async with units.writer() as uow:
        uow.session.add(
            PushSubscription(
                user_id=vendor_id, endpoint="https://push.example/wire-1", p256dh="k",
                auth="a", vapid_key_id="v", created_at=now, updated_at=now,
            )
        )  # fmt: skip
        await uow.session.flush()
        for i, (lang, title, body) in enumerate(TRICKY):
            await notify(
                uow, vendor_id, type=TYPES[i % len(TYPES)], event="wire.test", title=title,
                body=body, url=f"/orders/{i}?a=1&b=\"2\"", lang=lang,
                data={"quote": '"', "path": "C:\\dir\\", "emoji": "🙂", "n": i, "f": 1.5,
                      "nested": {"list": [1, None, "</script>"]}},
            )  # fmt: skip
        await notify_many(
            uow, [vendor_id, other_id], type="system", event="system.broadcast",
            title="Wartung — „heute“ 22 Uhr", body="Über 'alles' \\o/", url="/notifications",
            lang="de",
        )  # fmt: skip
        uow.session.add(
            Notification(
                user_id=vendor_id, type="payment", event="payment.received",
                title="Paiement reçu 💶", body='"old" row', url="/", data={"k": ["v"]},
                lang="fr", created_at=now - timedelta(days=1, microseconds=7),
            )
        )  # fmt: skip
        await uow.commit()


async def test_pages_match_the_orm_rendering(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    units: UnitOfWorkFactory = app.state.units
    vendor, other = await accounts.vendor(), await accounts.vendor()
    await _seed(units, int(vendor.id), int(other.id))
    async with units.reader() as uow:
        wires = (await uow.session.scalars(select(Notification.wire))).all()
    assert sum(wire is None for wire in wires) == 1  # the fallback is exercised
    assert await _compare_every_page(client, units, vendor) > 0

    items = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    await client.post(f"/api/notifications/{items[1]['id']}/read", headers=vendor.headers)
    await client.post("/api/notifications/mark-all-seen", headers=vendor.headers)
    await _set_outcomes(units, [int(item["id"]) for item in items])
    assert await _compare_every_page(client, units, vendor) > 0

    page = (await client.get("/api/notifications", headers=vendor.headers)).json()
    outcomes = [item["push"] for item in page["items"]]
    assert {"queued": 0, "delivered": 1, "failed": 0, "expired": 0} in outcomes
    assert {"queued": 0, "delivered": 1, "failed": 1, "expired": 1} in outcomes

    # `data` changes after creation (an order's reminders and status): the wire follows.
    async with units.writer() as uow:
        for item in items[:2]:
            note = await uow.session.get(Notification, int(item["id"]))
            assert note is not None
            note.data = {**note.data, "reminders": 2, "status": "accepted — ✓"}
        await uow.commit()
    assert await _compare_every_page(client, units, vendor) > 0
    page = (await client.get("/api/notifications", headers=vendor.headers)).json()
    assert page["items"][0]["data"]["reminders"] == 2


async def _set_outcomes(units: UnitOfWorkFactory, ids: list[int]) -> None:
    """Deliveries move on: one delivered; on another, more deliveries in other states."""
    async with units.writer() as uow:
        deliveries = (
            await uow.session.scalars(
                select(PushDelivery).where(PushDelivery.notification_id.in_(ids))
            )
        ).all()
        assert len(deliveries) >= 2
        first, second = deliveries[0], deliveries[1]
        await uow.session.execute(
            update(PushDelivery)
            .where(PushDelivery.id.in_([first.id, second.id]))
            .values(status="delivered")
        )
        for status in ("failed", "expired"):
            uow.session.add(_copy(second, status))
        await uow.commit()


def _copy(delivery: PushDelivery, status: str) -> PushDelivery:
    return PushDelivery(
        notification_id=delivery.notification_id, subscription_id=delivery.subscription_id,
        status=status, payload=delivery.payload, ttl=delivery.ttl, urgency=delivery.urgency,
        topic=delivery.topic, attempts=1, created_at=delivery.created_at,
        due_at=delivery.due_at, expires_at=delivery.expires_at,
    )  # fmt: skip


def test_wire_fields_cover_the_answer_in_order() -> None:
    assert ("id", *WIRE_FIELDS, *MUTABLE_FIELDS) == tuple(NotificationOut.model_fields)
    assert tuple(PushOutcome.model_fields) == DELIVERY_STATES


async def test_migration_backfills_rows_without_wire(app: Any, accounts: Accounts) -> None:
    units: UnitOfWorkFactory = app.state.units
    vendor = await accounts.vendor()
    async with units.writer() as uow:
        await notify(
            uow, int(vendor.id), type="order", event="order.created", title='„x“ \\ "y" 🧾',
            body="</script>", url="/orders/1", lang="de", data={"a": [1, "ü"]},
        )  # fmt: skip
        await uow.session.execute(update(Notification).values(wire=None))
        await uow.commit()
    migration = importlib.import_module("server.migrations.versions.0023_notification_wire")
    async with units.writer() as uow:
        connection = await uow.session.connection()
        await connection.run_sync(migration.backfill)
        await uow.commit()
    async with units.reader() as uow:
        row = (await uow.session.execute(select(Notification, Notification.wire))).one()
        assert row.wire == wire_of(row.Notification)
