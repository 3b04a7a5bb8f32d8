"""German and French words stay whole on phones: on every page a vendor or a customer
opens, and in the open dropdown, at 360, 390 and 414 px, no word of the catalogues is
drawn across two lines ("Best|ellun|gen"), and no button or select cuts its own text.

Nothing overflowing is not enough: a column squeezed to 54 px still fits, by breaking
its words. So each catalogue word on the page is measured where it is drawn: a word
whose characters sit on more than one line box is broken. Hyphenation is switched off
while measuring, so the layout must leave room for whole words, not lean on hyphens."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Session, User, serve

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = [360, 390, 414]
LANGS = ["de", "fr"]


def catalogue_words(lang: str) -> list[str]:
    """Every word of the PWA's and the server's catalogue in `lang` (placeholders out)."""
    texts = list(json.loads((ROOT / "pwa" / "i18n" / f"{lang}.json").read_text("utf-8")).values())
    po = (ROOT / "server" / "locale" / lang / "LC_MESSAGES" / "messages.po").read_text("utf-8")
    texts += [json.loads(m) for m in re.findall(r'^msgstr(?:\[\d\])? (".*")$', po, re.M)]
    words: set[str] = set()
    for text in texts:
        words.update(re.findall(r"[^\W\d_]{4,}", re.sub(r"\{\w+\}", " ", text)))
    return sorted(words)


# The words of the catalogue drawn over more than one line, and the controls whose
# own text is wider than they are. Text inside user data is measured too, but only
# catalogue words are checked, so a 120-letter shop name may still wrap.
BROKEN = (Path(__file__).parent / "words_whole.js").read_text("utf-8").split("\n", 1)[1]

# Drawn: no "Loading…" left in the page (a select's "Choose …" option is no loading).
DRAWN = """() => {
  const main = document.querySelector('main h1') && document.querySelector('main');
  if (!main) return false;
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el.closest('select') && /…\\s*$/.test(walker.currentNode.textContent)) return false;
  }
  return true;
}"""
GO = (
    "(path) => { history.pushState(null, '', path); dispatchEvent(new PopStateEvent('popstate')); }"
)


def register(server: LiveServer, role: str, name: str, locale: str) -> User:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": "correct horse battery", "name": name, "role": role}
    with server.client() as client:
        response = client.post("/api/auth/register", json={**body, "locale": locale})
    assert response.status_code == 201, response.text
    data = response.json()
    return User(data["user"]["id"], email, name, data["token"])


class World:
    """Per language, a vendor with orders in every state a page draws, and a customer."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.vendor: dict[str, User] = {}
        self.customer: dict[str, User] = {}
        self.order: dict[str, dict[str, Any]] = {}
        for lang in LANGS:
            vendor = self.vendor[lang] = register(server, "vendor", f"Laden {lang}", lang)
            customer = self.customer[lang] = register(server, "customer", f"Kunde {lang}", lang)
            self.order[lang] = server.place_order(customer, vendor)
            accepted = server.place_order(customer, vendor)
            with server.client() as client:
                response = client.post(
                    f"/api/orders/{accepted['id']}/accept", headers=vendor.headers
                )
                assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("words"), sqlite_template) as server:
        yield World(server)


def pages(world: World, lang: str, role: str) -> list[str]:
    order = f"/orders/{world.order[lang]['id']}"
    if role == "vendor":
        return ["/", "/notifications", "/orders", order, "/devices", "/preferences"]
    return ["/checkout", "/orders", order, "/notifications", "/preferences"]


def findings(page: Any, words: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = page.evaluate(BROKEN, words)
    return found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", ["vendor", "customer"])
def test_catalogue_words_stay_whole_on_phones(
    browser: Any, world: World, lang: str, width: int, role: str
) -> None:
    user = world.vendor[lang] if role == "vendor" else world.customer[lang]
    words = catalogue_words(lang)
    session = Session(browser, world.server, user, viewport={"width": width, "height": 800})
    problems: dict[str, dict[str, list[str]]] = {}
    try:
        page = session.page("/")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        for path in pages(world, lang, role):
            page.evaluate(GO, path)
            try:
                page.wait_for_function(DRAWN, timeout=15_000)
            except Exception as exc:  # say which page never finished drawing
                raise AssertionError(f"{path}: {page.locator('main').inner_text()}") from exc
            found = findings(page, words)
            if found["broken"] or found["clipped"]:
                problems[path] = found
        page.get_by_test_id("bell").click()
        expect(page.get_by_test_id("dropdown")).to_be_visible()
        found = findings(page, words)
        if found["broken"] or found["clipped"]:
            problems["dropdown"] = found
        assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
        assert not session.errors, session.errors
    finally:
        session.close()


def test_the_measure_sees_a_word_broken_in_a_narrow_column(browser: Any, world: World) -> None:
    """The check itself: a catalogue word squeezed into 40 px is reported, whole it is not."""
    session = Session(
        browser, world.server, world.vendor["de"], viewport={"width": 360, "height": 800}
    )
    try:
        page = session.page("/")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.evaluate(
            """() => {
              for (const [id, width] of [['narrow', '40px'], ['wide', '300px']]) {
                const p = document.createElement('p');
                p.id = id;
                p.style.cssText = `width:${width};overflow-wrap:anywhere`;
                p.textContent = 'Bestellungen';
                document.body.append(p);
              }
            }"""
        )
        found = findings(page, ["Bestellungen"])
        assert len(found["broken"]) == 1 and found["broken"][0].startswith("Bestellungen in <p")
    finally:
        session.close()
