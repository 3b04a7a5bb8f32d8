"""A worker process killed with SIGKILL between two reminders neither loses nor doubles
the next one: reminder rows are durable, and each is moved on in the transaction that
writes its pushes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from server.core.config import Settings
from server.core.db import utcnow
from server.orders.alerts.emails import emails_for_order
from server.orders.alerts.models import OrderReminder
from server.push.models import PushDelivery
from tests.conftest import Accounts, place_order
from tests.pushservice import PushService

ROOT = Path(__file__).resolve().parents[2]
SPACING = 3  # seconds between reminders, shortened in the row (the API's minimum is 30)


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`python -m server worker`, as an operator starts it, on the test's database."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "KEYS_DIR": str(settings.keys_dir),
        "DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "PUBLIC_URL": settings.public_url,
        "PUSH_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "server", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def all_recorded(app: Any) -> bool:
    async with app.state.db.reader() as session:
        queued = await session.scalar(
            select(PushDelivery.id).where(PushDelivery.status == "queued").limit(1)
        )
    return queued is None


async def settle(app: Any) -> None:
    for _ in range(100):
        if await all_recorded(app):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("outcomes not recorded")


def reminder_numbers(service: PushService) -> list[int]:
    docs = [m.json["notification"] for m in service.received]
    return [d["data"]["reminders"] for d in docs if d["data"]["event"] == "order.reminder"]


@pytest.mark.slow
async def test_a_sigkilled_worker_neither_loses_nor_doubles_the_next_reminder(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    settings: Settings,
    push_service: PushService,
    tmp_path: Path,
) -> None:
    vendor = await accounts.vendor("Corner Bakery")
    customer = await accounts.customer("Alice")
    device = push_service.subscribe()
    added = await client.post(
        "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
    )
    assert added.status_code == 201, added.text
    prefs = {"order_alerts": {"repeat_every_seconds": 30, "max_repeats": 3}}
    assert (await client.put("/api/preferences", json=prefs, headers=vendor.headers)).is_success
    order = await place_order(client, customer, vendor)
    async with app.state.units.writer() as uow:
        await uow.session.execute(
            update(OrderReminder)
            .where(OrderReminder.order_id == int(order["id"]))
            .values(every_seconds=SPACING, next_due_at=utcnow() + timedelta(seconds=SPACING))
        )
        await uow.commit()
    log = tmp_path / "worker.log"

    first = start_worker(settings, log)
    try:
        await push_service.wait_for(2, timeout=30)  # the order, then its first reminder
        await settle(app)  # so the kill cannot leave a sent push unrecorded (resent later)
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
    finally:
        first.kill()
    assert reminder_numbers(push_service) == [1], log.read_text()[-2000:]

    second = start_worker(settings, log)
    try:
        await push_service.wait_for(4, timeout=30)
        await asyncio.sleep(SPACING * 1.5)  # the "unanswered" email is due; no 4th reminder
        await settle(app)
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, log.read_text()[-2000:]
    finally:
        second.kill()

    assert reminder_numbers(push_service) == [1, 2, 3]
    tags = Counter(m.headers["Topic"] for m in push_service.received)
    assert tags == {f"order-{order['id']}": 4}
    async with app.state.units.reader() as uow:
        row = await uow.session.scalar(
            select(OrderReminder).where(OrderReminder.order_id == int(order["id"]))
        )
        emails = await emails_for_order(uow.session, int(order["id"]))
    assert row is not None and (row.sent, row.status) == (3, "done")
    assert [e.reason for e in emails] == ["unanswered"]
