"""A pending order's reminders and the vendor's answer speak the order notification's
language: they replace it on the lock screen and show its body again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Accounts, place_order
from tests.orders.test_reminders import pushes, reminder_row, set_alerts, shop, tick

# (reminder after 4 minutes, reminder after 1 h 5 min, the vendor's answer)
SAID = {
    "en": (
        "Still waiting: order #{n} · 4 min",
        "Still waiting: order #{n} · 1 hr, 5 min",
        "Order #{n} accepted",
    ),
    "de": (
        "Wartet noch: Bestellung #{n} · 4 Min.",
        "Wartet noch: Bestellung #{n} · 1 Std., 5 Min.",
        "Bestellung #{n} angenommen",
    ),
    "fr": (
        "Toujours en attente\u00a0: commande #{n} · 4\u00a0min",
        "Toujours en attente\u00a0: commande #{n} · 1\u202fh et 5\u00a0min",
        "Commande #{n} acceptée",
    ),
}


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
async def test_reminders_and_the_answer_speak_the_vendor_s_language(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, locale: str
) -> None:
    vendor, customer = await shop(app, accounts)
    await client.patch("/api/me", json={"locale": locale}, headers=vendor.headers)
    await set_alerts(client, vendor, 240, 2)
    order = await place_order(client, customer, vendor)
    start = (await reminder_row(app, order["id"])).next_due_at - timedelta(seconds=240)
    assert await tick(app, start + timedelta(minutes=4)) == 1
    assert await tick(app, start + timedelta(hours=1, minutes=5)) == 1
    accepted = await client.post(f"/api/orders/{order['id']}/accept", headers=vendor.headers)
    assert accepted.status_code == 200, accepted.text

    created, *rest = await pushes(app, vendor)
    assert [(p["title"], p["lang"]) for p in rest] == [
        (text.format(n=order["id"]), locale) for text in SAID[locale]
    ]
    assert {p["body"] for p in rest} == {created["body"]} and created["lang"] == locale
