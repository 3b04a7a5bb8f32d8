"""What a marketplace's backend does with its vendors (signed with its integration key):
upsert, bulk, delete, sign out, and events naming a vendor by its `sub`."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from server.integrations.signature import header
from server.mail.models import OutgoingEmail
from server.push.models import PushSubscription
from tests.conftest import Account, Accounts
from tests.integrations.embedding import (
    AUDIENCE,
    SHOP,
    Marketplace,
    bearer,
    exchange,
    register,
    signed_in,
)
from tests.integrations.test_events import issue_key
from tests.orders.test_reminders import pushes
from tests.preferences.factories import add_device


async def call(
    client: httpx.AsyncClient,
    key: tuple[str, str],
    method: str,
    path: str,
    body: Any = None,
) -> httpx.Response:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Vendorbell-Key": key[0],
        "Vendorbell-Signature": header(key[1], int(time.time()), raw),
        "Content-Type": "application/json",
    }
    return await client.request(method, path, content=raw, headers=headers)


async def devices_of(app: Any, user_id: str) -> int:
    async with app.state.db.reader() as session:
        n = await session.scalar(
            select(func.count())
            .select_from(PushSubscription)
            .where(PushSubscription.user_id == int(user_id))
        )
        return int(n or 0)


async def test_put_creates_then_updates_a_vendor(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    path = "/api/integrations/vendors/v_1"
    body = {"name": "Ada", "email": "ada@example.com", "locale": "de", "zoneinfo": "Europe/Berlin"}
    created = await call(client, market.hmac, "PUT", path, body)
    assert created.status_code == 201, created.text
    assert created.json()["sub"] == "v_1" and created.json()["locale"] == "de"
    updated = await call(client, market.hmac, "PUT", path, {"shop_name": "Ada's"})
    assert updated.status_code == 200
    out = updated.json()
    assert (out["id"], out["name"], out["shop_name"]) == (created.json()["id"], "Ada", "Ada's")
    session = await signed_in(client, market)  # the same vendor signs in on the page
    assert session["user"]["id"] == out["id"]


async def test_put_refuses_bad_values_with_422(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    cases = {
        "zoneinfo": ({"zoneinfo": "Nowhere/City"}, "invalid_time_zone"),
        "unknown field": ({"password": "x"}, "invalid_vendor"),
        "not JSON": (b"{", "malformed_json"),
        "email": ({"email": "not an address"}, "invalid_vendor"),
    }
    for case, (body, code) in cases.items():
        r = await call(client, market.hmac, "PUT", "/api/integrations/vendors/v_1", body)
        assert (r.status_code, r.json()["code"]) == (422, code), case


async def test_bulk_reports_each_item(app: Any, client: httpx.AsyncClient) -> None:
    market = await register(app)
    await call(client, market.hmac, "PUT", "/api/integrations/vendors/v_1", {"name": "One"})
    items = [
        {"sub": "v_1", "name": "One again"},
        {"sub": "v_2", "name": "Two"},
        {"sub": "v_3", "zoneinfo": "Nowhere/City"},
        {"name": "no sub"},
    ]
    r = await call(
        client, market.hmac, "POST", "/api/integrations/vendors/bulk", {"vendors": items}
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["updated", "created", "failed", "failed"]
    assert results[2]["code"] == "invalid_time_zone" and results[3]["sub"] is None
    too_many = {"vendors": [{"sub": f"v_{i}"} for i in range(1001)]}
    big = await call(client, market.hmac, "POST", "/api/integrations/vendors/bulk", too_many)
    assert big.status_code in (413, 422)


async def test_delete_removes_devices_and_ends_sessions(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    session = await signed_in(client, market, name="Before")
    await add_device(app, session["user"]["id"])
    r = await call(client, market.hmac, "DELETE", "/api/integrations/vendors/v_1")
    assert r.status_code == 204, r.text
    assert (await client.get("/api/notifications", headers=bearer(session))).status_code == 401
    assert await devices_of(app, session["user"]["id"]) == 0
    gone = await call(client, market.hmac, "DELETE", "/api/integrations/vendors/v_1")
    assert (gone.status_code, gone.json()["code"]) == (404, "vendor_not_found")
    again = await signed_in(client, market)  # a token after that starts afresh
    assert again["user"]["name"] == "v_1"


async def test_sign_out_ends_every_session_of_the_vendor(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    first, second = await signed_in(client, market), await signed_in(client, market)
    r = await call(client, market.hmac, "POST", "/api/integrations/vendors/v_1/sign-out")
    assert r.status_code == 204
    for s in (first, second):
        assert (await client.get("/api/notifications", headers=bearer(s))).status_code == 401
    assert (await signed_in(client, market))["user"]["id"] == first["user"]["id"]


async def test_disabling_signs_out_and_refuses_sign_in_until_enabled(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    session = await signed_in(client, market)
    path = "/api/integrations/vendors/v_1"
    assert (await call(client, market.hmac, "PUT", path, {"disabled": True})).status_code == 200
    assert (await client.get("/api/notifications", headers=bearer(session))).status_code == 401
    refused = await exchange(client, market.token())
    assert (refused.status_code, refused.json()["code"]) == (403, "vendor_disabled")
    assert (await call(client, market.hmac, "PUT", path, {"disabled": False})).status_code == 200
    await signed_in(client, market)


async def test_a_marketplace_reaches_only_its_own_vendors(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    other = await register(app, origins=("https://other.example",), name="Other")
    await signed_in(client, market)
    r = await call(client, other.hmac, "POST", "/api/integrations/vendors/v_1/sign-out")
    assert (r.status_code, r.json()["code"]) == (404, "vendor_not_found")
    plain = await issue_key(app)  # a key of no integration
    r = await call(client, plain, "PUT", "/api/integrations/vendors/v_1", {"name": "x"})
    assert (r.status_code, r.json()["code"]) == (403, "integration_key_required")
    unsigned = await client.put("/api/integrations/vendors/v_1", json={"name": "x"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "missing_signature")


def order(market: Marketplace, vendor: Any, event_id: str = "evt_1") -> dict[str, Any]:
    data = {"order_ref": "A-1", "customer": "Ada", "total_cents": 500, "currency": "EUR"}
    return {"id": event_id, "type": "order.created", "vendor": vendor, "data": data}


async def test_an_event_may_name_a_vendor_by_sub_who_is_created_if_new(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    vendor = {"sub": "v_77", "name": "New Vendor", "locale": "fr"}
    r = await call(client, market.hmac, "POST", "/api/events", order(market, vendor))
    assert r.status_code == 201, r.text
    session = await signed_in(client, market, "v_77")
    assert session["counts"]["unseen"] == 1
    assert session["user"] == {"id": session["user"]["id"], "name": "New Vendor", "locale": "fr"}
    [item] = (await client.get("/api/notifications", headers=bearer(session))).json()["items"]
    assert item["title"] == "Nouvelle commande A-1"


async def test_naming_by_sub_needs_an_integrations_key_and_ids_stay_within_it(
    app: Any, client: httpx.AsyncClient
) -> None:
    market = await register(app)
    other = await register(app, origins=("https://other.example",), name="Other")
    session = await signed_in(client, market)
    plain = await issue_key(app)
    by_sub = await call(client, plain, "POST", "/api/events", order(market, {"sub": "v_1"}))
    assert (by_sub.status_code, by_sub.json()["code"]) == (422, "unknown_vendor")
    by_id = await call(
        client, other.hmac, "POST", "/api/events", order(other, session["user"]["id"])
    )
    assert (by_id.status_code, by_id.json()["code"]) == (422, "unknown_vendor")


async def test_a_marketplaces_vendors_are_not_listed_to_vendorbells_customers(
    app: Any, client: httpx.AsyncClient
) -> None:
    from tests.conftest import Accounts

    own = await Accounts(client).vendor()
    customer = await Accounts(client).customer()
    market = await register(app)
    await signed_in(client, market, name="Marketplace vendor")
    listed = (await client.get("/api/vendors", headers=customer.headers)).json()
    assert [v["id"] for v in listed] == [own.id]


async def test_a_marketplace_vendors_push_and_email_lead_to_the_marketplace_not_vendorbell(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    market = await register(app)  # link base: https://shop.example
    vendor = {"sub": "v_5", "name": "Stall 5", "email": "stall5@shop.example"}
    first = order(market, vendor) | {"data": {"order_ref": "A-1", "url": "/stall/orders/A-1"}}
    r = await call(client, market.hmac, "POST", "/api/events", first)
    assert r.status_code == 201, r.text
    [email] = await emails_to(app, "stall5@shop.example")  # no device yet: the fallback email
    assert f"{SHOP}/stall/orders/A-1" in email.text_body
    assert f"{AUDIENCE}/stall/" not in email.text_body + email.html_body

    user_id = (await signed_in(client, market, "v_5"))["user"]["id"]
    await add_device(app, user_id)
    second = order(market, vendor, "evt_2") | {"data": {"order_ref": "A-2", "url": "/stall/o/2"}}
    assert (await call(client, market.hmac, "POST", "/api/events", second)).status_code == 201
    [push] = await pushes(app, Account(user_id, "", "", "vendor", ""))
    assert push["navigate"] == f"{SHOP}/stall/o/2"

    own = await accounts.vendor()  # vendorbell's own account: its pages, as before
    await add_device(app, own.id)
    plain = await issue_key(app)
    r = await call(client, plain, "POST", "/api/events", order(market, own.id, "evt_3"))
    assert r.status_code == 201, r.text
    [push] = await pushes(app, own)
    assert push["navigate"].startswith(f"{AUDIENCE}/")


async def emails_to(app: Any, address: str) -> list[OutgoingEmail]:
    async with app.state.db.reader() as session:
        rows = await session.scalars(
            select(OutgoingEmail).where(OutgoingEmail.recipient == address)
        )
        return list(rows)
