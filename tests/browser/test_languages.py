"""The PWA in the account's language: every page a German (or French) vendor opens shows
its catalogue's words and no English one, Settings switches the language at once, and
the dashboard on a phone in German is a screenshot for docs/languages.md."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    LiveServer,
    Session,
    User,
    deliver_push,
    screenshot,
    serve,
    shown_notifications,
    wait_for_service_worker,
)

pytestmark = pytest.mark.browser

CATALOGUES = Path(__file__).resolve().parents[2] / "pwa" / "i18n"
# Item and person names that are no catalogue's words, in any language.
ITEMS = [
    {"name": "Brezel", "quantity": 2, "unit_price_cents": 180},
    {"name": "Apfelstrudel", "quantity": 1, "unit_price_cents": 420},
]

# Visible text nodes of the page, and the words of its attributes people meet
# (accessible names, placeholders, tooltips), skipping what is hidden.
VISIBLE_TEXT = """() => {
  const out = [];
  const shown = (el) => el && !el.closest('[hidden]')
    && (el instanceof SVGElement || el.checkVisibility());
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (text && !el.closest('script, style, noscript') && shown(el)) out.push(text);
  }
  for (const el of document.body.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (!shown(el)) continue;
    for (const name of ['aria-label', 'placeholder', 'title']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
  }
  return out;
}"""


def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text("utf-8"))
    return data


def english_only(lang: str) -> list[re.Pattern[str]]:
    """English texts that `lang` words differently, as patterns (a placeholder matches
    any text): none of them may appear on a page shown in `lang`."""
    english, other = catalogue("en"), catalogue(lang)
    theirs = set(other.values())
    patterns = []
    for key, text in english.items():
        if text == other.get(key) or text in theirs:
            continue
        parts = re.split(r"\{\w+\}", text)
        patterns.append(re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$"))
    return patterns


def untranslated(page: Any, lang: str) -> list[str]:
    patterns = english_only(lang)
    texts: list[str] = page.evaluate(VISIBLE_TEXT)
    return sorted({text for text in texts if any(p.match(text) for p in patterns)})


def register(server: LiveServer, role: str, name: str, locale: str) -> User:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    body = {
        "email": email,
        "password": "correct horse battery",
        "name": name,
        "role": role,
        "locale": locale,
    }
    with server.client() as client:
        response = client.post("/api/auth/register", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["user"]["locale"] == locale
    return User(data["user"]["id"], email, name, data["token"])


class World:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.vendor_de = register(server, "vendor", "Bäckerei Sonne", "de")
        self.vendor_fr = register(server, "vendor", "Boulangerie Soleil", "fr")
        self.vendor_en = register(server, "vendor", "Corner Bakery", "en")
        customer = register(server, "customer", "Ada Lovelace", "en")
        self.order_de = server.place_order(customer, self.vendor_de, items=ITEMS)
        self.order_fr = server.place_order(customer, self.vendor_fr, items=ITEMS)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("languages"), sqlite_template) as server:
        yield World(server)


WIDER = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 5)
  .map((el) => `${el.tagName}.${el.className} ${el.textContent.slice(0, 40)}`)"""
GO = (
    "(path) => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }"
)


def visit(page: Any, path: str, heading: str) -> None:
    page.evaluate(GO, path)
    expect(page.locator("main h1")).to_have_text(heading)
    # Every part of the page drawn: no "Loading…" left in any language.
    page.wait_for_function("() => !/…$/m.test(document.querySelector('main').innerText.trim())")


# Each page, its heading and a few more of its words, per language.
PAGES = {
    "de": [
        ("/", "Hallo, Bäckerei Sonne", ["Offene Bestellungen", "Heute bezahlt", "Interaktion"]),
        ("/notifications", "Benachrichtigungen", ["Alle als gelesen markieren", "Alle Arten"]),
        ("/orders", "Bestellungen", ["In Vorbereitung", "Neu", "3 Artikel"]),
        ("{order}", "Bestellung {number}", ["Nächster Schritt", "Annehmen", "Bezahlung"]),
        ("/devices", "Geräte", ["Geräte, die Benachrichtigungen erhalten"]),
        ("/preferences", "Einstellungen", ["Ruhezeiten", "Sprache", "Einstellungen speichern"]),
    ],
    "fr": [
        ("/", "Bonjour, Boulangerie Soleil", ["Commandes en cours", "Taux de clic"]),
        ("/notifications", "Notifications", ["Tout marquer comme lu", "Tous les types"]),
        ("/orders", "Commandes", ["En préparation", "Nouvelle", "3 articles"]),
        ("{order}", "Commande {number}", ["Étape suivante", "Accepter", "Règlement"]),
        ("/devices", "Appareils", ["Appareils qui reçoivent les notifications"]),
        ("/preferences", "Paramètres", ["Heures calmes", "Langue"]),
    ],
}


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_every_page_shows_the_accounts_language_and_no_english(
    browser: Any, world: World, lang: str
) -> None:
    vendor = world.vendor_de if lang == "de" else world.vendor_fr
    order = world.order_de if lang == "de" else world.order_fr
    # An English browser: the account's language wins over it.
    session = Session(browser, world.server, vendor, locale="en-US")
    try:
        page = session.page("/")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        for path, heading, words in PAGES[lang]:
            path = path.replace("{order}", f"/orders/{order['id']}")
            visit(page, path, heading.replace("{number}", order["number"]))
            main = page.locator("main")
            for word in words:
                expect(main).to_contain_text(word)
            assert untranslated(page, lang) == [], path
        expect(page.locator("nav.main-nav")).to_contain_text(
            "Geräte" if lang == "de" else "Appareils"
        )
        page.get_by_test_id("bell").click()  # the dropdown's words, and its German inbox
        expect(page.get_by_test_id("dropdown-list").locator("li.note").first).to_be_visible()
        assert untranslated(page, lang) == [], "dropdown"
        assert not session.errors, session.errors
    finally:
        session.close()


def test_a_german_customer_orders_in_german(browser: Any, world: World) -> None:
    customer = register(world.server, "customer", "Grete Kunde", "de")
    session = Session(browser, world.server, customer, locale="en-US")
    try:
        page = session.page("/checkout")
        expect(page.locator("main h1")).to_have_text("Neue Bestellung")
        expect(page.get_by_test_id("vendor-select")).to_contain_text("Bäckerei Sonne")
        assert untranslated(page, "de") == [], "checkout"
        page.get_by_test_id("vendor-select").select_option(label="Bäckerei Sonne")
        page.get_by_test_id("place-order").click()
        expect(page.locator("main h1")).to_have_text(re.compile(r"^Bestellung #\d+$"))
        expect(page.get_by_test_id("push-card")).to_contain_text("Verfolgen Sie Ihre Bestellungen")
        expect(page.locator(".toast")).to_contain_text("wurde benachrichtigt")
        assert untranslated(page, "de") == [], "order"
        assert not session.errors, session.errors
    finally:
        session.close()


def test_before_sign_in_the_browsers_language_is_used(browser: Any, world: World) -> None:
    session = Session(browser, world.server, None, locale="fr-CA")
    try:
        page = session.page("/signin")
        expect(page.locator("main h1")).to_have_text("Connexion à vendorbell")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        assert untranslated(page, "fr") == []
    finally:
        session.close()


def test_choosing_a_language_in_settings_redraws_the_app_in_it(browser: Any, world: World) -> None:
    session = Session(browser, world.server, world.vendor_en, locale="en-US")
    try:
        page = session.page("/preferences")
        expect(page.locator("main h1")).to_have_text("Settings")
        page.get_by_test_id("language-select").select_option("de")
        expect(page.locator("main h1")).to_have_text("Einstellungen")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.locator("nav.main-nav")).to_contain_text("Geräte")
        expect(page.locator(".toast")).to_contain_text("Sprache geändert.")
        expect(page.get_by_test_id("language-select")).to_have_value("de")
        # Saved on the account: the next visit, on any device, is German too.
        page.reload()
        expect(page.locator("main h1")).to_have_text("Einstellungen")
        page.get_by_test_id("language-select").select_option("en")
        expect(page.locator("main h1")).to_have_text("Settings")
        assert not session.errors, session.errors
    finally:
        session.close()
    with world.server.client() as client:
        me = client.get("/api/me", headers=world.vendor_en.headers).json()
    assert me["locale"] == "en"


def test_the_service_workers_own_words_are_in_the_readers_language(
    browser: Any, world: World
) -> None:
    session = Session(browser, world.server, world.vendor_fr, locale="en-US")
    try:
        session.context.grant_permissions(["notifications"], origin=world.server.origin)
        page = session.page("/")
        wait_for_service_worker(page)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        deliver_push(page, "not json {")  # nothing to read: the worker's fallback words
        [shown] = shown_notifications(page)
        assert shown["body"] == catalogue("fr")["sw.update_body"]
    finally:
        session.close()


def test_the_german_dashboard_on_a_phone(browser: Any, world: World) -> None:
    session = Session(
        browser, world.server, world.vendor_de, viewport={"width": 390, "height": 844}
    )
    try:
        page = session.page("/")
        expect(page.locator("main h1")).to_have_text("Hallo, Bäckerei Sonne")
        expect(page.get_by_test_id("order-list")).to_contain_text("Ada Lovelace")
        expect(page.get_by_test_id("engagement-chart")).to_be_visible()
        screenshot(page, "dashboard-de-phone")  # docs/dashboard-de-phone.png is a copy of it
    finally:
        session.close()


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_no_page_is_wider_than_a_phone_in_longer_languages(
    browser: Any, world: World, lang: str
) -> None:
    vendor = world.vendor_de if lang == "de" else world.vendor_fr
    order = world.order_de if lang == "de" else world.order_fr
    session = Session(browser, world.server, vendor, viewport={"width": 360, "height": 780})
    try:
        page = session.page("/")
        for path, heading, _ in PAGES[lang]:
            path = path.replace("{order}", f"/orders/{order['id']}")
            visit(page, path, heading.replace("{number}", order["number"]))
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width, page.evaluate(WIDER))
    finally:
        session.close()
