"""Two mail workers on one database, and an SMTP server that answers 451 and then stops
answering for longer than a lease: each order's email is still delivered exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.core.config import Settings
from server.mail import outbox
from server.mail.models import OutgoingEmail
from server.mail.outbox import MailWorker
from server.mail.transport import make_transport
from tests.conftest import Accounts, make_settings, place_order
from tests.mail.smtpserver import Mailbox

ORDERS = 20  # one claim takes them all
TIMEOUT = 0.3  # SMTP_TIMEOUT: a stalled reply is given up after this
LEASE = 3.0  # longer than one send (3 SMTP_TIMEOUTs), shorter than the whole stalled batch
STALL = 4.0  # the server stays silent longer than a lease


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: tuple[Mailbox, int]) -> Settings:
    return make_settings(
        tmp_path, database_url, smtp_url=f"smtp://127.0.0.1:{smtp[1]}", smtp_timeout=TIMEOUT
    )


async def statuses(app: Any) -> list[str]:
    async with app.state.units.reader() as uow:
        return list(await uow.session.scalars(select(OutgoingEmail.status)))


async def test_a_server_that_answers_451_then_hangs_gets_each_email_once_from_two_workers(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Retries come back once the server answers again, within the test.
    monkeypatch.setattr(outbox, "BACKOFF_SECONDS", STALL + 1)
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for _ in range(ORDERS):
        await place_order(client, customer, vendor)  # each queues its "no_device" email
    mailbox.replies = ["451 4.3.0 Try again later"]
    mailbox.stall(STALL)
    workers = [
        MailWorker(
            app.state.units,
            make_transport(app.state.settings),  # one SMTP client each, as in two processes
            lease_seconds=LEASE,
            poll_seconds=0.05,
        )
        for _ in range(2)
    ]
    for worker in workers:
        await worker.start()
    try:
        async with asyncio.timeout(60):
            while set(await statuses(app)) != {"sent"}:
                assert "failed" not in await statuses(app)
                await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            await worker.stop()
    assert mailbox.stalled > 0  # the server did hang on some sends
    delivered = Counter(str(message["Message-ID"]) for message in mailbox.messages)
    assert len(delivered) == ORDERS
    assert [ident for ident, n in delivered.items() if n > 1] == []
