"""Set-based fan-out writes what a loop of notify() writes, row for row, byte for byte.

Run on SQLite and on PostgreSQL (the `database_url` fixture): the two take their sets of
rows differently (server.core.bulk: a bound VALUES list, or one array per column), and
each must match the per-user path."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from server.accounts.models import User
from server.core.unit_of_work import UnitOfWork
from server.notifications import inbox
from server.notifications.counts import COUNTS
from server.notifications.fanout import notify_many
from server.notifications.models import Notification
from server.notifications.preferences import service as preferences_service
from server.notifications.preferences.models import HeldPush, UserPreferences
from server.notifications.service import notify
from server.push.models import PushDelivery, PushSubscription
from server.push.outbox import DELIVERIES_QUEUED
from server.realtime.hub import Event

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo: inside 20:00-08:00
SYSTEM_OFF = {"system": {"push": False, "inbox": False}}
PUSH_ONLY = {"system": {"push": True, "inbox": False}}
INBOX_ONLY = {"system": {"push": False, "inbox": True}}
QUIET = {
    "quiet_enabled": True,
    "quiet_start": 20 * 60,
    "quiet_end": 8 * 60,
    "time_zone": "Asia/Tokyo",
}
# name: (preferences row or None, subscriptions as muted flags, unread and unseen rows before)
PROFILES: dict[str, tuple[dict[str, Any] | None, tuple[bool, ...], int]] = {
    "defaults": (None, (False,), 0),
    "system off": ({"types": SYSTEM_OFF}, (False,), 0),
    "push only": ({"types": PUSH_ONLY}, (False, False), 2),
    "inbox only": ({"types": INBOX_ONLY}, (False,), 1),
    "quiet hours": ({"types": {}, **QUIET}, (False,), 0),
    "quiet, push only": ({"types": PUSH_ONLY, **QUIET}, (False,), 0),
    "one muted of two": (None, (True, False), 0),
    "all muted": (None, (True, True), 0),
    "three devices": (None, (False, False, False), 4),
    "no device": (None, (), 0),
    "unread before": (None, (False,), 7),
}
SHORT = 'The marketplace is read-only from 02:00 to 02:30 UTC. <b>&</b> "quotes"'
LONG = "Wartung für alle Verkäufer: " + "Größe € " * 400  # over a record: cut to fit


@dataclass(eq=False)
class Recorder:
    """A socket as the hub sees it, keeping what it is sent."""

    user_id: int
    token_digest: str = "test"
    events: list[Event] = field(default_factory=list)

    def deliver(self, event: Event) -> None:
        self.events.append(event)

    def keepalive(self, now: float) -> None:
        pass

    def close(self, code: int) -> None:
        pass


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preferences_service, "now", lambda: NOON)


async def add_profiles(app: Any) -> dict[str, int]:
    """One user per profile, straight in the database; name → user id."""
    async with app.state.db.writer() as session:
        ids = list(
            await session.scalars(
                insert(User).returning(User.id, sort_by_parameter_order=True),
                [
                    {
                        "email": f"p{i}@example.com",
                        "name": name,
                        "role": "vendor",
                        "password_hash": "x",
                    }
                    for i, name in enumerate(PROFILES)
                ],
            )
        )
        users = dict(zip(PROFILES, ids, strict=True))
        for name, (prefs, devices, unread) in PROFILES.items():
            uid = users[name]
            if prefs is not None:
                session.add(UserPreferences(user_id=uid, **prefs))
            for d, muted in enumerate(devices):
                endpoint = f"http://127.0.0.1:9/{uid}/{d}"
                session.add(
                    PushSubscription(
                        user_id=uid,
                        endpoint=endpoint,
                        p256dh="BPx",
                        auth="a",
                        vapid_key_id="k",
                        muted=muted,
                    )
                )
            for n in range(unread):  # every other one already seen: unread and unseen differ
                seen = NOON if n % 2 else None
                session.add(
                    Notification(
                        user_id=uid,
                        type="order",
                        event="order.created",
                        title="t",
                        body="b",
                        url="/",
                        seen_at=seen,
                    )
                )
        await session.commit()
    return users


Path = Callable[[UnitOfWork, Sequence[int], str], Awaitable[dict[int, int]]]


async def per_user(uow: UnitOfWork, user_ids: Sequence[int], body: str) -> dict[int, int]:
    """The reference: what broadcasts did before, one notify() per recipient."""
    await preferences_service.preload(uow, user_ids)
    sent = {}
    for user_id in user_ids:
        notification = await notify(uow, user_id, **broadcast(body))
        if notification.id is not None:
            sent[user_id] = notification.id
    return sent


async def set_based(uow: UnitOfWork, user_ids: Sequence[int], body: str) -> dict[int, int]:
    return await notify_many(uow, user_ids, **broadcast(body))


def broadcast(body: str) -> dict[str, Any]:
    return {
        "type": "system",
        "event": "system.broadcast",
        "title": "Maintenance tonight " + "x" * 190,  # notify cuts titles at 200
        "body": body,
        "url": "/notifications?tab=system",
        "data": {"broadcast_id": "42"},
        "lang": "de",  # the admin's language, whatever the recipients read
    }


def normal_payload(payload: str, notification_id: int) -> str:
    """The payload with its notification id (tag, data.id) replaced, every byte else kept."""
    tag, key = f'"tag":"system-{notification_id}"', f'"id":"{notification_id}"'
    assert tag in payload and key in payload
    return payload.replace(tag, '"tag":"system-N"').replace(key, '"id":"N"')


async def run(app: Any, users: dict[str, int], path: Path, body: str) -> dict[str, Any]:
    """Send through `path` in one committed unit; everything it wrote and published,
    keyed by profile name, without the ids and timestamps that must differ."""
    units = app.state.units
    names = {uid: name for name, uid in users.items()}
    recorders = [Recorder(uid) for uid in users.values()]
    for recorder in recorders:
        await units.hub.subscribe(recorder)
    signalled: list[int] = []
    units.signals[DELIVERIES_QUEUED].connect(signalled.extend)
    async with units.reader() as uow:  # warm the counts cache: a new notification drops it
        for uid in users.values():
            await inbox.cached_counts(uow, uid)
    async with units.writer() as uow:
        sent = await path(uow, list(users.values()), body)
        await uow.commit()
    units.signals[DELIVERIES_QUEUED].disconnect(signalled.extend)
    for recorder in recorders:
        await units.hub.unsubscribe(recorder)
    async with app.state.db.writer() as session:
        rows = (
            await session.scalars(
                select(Notification).where(Notification.event == "system.broadcast")
            )
        ).all()
        deliveries = (
            await session.execute(select(PushDelivery, Notification.user_id).join(Notification))
        ).all()
        held = (await session.scalars(select(HeldPush))).all()
        counts = {names[uid]: await inbox.read_counts(session, uid) for uid in users.values()}
        await session.execute(delete(Notification).where(Notification.event == "system.broadcast"))
        await session.commit()
    assert sent == {n.user_id: n.id for n in rows}
    assert sorted(signalled) == sorted(d.id for d, _ in deliveries)
    return {
        "notifications": {
            names[n.user_id]: (
                (n.type, n.event, n.title, n.body, n.url, n.data, n.lang),
                (n.seen_at is None, n.read_at is None, n.seen_at == n.read_at),
            )
            for n in rows
        },
        "deliveries": sorted(
            (
                names[uid],
                d.subscription_id,
                (d.status, d.ttl, d.urgency, d.topic, d.attempts, d.due_at == d.created_at),
                (d.expires_at - d.created_at).total_seconds(),
                normal_payload(d.payload, d.notification_id),
            )
            for d, uid in deliveries
        ),
        "held": sorted((names[h.user_id], h.type, h.created_at) for h in held),
        "counts": counts,
        "live": {names[r.user_id]: [live_message(e) for e in r.events] for r in recorders},
        "counts cache dropped": sorted(
            names[uid] for uid in users.values() if units.caches[COUNTS].get(uid) is None
        ),
    }


def live_message(event: Event) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(event.text)
    for key in ("id", "created_at"):
        message["notification"].pop(key)
    return message


@pytest.mark.parametrize("body", [SHORT, LONG], ids=["short", "long"])
async def test_set_based_fan_out_writes_what_notify_writes(app: Any, body: str) -> None:
    users = await add_profiles(app)
    before = await run(app, users, per_user, body)
    after = await run(app, users, set_based, body)
    assert after == before
    # And what both wrote is what each profile asks for.
    assert set(before["notifications"]) == set(PROFILES) - {"system off"}
    pushed = {name for name, *_ in before["deliveries"]}
    assert pushed == {"defaults", "push only", "one muted of two", "three devices", "unread before"}
    assert [name for name, *_ in before["held"]] == ["quiet hours", "quiet, push only"]
    assert set(before["live"]) == set(PROFILES) and not before["live"]["push only"]
    badges = {name: json.loads(payload)["app_badge"] for name, *_, payload in before["deliveries"]}
    assert (badges["defaults"], badges["push only"], badges["unread before"]) == (1, 1, 5)
    langs = {json.loads(payload)["notification"]["lang"] for *_, payload in before["deliveries"]}
    assert langs == {"de"}
    shown = {json.loads(payload)["notification"]["body"] for *_, payload in before["deliveries"]}
    if body == LONG:  # cut to one record the same way, whatever the badge's digits
        assert all(b.endswith("…") for b in shown)
    else:
        assert shown == {body}
