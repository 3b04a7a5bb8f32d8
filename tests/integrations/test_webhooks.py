"""Webhooks back to a marketplace, sent to a real loopback receiver: signed, retried,
never to a private address unless allowed, never after a redirect, only the types the
marketplace subscribed to, with one event id however often an event is sent."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update

from server.core.config import Settings
from server.core.db import utcnow
from server.integrations import registry, signature, vendors
from server.integrations.models import Integration
from server.integrations.webhooks import channel as webhooks
from server.integrations.webhooks.models import WebhookDelivery
from server.integrations.webhooks.outbox import WEBHOOKS_QUEUED
from server.integrations.webhooks.sender import EVENT_ID_HEADER, WebhookClient
from server.integrations.webhooks.worker import LEASE, WebhookWorker, claim, deliver_due
from server.notifications.fanout import notify_many
from server.notifications.models import Notification
from server.notifications.service import notify, read_all
from server.push.endpoints import RefusedAddress
from server.push.models import PushDelivery
from server.push.outcomes import record_outcomes
from server.push.sender import Job, Outcome
from tests.conftest import Accounts, make_settings
from tests.integrations.embedding import bearer, register, signed_in
from tests.integrations.webhook_receiver import Receiver, shop
from tests.preferences.factories import add_device
from tests.pushservice import BrowserSubscription


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, webhook_allowed_hosts="127.0.0.1")


async def tell(app: Any, user_id: int, title: str = "New order #1") -> None:
    async with app.state.units.writer() as uow:
        await notify(
            uow, user_id, type="order", event="order.created", title=title, body="2 items", url="/"
        )
        await uow.commit()


async def send_due(app: Any, settings: Settings | None = None) -> int:
    settings = settings or app.state.settings
    client = WebhookClient(settings)
    try:
        return await deliver_due(app.state.units, client, app.state.secret_key)
    finally:
        await client.close()


async def outbox(app: Any) -> list[WebhookDelivery]:
    async with app.state.db.reader() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def make_due(app: Any) -> None:
    """As if the backoff had passed."""
    async with app.state.units.writer() as uow:
        await uow.session.execute(update(WebhookDelivery).values(due_at=utcnow()))
        await uow.commit()


async def test_a_notification_of_a_marketplace_vendor_arrives_signed_and_verifiable(
    app: Any, accounts: Accounts, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    own = await accounts.vendor()  # an own account: no marketplace to tell
    await tell(app, int(own.id))
    await tell(app, market.user_id)
    assert await send_due(app) == 1

    [request] = receiver.received
    signature.verify(
        request.headers[signature.SIGNATURE_HEADER], market.secret, request.body, time.time()
    )
    assert request.headers[signature.KEY_HEADER] == market.key_id
    event = json.loads(request.body)
    assert event["id"].startswith("evt_") and request.headers[EVENT_ID_HEADER] == event["id"]
    assert event["type"] == "notification.created"
    assert event["data"]["sub"] == "v_1"
    assert event["data"]["title"] == "New order #1"
    assert isinstance(event["data"]["notification_id"], int)
    [row] = await outbox(app)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 1, 200)
    with pytest.raises(signature.BadSignature):
        signature.verify(
            request.headers[signature.SIGNATURE_HEADER], "whsec_other", request.body, time.time()
        )


async def test_only_the_types_a_marketplace_subscribed_to_are_queued(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.read", "device.added"))
    await tell(app, market.user_id)
    assert await outbox(app) == []
    assert await send_due(app) == 0
    assert receiver.received == []


async def test_an_answer_of_500_is_retried_later_with_the_same_event_id_until_a_day_has_passed(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    receiver.statuses = [500]
    await tell(app, market.user_id)
    before = utcnow()
    assert await send_due(app) == 1
    [row] = await outbox(app)
    assert (row.status, row.attempts, row.last_status) == ("queued", 1, 500)
    assert row.due_at >= before + timedelta(seconds=15)  # backoff: not at once
    assert await send_due(app) == 0  # not due yet

    await make_due(app)
    assert await send_due(app) == 1
    [row] = await outbox(app)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 2, 200)
    first, second = receiver.received
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"] == row.event_id
    assert first.body == second.body

    receiver.statuses = [503]
    await tell(app, market.user_id, "New order #2")
    async with app.state.units.writer() as uow:  # as if it had been failing for a day
        await uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "queued")
            .values(give_up_at=utcnow() + timedelta(seconds=1))
        )
        await uow.commit()
    assert await send_due(app) == 1
    assert [r.status for r in await outbox(app)] == ["delivered", "failed"]


async def test_a_private_address_is_refused_unless_the_host_is_allowed(
    app: Any, tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    await tell(app, market.user_id)
    strict = make_settings(tmp_path, database_url)  # WEBHOOK_ALLOWED_HOSTS unset
    assert await send_due(app, strict) == 1
    assert receiver.received == []
    [row] = await outbox(app)
    assert row.status == "failed"
    assert row.error == "A webhook URL must be https on port 443."  # 127.0.0.1 is not public
    # A name that resolves to a private address (DNS changed since the URL was checked)
    # is refused where the client connects, from the addresses it resolved.
    client = WebhookClient(strict)
    with pytest.raises(RefusedAddress, match="private address"):
        await client._addresses("localhost", 443)
    await client.close()


async def test_a_redirect_is_not_followed_but_retried_later(app: Any, receiver: Receiver) -> None:
    market = await shop(app, receiver.url("/moved"), ("notification.created",))
    await tell(app, market.user_id)
    assert await send_due(app) == 1
    assert [r.path for r in receiver.received] == ["/moved"]
    [row] = await outbox(app)
    assert (row.status, row.last_status, row.error) == ("queued", 307, "redirect not followed")


async def test_devices_receipts_and_reads_of_a_signed_in_vendor_become_events(
    app: Any, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    market = await register(app)
    async with app.state.units.writer() as uow:
        integration = await uow.session.get(Integration, market.id)
        assert integration is not None
        integration.webhook_url = receiver.url()
        integration.webhook_events = list(registry.WEBHOOK_EVENTS)
        await uow.commit()
    session = await signed_in(client, market, "v_9")
    headers = bearer(session)
    device = BrowserSubscription(
        "http://127.0.0.1:9/push/v9", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
    )
    added = await client.post("/api/push/subscriptions", json=device.to_json(), headers=headers)
    assert added.status_code == 201, added.text
    async with app.state.units.reader() as uow:
        user = await vendors.get(uow, market.id, "v_9")
    await tell(app, user.id)
    page = (await client.get("/api/notifications", headers=headers)).json()
    notification_id = page["items"][0]["id"]
    for event in ("shown", "clicked", "clicked"):  # the second click changes nothing
        reported = await client.post(
            f"/api/notifications/{notification_id}/events", json={"event": event}, headers=headers
        )
        assert reported.status_code == 204, reported.text
    gone = await client.delete(f"/api/push/subscriptions/{added.json()['id']}", headers=headers)
    assert gone.status_code == 204, gone.text

    assert await send_due(app) == 6
    events = sorted((json.loads(r.body) for r in receiver.received), key=lambda e: e["id"])
    by_type = {e["type"]: e["data"] for e in events}
    assert set(by_type) == {
        "device.added",
        "notification.created",
        "notification.shown",
        "notification.clicked",
        "notification.read",
        "device.removed",
    }
    assert (
        by_type["device.added"]
        == by_type["device.removed"]
        == {
            "device_id": int(added.json()["id"]),
            "sub": "v_9",
        }
    )
    assert by_type["notification.read"] == {"notification_id": int(notification_id), "sub": "v_9"}


async def test_push_outcomes_become_delivered_and_failed_events(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.delivered", "notification.failed"))
    phone, laptop = await add_device(app, market.user_id), await add_device(app, market.user_id)
    await tell(app, market.user_id)
    async with app.state.db.reader() as session:
        rows = list(await session.scalars(select(PushDelivery).order_by(PushDelivery.id)))
    jobs = [
        Job(r.id, r.payload, r.urgency, r.topic, r.created_at, r.expires_at, 1,
            r.subscription_id, None, None, None, None)
        for r in rows
    ]  # fmt: skip
    signalled: list[int] = []
    app.state.units.signals[WEBHOOKS_QUEUED].connect(signalled.extend)
    async with app.state.units.writer() as uow:  # what the delivery worker records
        outcomes = [
            Outcome("delivered", 201)
            if job.subscription_id == int(phone)
            else Outcome("failed", 400, "bad payload")
            for job in jobs
        ]
        await record_outcomes(uow.session, list(zip(jobs, outcomes, strict=True)), uow.hooks)
        assert signalled == []  # not before the commit
        await uow.commit()
    # The webhook loop is told the events' rows once they are committed.
    assert sorted(signalled) == [row.id for row in await outbox(app)]

    assert await send_due(app) == 2
    events = {e["type"]: e["data"] for e in (json.loads(r.body) for r in receiver.received)}
    assert events["notification.delivered"]["device_id"] == int(phone)
    [lost] = [r for r in rows if r.subscription_id == int(laptop)]
    assert events["notification.failed"] == {
        "notification_id": lost.notification_id,
        "delivery_id": lost.id,
        "device_id": int(laptop),
        "push_status": 400,
        "reason": "bad payload",
        "sub": "v_1",
    }


async def test_an_event_claimed_by_a_worker_that_died_is_sent_once_its_lease_runs_out(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    await tell(app, market.user_id)
    now = utcnow()
    [lost] = await claim(app.state.units, app.state.secret_key, now)  # then the worker died
    assert await claim(app.state.units, app.state.secret_key, now) == []  # still leased
    assert await send_due(app) == 0
    later = now + LEASE + timedelta(seconds=1)
    [again] = await claim(app.state.units, app.state.secret_key, later)
    assert (again.event_id, again.attempts) == (lost.event_id, 2)
    assert again.body == lost.body


async def test_mark_all_read_tells_the_marketplace_of_each_notification_read(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.read",))
    for n in range(3):
        await tell(app, market.user_id, f"New order #{n}")
    async with app.state.units.writer() as uow:
        assert await read_all(uow, market.user_id) == 3
        await uow.commit()
    assert await send_due(app) == 3
    read = sorted(json.loads(r.body)["data"]["notification_id"] for r in receiver.received)
    async with app.state.db.reader() as session:
        ids = sorted(await session.scalars(select(Notification.id)))
    assert read == ids and len(set(read)) == 3


async def test_a_broadcast_reaches_a_marketplace_vendor_through_every_channel(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    await add_device(app, market.user_id)
    async with app.state.units.writer() as uow:
        written = await notify_many(
            uow, [market.user_id], type="system", event="system.notice",
            title="Maintenance tonight", body="22:00-23:00", url="/notifications",
        )  # fmt: skip
        await uow.commit()
    assert await send_due(app) == 1
    [created] = [json.loads(r.body) for r in receiver.received]
    assert created["type"] == "notification.created"
    assert created["data"]["notification_id"] == written[market.user_id]
    assert created["data"]["title"] == "Maintenance tonight"
    async with app.state.db.reader() as session:
        [push] = await session.scalars(select(PushDelivery))
    assert json.loads(push.payload)["notification"]["navigate"] == (
        "https://shop.example/notifications"  # the marketplace's page, not vendorbell's
    )


async def test_an_event_is_sent_once_committed_not_at_the_next_poll(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("notification.created",))
    worker = WebhookWorker(app.state.units, app.state.secret_key, poll_seconds=3600)
    await worker.start()
    try:
        async with asyncio.timeout(10):
            while worker.rounds < 1:  # its first round found nothing: the next poll is in an hour
                await asyncio.sleep(0.01)
        await tell(app, market.user_id)
        async with asyncio.timeout(10):  # only the commit's signal can start a round this soon
            while worker.rounds < 2:
                await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    [request] = receiver.received
    assert json.loads(request.body)["data"]["title"] == "New order #1"
    [row] = await outbox(app)
    assert (row.status, row.attempts) == ("delivered", 1)


async def test_an_event_written_without_a_unit_of_work_waits_for_the_poll(
    app: Any, receiver: Receiver
) -> None:
    market = await shop(app, receiver.url(), ("device.added",))
    worker = WebhookWorker(app.state.units, app.state.secret_key, poll_seconds=0.2)
    signalled: list[int] = []
    app.state.units.signals[WEBHOOKS_QUEUED].connect(signalled.extend)
    await worker.start()
    try:
        async with app.state.db.writer() as session:  # a plain session: nothing to signal with
            await webhooks.devices_changed(session, "added", [(market.user_id, 9)])
            await session.commit()
        async with asyncio.timeout(10):  # the safety net still sends it
            while not receiver.received:
                await asyncio.sleep(0.02)
    finally:
        await worker.stop()
    assert signalled == []
    assert json.loads(receiver.received[0].body)["data"]["device_id"] == 9
