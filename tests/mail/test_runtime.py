"""The mail loop as the runtime runs it: woken by the signal of an order's commit, and
across processes through the Redis signal relay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.core.config import Settings
from server.mail.signals import EMAILS_QUEUED
from server.orders.alerts.emails import emails_for_order
from tests.conftest import Accounts, place_order
from tests.core.test_signals import relayed, send_until_heard
from tests.mail.smtpserver import Mailbox


@pytest.fixture
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    """The app of role "all": its runtime runs the mail loop (which polls only every 5 s)."""
    app: Any = create_app(settings.model_copy(update={"run_worker": True}))
    async with app.router.lifespan_context(app):
        assert "mail" in app.state.runtime.running
        yield app


async def wait_for(mailbox: Mailbox, count: int, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while len(mailbox.messages) < count:
            await asyncio.sleep(0.02)


async def test_an_order_for_a_vendor_without_devices_is_emailed_at_once(
    running_app: Any, mailbox: Mailbox
) -> None:
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        accounts = Accounts(client)
        vendor = await accounts.vendor("Corner Bakery")
        customer = await accounts.customer("Alice")
        order = await place_order(client, customer, vendor)
        await wait_for(mailbox, 1)  # woken by the commit's signal, not the 5 s poll
    [message] = mailbox.messages
    assert message["Subject"] == f"New order #{order['id']} from Alice — 3 items, €9.20"
    assert message["To"] == vendor.email
    async with asyncio.timeout(3):  # the outcome is recorded just after the send
        while True:
            async with running_app.state.units.reader() as uow:
                [email] = await emails_for_order(uow.session, int(order["id"]))
            if email.status != "queued":
                break
            await asyncio.sleep(0.02)
    assert (email.reason, email.status) == ("no_device", "sent")


@pytest.mark.redis
async def test_email_signals_cross_processes_through_redis(
    redis_url: str,
    channel: str,
) -> None:
    heard: list[list[int]] = []
    async with relayed(redis_url, channel) as (api, worker):
        worker[EMAILS_QUEUED].connect(heard.append)
        await send_until_heard(lambda: api[EMAILS_QUEUED].send([7, 8]), heard)
    assert heard[0] == [7, 8]
