"""Order numbers per vendor: "#1" is each vendor's first order.

One statement takes the next number: an upsert of the vendor's counter row that returns
it. On PostgreSQL the row lock serializes concurrent orders to one vendor (other
vendors' orders never wait), on SQLite the write lock does; taken inside the order's
transaction (or its savepoint), a rolled-back order gives its number back.
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.orders.models import OrderCounter


async def next_number(session: AsyncSession, vendor_id: int) -> int:
    """The number of the vendor's next order, counted in the caller's transaction."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgresql else sqlite_insert
    statement = (
        insert(OrderCounter)
        .values(vendor_id=vendor_id, last_number=1)
        .on_conflict_do_update(
            index_elements=[OrderCounter.vendor_id],
            set_={"last_number": OrderCounter.last_number + 1},
        )
        .returning(OrderCounter.last_number)
    )
    number: int = (await session.execute(statement)).scalar_one()
    return number
