"""Several mail workers on PostgreSQL share the queue: a row is claimed by one of them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.mail.models import OutgoingEmail
from server.mail.outbox import MailWorker
from server.mail.transport import make_transport
from tests.conftest import Accounts, place_order


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """These tests are about row locks: PostgreSQL only."""
    return database_url


async def queued_emails(client: httpx.AsyncClient, accounts: Accounts, n: int) -> list[int]:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for _ in range(n):
        await place_order(client, customer, vendor)  # each queues its "no_device" email
    return list(range(1, n + 1))


def workers(app: Any, n: int) -> list[MailWorker]:
    transport = make_transport(app.state.settings)
    return [MailWorker(app.state.units, transport) for _ in range(n)]


async def test_concurrent_claims_never_take_one_row_twice(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await queued_emails(client, accounts, 30)
    claimers = workers(app, 4)
    claims = await asyncio.gather(*(w.claim(5) for w in claimers for _ in range(3)))
    ids = [row.id for claim in claims for row in claim]
    assert len(ids) == len(set(ids)) == 30


async def test_a_row_locked_by_one_worker_is_skipped_by_another(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    await queued_emails(client, accounts, 3)
    [other] = workers(app, 1)
    async with app.state.units.writer() as holder:
        # A claim in progress elsewhere: row 1 is locked until this transaction ends.
        locked = await holder.session.scalar(
            select(OutgoingEmail.id).where(OutgoingEmail.id == 1).with_for_update()
        )
        assert locked == 1
        claimed = await asyncio.wait_for(other.claim(10), timeout=5)  # no waiting on the lock
        assert sorted(row.id for row in claimed) == [2, 3]
        await holder.rollback()
    assert [row.id for row in await other.claim(10)] == [1]
