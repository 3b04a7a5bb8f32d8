"""Text that spoofs (controls, direction overrides, invisible-only) and links that
leave the site are refused; every script and emoji still goes through."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from server.core.config import Settings
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Accounts, order_body, place_order
from tests.integrations.test_events import event, issue_key, send, stored

SPOOFING = [
    "Bob\x00",
    "\x1b[31mBob",  # a terminal escape
    "Bob\u202egpj.exe",  # right-to-left override
    "Bob\u2066x\u2069",  # an isolate
    "Bob\x85",  # a C1 control
    "\u200b\u200d\ufeff",  # invisible only
    " \u3164 ",  # a Hangul filler between spaces
    "",
]
FINE = ["Zoë Ångström", "👩\u200d🍳 Küche", "شاي بالنعناع", "東京の店", "Ω-shop #1"]


def register_body(name: str) -> dict[str, Any]:
    email = f"t-{uuid.uuid4().hex[:8]}@example.com"
    return {"email": email, "password": "correct horse battery", "name": name, "role": "vendor"}


async def test_spoofing_names_are_refused_and_every_script_is_kept(
    client: httpx.AsyncClient,
) -> None:
    for name in SPOOFING:
        response = await client.post("/api/auth/register", json=register_body(name))
        assert response.status_code == 422, (name, response.text)
        assert "\x00" not in response.text
    for name in FINE:
        response = await client.post("/api/auth/register", json=register_body(f"  {name} "))
        assert response.status_code == 201, (name, response.text)
        assert response.json()["user"]["name"] == name


async def test_order_texts_refuse_controls_but_keep_line_breaks(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for name in SPOOFING:
        body = order_body(vendor.id, items=[{"name": name, "quantity": 1, "unit_price_cents": 1}])
        response = await client.post("/api/orders", json=body, headers=customer.headers)
        assert response.status_code == 422, (name, response.text)
    bad_note = order_body(vendor.id, note="ring twice\u202e")
    response = await client.post("/api/orders", json=bad_note, headers=customer.headers)
    assert response.status_code == 422
    order = await place_order(client, customer, vendor, note="Ring twice.\r\nSecond floor.")
    assert order["note"] == "Ring twice.\nSecond floor."
    path = f"/api/orders/{order['id']}/messages"
    for text in ["hi\x1b]0;pwned\x07", "\u2067hi", "\u200b"]:
        response = await client.post(path, json={"body": text}, headers=vendor.headers)
        assert response.status_code == 422, (text, response.text)
    notifications = await client.get("/api/notifications", headers=vendor.headers)
    assert len(notifications.json()["items"]) == 1  # only the order itself


OFF_SITE = [
    "/\t/evil.example/phish",  # a browser drops the tab: //evil.example/phish
    "/\n/evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "orders/1",
    "/ /evil.example",
]


async def test_broadcast_links_stay_on_the_site(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    for url in OFF_SITE:
        body = {"title": "Hi", "body": "All", "audience": "all", "url": url}
        response = await client.post("/api/admin/broadcasts", json=body, headers=admin.headers)
        assert response.status_code == 422, (url, response.text)
    body = {"title": "Hi", "body": "All", "audience": "all", "url": "/orders/../orders?x=1#top"}
    response = await client.post("/api/admin/broadcasts", json=body, headers=admin.headers)
    assert response.status_code == 202, response.text
    assert response.json()["url"] == "/orders?x=1#top"


async def test_shop_event_links_stay_on_the_site(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    for n, url in enumerate(OFF_SITE):
        response = await send(client, key, event(vendor, event_id=f"evt_{n}", url=url))
        assert response.status_code == 422, (url, response.text)
    assert await stored(app) == (0, 0)


FAKE_LINES = [
    "Eve\u2028New order #999 from Trusted Bank",  # a line separator: a fake second line
    "Eve\u2029New order #999 from Trusted Bank",  # a paragraph separator
    "Eve\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065",  # hidden tag text
    "Eve\U000e0001",  # LANGUAGE TAG
    "Eve\ufff9Bank\ufffaa\ufffb",  # an interlinear annotation
    "Eve\u206e123",  # NATIONAL DIGIT SHAPES (deprecated)
]
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


async def test_names_that_fake_a_line_or_hide_text_are_refused_with_a_code(
    client: httpx.AsyncClient,
) -> None:
    for name in FAKE_LINES:
        response = await client.post("/api/auth/register", json=register_body(name))
        assert response.status_code == 422, (name, response.text)
        assert response.json()["code"] == "validation_error"
        assert "line or paragraph separators" in response.json()["detail"]


async def test_a_subdivision_flag_is_still_a_fine_name(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/register", json=register_body(f"Bar {SCOTLAND}"))
    assert response.status_code == 201, response.text
    assert response.json()["user"]["name"] == f"Bar {SCOTLAND}"
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "gb ignore the above")
    for name in (f"Bar \U0001f3f4{hidden}\U000e007f", f"Bar {SCOTLAND[:-1]}"):
        response = await client.post("/api/auth/register", json=register_body(name))
        assert response.status_code == 422, response.text


async def test_order_items_notes_and_messages_refuse_fake_lines(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    for text in FAKE_LINES:
        item = {"name": text, "quantity": 1, "unit_price_cents": 1}
        for body in (order_body(vendor.id, items=[item]), order_body(vendor.id, note=text)):
            response = await client.post("/api/orders", json=body, headers=customer.headers)
            assert response.status_code == 422, (text, response.text)
    order = await place_order(client, customer, vendor)
    path = f"/api/orders/{order['id']}/messages"
    for text in FAKE_LINES:
        response = await client.post(path, json={"body": text}, headers=vendor.headers)
        assert response.status_code == 422, (text, response.text)


async def test_shop_events_refuse_fake_lines_in_customer_names(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    key = await issue_key(app)
    for n, text in enumerate(FAKE_LINES):
        response = await send(client, key, event(vendor, event_id=f"evt_{n}", customer=text))
        assert response.status_code == 422, (text, response.text)
    assert await stored(app) == (0, 0)
