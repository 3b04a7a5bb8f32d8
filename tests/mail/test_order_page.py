"""The vendor's order page says in a plain sentence why an email did not go out; the
relay's address and its reply (which may quote the vendor's address) stay in the logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from server.mail.models import OutgoingEmail
from server.mail.outbox import MailWorker
from server.mail.transport import NOT_SENT, REFUSED, UNREACHABLE, SmtpTransport
from tests.conftest import Account, Accounts
from tests.mail.smtpserver import Mailbox, free_port
from tests.mail.test_outbox import new_order, worker

REPLY = "550 5.7.1 <{email}> rejected by relay mx.internal.example:2525 (policy 7)"


async def page_emails(
    client: httpx.AsyncClient, vendor: Account, order_id: str
) -> tuple[list[dict[str, Any]], str]:
    """The order page's emails, and the page as text without its times (whose digits
    could hold a port number by chance)."""
    response = await client.get(f"/api/orders/{order_id}", headers=vendor.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    emails: list[dict[str, Any]] = page["alerts"]["emails"]
    timeless = [{k: v for k, v in e.items() if not k.endswith("_at")} for e in emails]
    del page["alerts"]["emails"]
    return emails, json.dumps([timeless, page["alerts"], page.get("items")])


def logged_reasons(caplog: pytest.LogCaptureFixture) -> str:
    return " ".join(str(getattr(r, "reason", "")) for r in caplog.records)


async def test_a_refusal_shows_a_sentence_not_the_relays_reply(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="vendorbell.mail")
    vendor, order = await new_order(app, client, accounts)
    mailbox.replies = [REPLY.format(email=vendor.email)]
    assert await worker(app).run_once() == 1

    [email], text = await page_emails(client, vendor, order["id"])
    assert (email["status"], email["last_error"]) == ("failed", REFUSED)
    for secret in ("mx.internal", "2525", "550", "5.7.1", "policy 7", vendor.email):
        assert secret not in text
    assert "mx.internal.example:2525 (policy 7)" in logged_reasons(caplog)  # for the operator


async def test_an_unreachable_relay_shows_a_sentence_not_its_host_and_port(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vendorbell.mail")
    vendor, order = await new_order(app, client, accounts)
    port = free_port()  # nobody listens there
    nobody = SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=2)
    assert await MailWorker(app.state.units, nobody).run_once() == 1

    [email], text = await page_emails(client, vendor, order["id"])
    assert (email["status"], email["last_error"]) == ("queued", UNREACHABLE)
    assert "127.0.0.1" not in text and str(port) not in text
    assert str(port) in logged_reasons(caplog)


async def test_a_reply_stored_by_an_older_version_is_not_shown(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, order = await new_order(app, client, accounts)
    async with app.state.units.writer() as uow:
        await uow.session.execute(
            update(OutgoingEmail)
            .where(OutgoingEmail.order_id == int(order["id"]))
            .values(status="failed", last_error=REPLY.format(email=vendor.email))
        )
        await uow.commit()
    [email], text = await page_emails(client, vendor, order["id"])
    assert email["last_error"] == NOT_SENT
    assert "mx.internal" not in text
