"""Reading and saving preferences, and the decision the notification service asks for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.bulk import among
from server.core.cache import CacheSpec
from server.core.db import utcnow
from server.core.errors import Invalid
from server.core.unit_of_work import UnitLocal, UnitOfWork
from server.notifications.models import Notification
from server.notifications.preferences import rules
from server.notifications.preferences.models import HeldPush, UserPreferences
from server.notifications.preferences.schemas import (
    ChannelsIO,
    OrderAlertsIO,
    PreferencesIO,
    QuietHoursIO,
)
from server.notifications.types import KINDS

# User id → notification preferences. Saving invalidates.
PREFERENCES: CacheSpec[rules.Preferences] = CacheSpec("preferences", ttl_seconds=60.0)
# Preferences a unit of work read in bulk or wrote: its own view of them, which the
# shared cache cannot give before commit.
UNIT_PREFERENCES: UnitLocal[dict[int, rules.Preferences]] = UnitLocal(dict)


def now() -> datetime:
    """The clock decisions use (tests replace it; nothing here sleeps)."""
    return utcnow()


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _to_rules(row: UserPreferences | None) -> rules.Preferences:
    if row is None:
        return rules.Preferences(types={}, quiet=rules.QuietHours())
    types = {
        name: rules.Channels(
            push=bool(value.get("push", True)),
            inbox=bool(value.get("inbox", True)),
            email=bool(value.get("email", rules.default_channels(name).email)),
        )
        for name, value in (row.types or {}).items()
    }
    quiet = rules.QuietHours(
        enabled=row.quiet_enabled,
        start=row.quiet_start,
        end=row.quiet_end,
        time_zone=row.time_zone,
        orders_ring=row.orders_ring,
    )
    alerts = rules.OrderAlerts(
        repeat_every_seconds=row.order_repeat_seconds, max_repeats=row.order_max_repeats
    )
    return rules.Preferences(types=types, quiet=quiet, alerts=alerts)


async def preload(uow: UnitOfWork, user_ids: Sequence[int]) -> None:
    """Load many users' preferences in one query into this unit (broadcast fan-out)."""
    rows = await uow.session.scalars(
        select(UserPreferences).where(among(uow.session, UserPreferences.user_id, user_ids))
    )
    found = {row.user_id: _to_rules(row) for row in rows}
    # One defaults object for every user without a row (frozen, never changed in place):
    # building one apiece was half of a 500-user broadcast chunk's Python time.
    default = _to_rules(None)
    uow.local(UNIT_PREFERENCES).update({uid: found.get(uid, default) for uid in user_ids})


async def load(uow: UnitOfWork, user_id: int) -> rules.Preferences:
    """The user's preferences: those this unit already read or wrote, else from the
    in-process cache when it is on (server.core.cache), since every notification asks and
    they change only through `save`."""
    known = uow.local(UNIT_PREFERENCES).get(user_id)
    if known is not None:
        return known
    session = uow.session

    async def read() -> rules.Preferences:
        return _to_rules(await session.get(UserPreferences, user_id))

    if uow.caches is None:
        return await read()
    return await uow.caches[PREFERENCES].get_or_load(user_id, read)


def email_offered(type_name: str, role: str) -> bool:
    """Whether an email switch exists for this type and role: the one email there is
    falls back for a vendor's orders (server.orders.alerts.emails)."""
    return role == "vendor" and KINDS[type_name].email


def to_schema(prefs: rules.Preferences, role: str) -> PreferencesIO:
    quiet = prefs.quiet
    return PreferencesIO(
        types={
            name: ChannelsIO(
                push=prefs.channels(name).push,
                inbox=prefs.channels(name).inbox,
                email=prefs.channels(name).email and email_offered(name, role),
            )
            for name in KINDS
        },
        quiet_hours=QuietHoursIO(
            enabled=quiet.enabled,
            start=_hhmm(quiet.start),
            end=_hhmm(quiet.end),
            time_zone=quiet.time_zone,
            orders_ring=quiet.orders_ring,
        ),
        order_alerts=OrderAlertsIO(
            repeat_every_seconds=prefs.alerts.repeat_every_seconds,
            max_repeats=prefs.alerts.max_repeats,
        ),
        email_offered=[name for name in KINDS if email_offered(name, role)],
    )


def _check(body: PreferencesIO, role: str) -> None:
    if not body.types.get("order", ChannelsIO()).inbox:
        raise Invalid("Orders always stay in the inbox.", code="order_inbox_required")
    for name in body.types:
        if body.email_chosen(name) and not email_offered(name, role):
            raise Invalid(
                f"No email is sent for {name} notifications"
                + (" to a vendor" if role == "vendor" else " to a customer")
                + ": only a vendor's orders fall back to email.",
                code="email_not_offered",
            )
    quiet = body.quiet_hours
    try:
        ZoneInfo(quiet.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"{quiet.time_zone!r} is not an IANA time zone (e.g. Europe/Berlin).",
            code="invalid_time_zone",
        ) from exc
    if quiet.enabled and quiet.start == quiet.end:
        raise Invalid(
            "Quiet hours must start and end at different times.", code="empty_quiet_hours"
        )


async def save(uow: UnitOfWork, user_id: int, role: str, body: PreferencesIO) -> rules.Preferences:
    """Replace the user's preferences (types left out go back to the defaults)."""
    _check(body, role)
    session = uow.session
    if uow.caches is not None:
        # Until commit this unit reads what it saved (UNIT_PREFERENCES); after, all read anew.
        uow.caches[PREFERENCES].invalidate(user_id)
        uow.invalidate_after_commit(uow.caches[PREFERENCES], user_id)
    row = await session.get(UserPreferences, user_id)
    if row is None:
        row = UserPreferences(user_id=user_id)
        session.add(row)
    # A type without an email for this role stores it off, whatever a default said.
    row.types = {
        name: {**value.model_dump(), "email": bool(value.email) and email_offered(name, role)}
        for name, value in body.types.items()
    }
    row.quiet_enabled = body.quiet_hours.enabled
    row.quiet_start = _minutes(body.quiet_hours.start)
    row.quiet_end = _minutes(body.quiet_hours.end)
    row.time_zone = body.quiet_hours.time_zone
    row.orders_ring = body.quiet_hours.orders_ring
    row.order_repeat_seconds = body.order_alerts.repeat_every_seconds
    row.order_max_repeats = body.order_alerts.max_repeats
    await session.flush()
    saved = uow.local(UNIT_PREFERENCES)[user_id] = _to_rules(row)
    return saved


async def decide_for(uow: UnitOfWork, user_id: int, *, type: str, event: str) -> rules.Decision:
    """What the notification service does with a new notification for this user."""
    prefs = await load(uow, user_id)
    return rules.decide(prefs, type=type, event=event, now=now())


async def decide_many(
    uow: UnitOfWork, user_ids: Sequence[int], *, type: str, event: str
) -> dict[int, rules.Decision]:
    """`decide_for` for many users: their preferences in one query, one clock reading.

    `rules.decide` is pure and takes microseconds, so a fan-out asks it per user here
    rather than restating the rule (time-zone quiet hours above all) in SQL.
    """
    await preload(uow, user_ids)
    moment, known = now(), uow.local(UNIT_PREFERENCES)
    return {
        user_id: rules.decide(known[user_id], type=type, event=event, now=moment)
        for user_id in user_ids
    }


async def hold(session: AsyncSession, notification: Notification) -> None:
    """Keep the push back until the user's quiet hours end (see
    server.notifications.preferences.digest)."""
    session.add(
        HeldPush(
            user_id=notification.user_id,
            notification_id=notification.id,
            type=notification.type,
            created_at=now(),
        )
    )


async def hold_many(session: AsyncSession, type: str, held: Sequence[tuple[int, int]]) -> None:
    """`hold` for many (user id, notification id) pairs of one type, in one INSERT."""
    if not held:
        return
    created_at = now()
    await session.execute(
        insert(HeldPush),
        [
            {"user_id": u, "notification_id": n, "type": type, "created_at": created_at}
            for u, n in held
        ],
    )
