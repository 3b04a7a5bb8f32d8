"""Order figures of the summary: how a vendor's orders created in a range were answered.

Two grouped reads, whatever the number of orders: the counts, and the one or two middle
times to accept (as server.analytics.service takes the median time to read).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.analytics.schemas import OrderFigures
from server.analytics.timestamps import micros_between
from server.mail.models import OutgoingEmail
from server.orders.alerts.models import OrderReminder
from server.orders.models import Order
from server.push.models import PushDelivery

# An order never accepted has no acceptance time and cannot get one any more; one still
# pending may yet be accepted, so it is counted apart ("1 never accepted" for an order a
# minute old would contradict its own page). Orders placed before acceptance times were
# stored (NULL) but moved past `accepted` count as accepted, though not in the median.
_NEVER_ACCEPTED = Order.accepted_at.is_(None) & Order.status.in_(("rejected", "cancelled"))
_WAITING = Order.status == "pending"


def _in_range(vendor_id: int, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Order.vendor_id == vendor_id, Order.created_at >= start, Order.created_at < end)


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


async def order_figures(
    session: AsyncSession, vendor_id: int, start: datetime, end: datetime
) -> OrderFigures:
    """The figures of the vendor's orders created in [start, end)."""
    in_range = _in_range(vendor_id, start, end)
    # Rung again: reminder rounds passed and the order's push rang some device (rounds
    # without a device ring nothing, as its order page says).
    rang = (
        select(PushDelivery.id)
        .where(PushDelivery.notification_id == OrderReminder.notification_id)
        .where(PushDelivery.urgency == "high")
        .exists()
    )
    emailed = (
        select(OutgoingEmail.id)
        .where(OutgoingEmail.order_id == Order.id, OutgoingEmail.status == "sent")
        .exists()
    )
    counts = (
        select(
            func.count(),
            func.count(Order.accepted_at),
            _counted((OrderReminder.sent > 0) & rang),
            _counted(emailed),
            _counted(_NEVER_ACCEPTED),
            _counted(_WAITING),
        )
        .select_from(Order)
        .outerjoin(OrderReminder, OrderReminder.order_id == Order.id)
        .where(*in_range)
    )
    received, accepted, reminded, emailed_n, never, waiting = (await session.execute(counts)).one()
    return OrderFigures(
        orders_received=received,
        orders_accepted=accepted,
        median_seconds_to_accept=await _median_seconds_to_accept(session, in_range),
        orders_reminded=reminded,
        orders_emailed=emailed_n,
        orders_never_accepted=never,
        orders_waiting=waiting,
    )


async def _median_seconds_to_accept(
    session: AsyncSession, in_range: tuple[ColumnElement[bool], ...]
) -> float | None:
    dialect = session.get_bind().dialect.name
    micros = micros_between(Order.accepted_at, Order.created_at, dialect)
    ranked = (
        select(
            micros.label("micros"),
            func.row_number().over(order_by=micros).label("n"),
            func.count().over().label("count"),
        )
        .where(*in_range, Order.accepted_at.is_not(None))
        .subquery()
    )
    # The middle one of an odd count (2n = count + 1), the middle two of an even one.
    middle = select(ranked.c.micros).where(
        (2 * ranked.c.n).between(ranked.c.count, ranked.c.count + 2)
    )
    seconds = [us / 10**6 for us in await session.scalars(middle)]
    return sum(seconds) / len(seconds) if seconds else None
