"""Fallback emails reach a real SMTP server once per order and reason, are retried on
4xx and fail visibly on 5xx; without SMTP_URL they become .eml files."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.core.db import utcnow
from server.mail.outbox import MAX_ATTEMPTS, MailWorker
from server.mail.schemas import EmailOut, EmailReason
from server.mail.transport import REFUSED, UNREACHABLE, SmtpTransport, make_transport
from server.orders.alerts.emails import emails_for_order, queue_order_email
from server.orders.service import load_order
from tests.conftest import Account, Accounts, place_order
from tests.mail.smtpserver import Mailbox, free_port
from tests.preferences.factories import add_device

LATER = timedelta(hours=2)  # past any backoff


def worker(app: Any) -> MailWorker:
    return MailWorker(app.state.units, make_transport(app.state.settings))


async def emails(app: Any, order_id: str) -> list[EmailOut]:
    async with app.state.units.reader() as uow:
        return await emails_for_order(uow.session, int(order_id))


async def queue(app: Any, order_id: str, reason: EmailReason) -> bool:
    async with app.state.units.writer() as uow:
        order = await load_order(uow.session, int(order_id))
        queued = await queue_order_email(uow, order, reason)
        await uow.commit()
    return queued


async def new_order(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, *, device: bool = False
) -> tuple[Account, dict[str, Any]]:
    vendor = await accounts.vendor("Corner Bakery")
    customer = await accounts.customer("Alice")
    if device:
        await add_device(app, vendor.id)
    return vendor, await place_order(client, customer, vendor)


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


@pytest.mark.parametrize("reason", ["no_device", "push_failed", "unanswered"])
async def test_each_fallback_sends_one_email_with_the_order_number_and_link(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox, reason: str
) -> None:
    # With a device, no email goes out on its own: the caller decides the reason.
    vendor, order = await new_order(app, client, accounts, device=reason != "no_device")
    if reason != "no_device":
        assert await emails(app, order["id"]) == []
        assert await queue(app, order["id"], reason)  # type: ignore[arg-type]
    assert await worker(app).run_once() == 1
    assert await worker(app).run_once(utcnow() + LATER) == 0

    [message] = mailbox.messages
    number = order["id"]
    if reason == "unanswered":
        assert message["Subject"] == f"Order #{number} is still waiting"
    else:
        assert message["Subject"] == f"New order #{number} from Alice — 3 items, €9.20"
    assert message["From"] == "Corner Market <alerts@market.example>"
    assert message["To"] == vendor.email
    assert mailbox.envelopes == [("alerts@market.example", [vendor.email])]
    assert message["List-Unsubscribe"] == "<http://testserver/preferences>"
    assert message["Message-ID"] and message["Date"]
    link = f"http://testserver/orders/{number}"
    text, html = body(message, "plain"), body(message, "html")
    assert link in text and "Croissant" in text
    assert f'href="{link}"' in html
    assert "<img" not in html.lower()  # nothing that reports an opening
    [email] = await emails(app, order["id"])
    assert (email.reason, email.status, email.attempts) == (reason, "sent", 1)
    assert email.sent_at is not None and email.last_error is None


async def test_the_same_reason_is_never_queued_twice(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    _, order = await new_order(app, client, accounts)  # queues "no_device"
    assert not await queue(app, order["id"], "no_device")
    assert await queue(app, order["id"], "unanswered")
    assert not await queue(app, order["id"], "unanswered")
    await worker(app).run_once()
    assert not await queue(app, order["id"], "unanswered")  # sent: still never again
    assert [e.reason for e in await emails(app, order["id"])] == ["no_device", "unanswered"]
    assert len(mailbox.messages) == 2


async def test_a_temporary_failure_is_retried_and_the_email_sent_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    mailbox.replies = ["451 4.3.0 Try again later"]
    _, order = await new_order(app, client, accounts)
    mail = worker(app)
    assert await mail.run_once() == 1
    [email] = await emails(app, order["id"])
    assert (email.status, email.attempts) == ("queued", 1)
    assert email.last_error == REFUSED
    assert await mail.run_once() == 0  # backing off
    assert await mail.run_once(utcnow() + LATER) == 1
    [email] = await emails(app, order["id"])
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, None)
    assert mailbox.attempts == 2
    assert len(mailbox.messages) == 1


async def test_a_permanent_failure_fails_with_the_servers_reply(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    mailbox.replies = ["550 5.1.1 Mailbox unavailable"]
    _, order = await new_order(app, client, accounts)
    assert await worker(app).run_once() == 1
    assert await worker(app).run_once(utcnow() + LATER) == 0  # never again
    [email] = await emails(app, order["id"])
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.last_error == REFUSED
    assert email.sent_at is None
    assert mailbox.messages == [] and mailbox.attempts == 1


async def test_temporary_failures_give_up_after_the_last_attempt(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    mailbox.replies = ["421 4.7.0 Too busy"] * MAX_ATTEMPTS
    _, order = await new_order(app, client, accounts)
    mail = worker(app)
    for n in range(MAX_ATTEMPTS):
        assert await mail.run_once(utcnow() + LATER * n) == 1
    [email] = await emails(app, order["id"])
    assert (email.status, email.attempts) == ("failed", MAX_ATTEMPTS)
    assert email.last_error == REFUSED


async def test_a_server_that_does_not_answer_is_a_temporary_failure(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    _, order = await new_order(app, client, accounts)
    nobody = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=2)
    assert await MailWorker(app.state.units, nobody).run_once() == 1
    [email] = await emails(app, order["id"])
    assert email.status == "queued"
    assert email.last_error == UNREACHABLE


async def test_without_smtp_url_the_email_is_written_as_an_eml_file(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox, tmp_path: Path
) -> None:
    settings = app.state.settings.model_copy(update={"smtp_url": None})
    vendor, order = await new_order(app, client, accounts)
    assert await MailWorker(app.state.units, make_transport(settings)).run_once() == 1
    [path] = (tmp_path / "data" / "mail").glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    assert f"#{order['id']}" in message["Subject"]
    assert message["To"] == vendor.email
    assert f"http://testserver/orders/{order['id']}" in body(message, "plain")
    assert mailbox.messages == []
    assert [e.status for e in await emails(app, order["id"])] == ["sent"]


async def test_no_email_when_the_vendor_switched_order_emails_off(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    vendor = await accounts.vendor()
    customer = await accounts.customer()
    response = await client.put(
        "/api/preferences",
        json={"types": {"order": {"push": True, "inbox": True, "email": False}}},
        headers=vendor.headers,
    )
    assert response.status_code == 200, response.text
    order = await place_order(client, customer, vendor)
    assert not await queue(app, order["id"], "unanswered")
    assert await emails(app, order["id"]) == []
    assert await worker(app).run_once() == 0


async def test_only_a_vendor_without_an_unmuted_device_gets_the_no_device_email(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    customer = await accounts.customer()
    ringing, muted = await accounts.vendor(), await accounts.vendor()
    await add_device(app, ringing.id)
    await add_device(app, muted.id, muted=True)
    assert await emails(app, (await place_order(client, customer, ringing))["id"]) == []
    [email] = await emails(app, (await place_order(client, customer, muted))["id"])
    assert (email.reason, email.status) == ("no_device", "queued")


async def test_user_text_is_escaped_in_the_html_part(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    vendor = await accounts.vendor()
    customer = await accounts.customer('Eve <b onclick="x()">& co</b>')
    items = [{"name": "<img src=x onerror=alert(1)>", "quantity": 1, "unit_price_cents": 100}]
    await place_order(client, customer, vendor, items=items, note="<script>1</script>")
    await worker(app).run_once()
    [message] = mailbox.messages
    html = body(message, "html")
    assert "<img" not in html and "<script" not in html and "<b " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Eve &lt;b onclick=&quot;x()&quot;&gt;&amp; co&lt;/b&gt;" in html
    assert 'Eve <b onclick="x()">& co</b>' in message["Subject"]
    assert "<script>1</script>" in body(message, "plain")  # plain text shows it as typed
