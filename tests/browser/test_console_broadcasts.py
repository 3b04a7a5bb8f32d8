"""The console's Broadcasts page: an admin writes a notice, sees it as a phone will show it
(cut as the server cuts a push too long for one record), sends it after confirming, and
watches the worker take it to the end; a vendor gets no link to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from server.push.payload import build_message
from tests.browser.conftest import LiveServer, Session, screenshot
from tests.browser.test_accessibility import severe_violations
from tests.browser.test_console_health import PHONE, admin_user

pytestmark = pytest.mark.browser
# 1,988 characters (under the 2,000 a body may have), 5,948 bytes: over one push record.
LONG = "Wartung " + "€ " * 990


@dataclass(frozen=True)
class Broadcast:
    """A broadcast's push as build_message sees it, with the longest id the page assumes."""

    body: str
    lang: str
    title: str = "Fees change"
    id: int = 9_999_999_999
    type: str = "system"
    event: str = "system.broadcast"
    url: str = "/notifications"
    data: dict[str, Any] = field(default_factory=dict)


def server_body(origin: str, body: str, lang: str) -> str:
    message = build_message(Broadcast(body, lang), app_badge=999_999_999, link_base=origin)
    text: str = json.loads(message.payload)["notification"]["body"]
    return text


@pytest.mark.parametrize("live_server", [{"run_worker": True}], indirect=True)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_previews_sends_and_follows_a_broadcast_and_a_vendor_has_no_link(
    live_server: LiveServer, sessions: Callable[..., Session], scheme: str
) -> None:
    vendors = [live_server.register("vendor", f"Shop {i}") for i in range(2)]
    live_server.register("customer")

    admin = sessions(admin_user(live_server), viewport=PHONE, color_scheme=scheme)
    page = admin.page("/")
    page.get_by_role("navigation").get_by_role("link", name="Broadcasts").click()
    expect(page).to_have_url(f"{live_server.origin}/console/broadcasts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Broadcasts")
    expect(page.get_by_test_id("broadcast-list")).to_contain_text("Nothing has been broadcast")

    # The preview follows the typing, and says what a reader in another language sees.
    preview = page.get_by_test_id("push-preview")
    page.get_by_label("Title").fill("Fees change")
    page.get_by_label("Message", exact=True).fill(LONG)
    expect(preview.get_by_test_id("preview-title")).to_have_text("Fees change")
    expect(preview).to_contain_text("vendorbell")
    expect(page.get_by_test_id("preview-shortened")).to_be_visible()
    shown = preview.get_by_test_id("preview-body").text_content()
    assert shown == server_body(live_server.origin, LONG, "en")  # cut as the push is
    assert shown.endswith("…") and len(shown) < len(LONG)
    page.get_by_role("radiogroup", name="Language of the reader's phone").get_by_text(
        "Deutsch"
    ).click()
    expect(page.get_by_test_id("preview-language")).to_contain_text(
        "a phone set to German shows the text in English"
    )
    expect(preview.locator(".push-when")).to_have_text("· jetzt")
    page.get_by_label("Message", exact=True).fill("New fees from July: see your orders.")
    expect(preview.get_by_test_id("preview-body")).to_have_text(
        "New fees from July: see your orders."
    )
    expect(page.get_by_test_id("preview-shortened")).to_have_count(0)
    page.get_by_label("All vendors").check()

    # Sending asks first; Escape goes back to editing, and the keyboard alone sends it.
    page.get_by_role("button", name="Review and send…").click()
    confirm = page.get_by_test_id("broadcast-confirm")
    expect(confirm).to_contain_text("Send “Fees change” to All vendors?")
    expect(page.get_by_role("button", name="Send now")).to_be_focused()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(page.get_by_role("button", name="Review and send…")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Send now")).to_be_focused()
    page.keyboard.press("Enter")

    row = page.locator("li.broadcast-row").first
    expect(row.get_by_role("heading")).to_have_text("Fees change")
    expect(row.get_by_role("heading")).to_be_focused()
    # The worker fans it out; the page polls until it is done.
    expect(row.get_by_test_id("broadcast-status")).to_have_text("Sent", timeout=15_000)
    expect(row.get_by_test_id("broadcast-figures")).to_contain_text("Users reached: 2 of 2")
    expect(row.get_by_test_id("broadcast-figures")).to_contain_text("2 notifications written")
    assert row.locator("progress").evaluate("p => [p.value, p.max]") == [2, 2]
    expect(row.get_by_role("button", name="Stop sending")).to_be_hidden()
    expect(page.get_by_test_id("broadcast-announce")).to_contain_text("has been sent to 2 users")
    expect(page.get_by_label("Title")).to_have_value("")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert severe_violations(Axe(), page) == []
    screenshot(page, f"console-broadcasts-phone-{scheme}")
    assert admin.errors == []

    for vendor in vendors:
        [item] = live_server.notifications(vendor)
        assert (item["title"], item["body"]) == (
            "Fees change",
            "New fees from July: see your orders.",
        )

    shop = sessions(vendors[0]).page("/")
    expect(shop.get_by_role("navigation").get_by_role("link", name="Orders")).to_be_visible()
    expect(shop.get_by_role("navigation").get_by_role("link", name="Broadcasts")).to_have_count(0)
    shop.goto("/console/broadcasts")
    expect(shop.get_by_text("Only administrators can see this page.")).to_be_visible()


def test_an_admin_in_french_stops_a_waiting_broadcast_on_a_phone(
    live_server: LiveServer, sessions: Callable[..., Session]
) -> None:
    """No worker runs here, so the broadcast waits: Stop ends it before any chunk."""
    vendor = live_server.register("vendor", "Boulangerie")
    admin = sessions(admin_user(live_server), viewport=PHONE)
    changed = admin.context.request.patch(
        "/api/me", data={"locale": "fr"}, headers={"Origin": live_server.origin}
    )
    assert changed.ok, changed.text()
    page = admin.page("/console/broadcasts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Diffusions")
    page.get_by_label("Titre").fill("Fermeture lundi")
    page.get_by_label("Message", exact=True).fill("Le marché est fermé lundi.")
    page.get_by_label("Tous les vendeurs").check()
    expect(page.get_by_test_id("preview-language")).to_have_count(0)  # reader in French too
    page.get_by_role("button", name="Vérifier et envoyer…").click()
    page.get_by_role("button", name="Envoyer maintenant").click()

    row = page.locator("li.broadcast-row").first
    expect(row.get_by_test_id("broadcast-status")).to_have_text("En attente")
    expect(row.get_by_test_id("broadcast-figures")).to_contain_text(
        "Utilisateurs atteints : 0 sur 1"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    stop = row.get_by_role("button", name="Arrêter l\u2019envoi")
    stop.focus()
    page.keyboard.press("Enter")
    expect(row.get_by_test_id("broadcast-status")).to_have_text("Arrêtée")
    expect(stop).to_be_hidden()
    expect(row.get_by_role("heading")).to_be_focused()
    expect(page.get_by_test_id("broadcast-announce")).to_contain_text("a été arrêtée après 0")
    screenshot(page, "console-broadcasts-stopped-fr")
    assert admin.errors == []
    assert live_server.notifications(vendor) == []

    # Reloaded, it is still stopped (the server's word, not the page's).
    page.reload()
    expect(page.locator("li.broadcast-row").first.get_by_test_id("broadcast-status")).to_have_text(
        "Arrêtée"
    )

    # German's longer words still fit the phone.
    changed = admin.context.request.patch(
        "/api/me", data={"locale": "de"}, headers={"Origin": live_server.origin}
    )
    assert changed.ok, changed.text()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rundsendungen")
    expect(page.locator("li.broadcast-row").first.get_by_test_id("broadcast-status")).to_have_text(
        "Angehalten"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
