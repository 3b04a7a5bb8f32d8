"""An order's fallback email is written in its vendor's language."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Accounts, place_order
from tests.mail.smtpserver import Mailbox
from tests.mail.test_outbox import body, worker


async def test_a_german_vendor_gets_a_german_email(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, mailbox: Mailbox
) -> None:
    vendor = await accounts.vendor("Eckbäckerei")
    await client.patch("/api/me", json={"locale": "de"}, headers=vendor.headers)
    customer = await accounts.customer("Alice")  # reads English: the email is the vendor's
    order = await place_order(client, customer, vendor, note="Bitte klingeln")
    assert await worker(app).run_once() == 1

    [message] = mailbox.messages
    n = order["id"]
    assert message["Subject"] == f"Neue Bestellung #{n} von Alice \u2013 3 Artikel, 9,20\u00a0€"
    text, html = body(message, "plain"), body(message, "html")
    for line in (
        "Hallo Eckbäckerei,",
        f"Alice hat Bestellung #{n} aufgegeben: 3 Artikel, 9,20\u00a0€.",
        "  2 \u00d7 Flat white  7,00\u00a0€",
        "  Gesamt: 9,20\u00a0€",
        "Anmerkung: „Bitte klingeln“",
        f"Bestellung öffnen: http://testserver/orders/{n}",
        "Sie erhalten diese E-Mails, weil E-Mail-Benachrichtigungen für Bestellungen "
        "eingeschaltet sind.",
    ):
        assert line in text.splitlines()
    assert html.startswith('<!doctype html><html lang="de">')
    assert f"Bestellung #{n} öffnen</a>" in html
    assert '<a href="http://testserver/preferences">In Ihren Einstellungen' in html
