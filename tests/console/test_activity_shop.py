"""A marketplace's order: its email row names no order, only the order's key inside its
Message-ID; the console still tells it with the order's notification."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from server.mail.models import OutgoingEmail
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Accounts
from tests.integrations.test_events import event, issue_key, send
from tests.mail.smtpserver import Mailbox


async def settled_email(app: Any, expected: str) -> None:
    for _ in range(500):
        async with app.state.units.reader() as uow:
            status = await uow.session.scalar(select(OutgoingEmail.status))
        if status == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the email is not {expected}")


async def test_a_shop_order_s_email_is_told_with_its_notification(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    vendor = await accounts.vendor("Market Stall")
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    await settled_email(app, "sent")
    admin = await admin_account(client, app.state.settings)

    response = await client.get(
        "/api/admin/activity", params={"q": vendor.id}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert item["event"] == "order.created"
    assert item["sentence"].startswith("No push: the user had no device subscribed then; ")
    assert "; emailed at " in item["sentence"]
    [email] = [e for e in item["timeline"] if e["kind"] == "email"]
    assert (email["status"], email["text"]) == ("sent", "Emailed (no device to ring)")
    assert len(mailbox.messages) == 1


async def test_a_shop_order_whose_email_failed_is_among_the_failed_ones(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
    vendor = await accounts.vendor("Market Stall")
    key = await issue_key(app)
    assert (await send(client, key, event(vendor))).status_code == 201
    await settled_email(app, "failed")
    admin = await admin_account(client, app.state.settings)

    response = await client.get(
        "/api/admin/activity",
        params={"q": vendor.id, "failed_only": "true"},
        headers=admin.headers,
    )

    [item] = response.json()["items"]
    assert item["failed"] is True
    assert item["sentence"].endswith("; the email failed: the mail server refused the message.")
