"""A browser renews a device's subscription (`pushsubscriptionchange`) from a service
worker that holds no session: the renewal token the device got when it subscribed
replaces that device's endpoint, once, and nothing else."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from server.push.models import PushSubscription
from tests.conftest import Account, Accounts
from tests.integrations.embedding import SHOP, register
from tests.pushservice import BrowserSubscription, PushService


async def subscribed(
    client: httpx.AsyncClient, vendor: Account, device: BrowserSubscription, label: str
) -> dict[str, Any]:
    r = await client.post(
        "/api/push/subscriptions", json=device.to_json(label=label), headers=vendor.headers
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def renew(
    client: httpx.AsyncClient, token: str, device: BrowserSubscription
) -> httpx.Response:
    body = {k: v for k, v in device.to_json().items() if k != "label"}
    return await client.post("/api/push/renewals", json={**body, "renewal_token": token})


async def endpoints(app: Any) -> dict[int, tuple[int, str, str | None]]:
    async with app.state.db.reader() as session:
        rows = await session.scalars(select(PushSubscription))
        return {row.id: (row.user_id, row.endpoint, row.label) for row in rows}


async def test_a_worker_without_a_session_moves_its_device_to_the_new_endpoint_once(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor = await accounts.vendor()
    old, new, newer = push_service.subscribe(), push_service.subscribe(), push_service.subscribe()
    device = await subscribed(client, vendor, old, "Till")

    renewed = await renew(client, device["renewal_token"], new)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["id"] == device["id"] and renewed.json()["endpoint"] == new.endpoint
    assert renewed.json()["renewal_token"] != device["renewal_token"]
    [(user_id, endpoint, label)] = (await endpoints(app)).values()
    assert (str(user_id), endpoint, label) == (vendor.id, new.endpoint, "Till")

    # The test push reaches the device at its new endpoint.
    queued = await client.post("/api/push/test", headers=vendor.headers)
    assert queued.json()["queued"] == 1

    spent = await renew(client, device["renewal_token"], newer)
    assert (spent.status_code, spent.json()["code"]) == (403, "renewal_refused")
    again = await renew(client, renewed.json()["renewal_token"], newer)
    assert again.status_code == 200 and again.json()["endpoint"] == newer.endpoint


async def test_a_token_replaces_only_its_own_device_and_never_anothers_endpoint(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, push_service: PushService
) -> None:
    vendor, other = await accounts.vendor(), await accounts.vendor()
    mine = await subscribed(client, vendor, push_service.subscribe(), "Phone")
    theirs_device = push_service.subscribe()
    theirs = await subscribed(client, other, theirs_device, "Laptop")
    before = await endpoints(app)

    device_id, _, mac = mine["renewal_token"].partition(".")
    forged = f"{theirs['id']}.{mac}"  # my MAC under their device's number
    for token in (forged, f"{device_id}.{'A' * 32}", "not-a-token", "9" * 30 + ".x"):
        r = await renew(client, token, push_service.subscribe())
        assert (r.status_code, r.json()["code"]) == (403, "renewal_refused"), token

    taken = await renew(client, mine["renewal_token"], theirs_device)
    assert (taken.status_code, taken.json()["code"]) == (409, "endpoint_in_use")

    private = push_service.subscribe().to_json()
    private["endpoint"] = "https://10.1.2.3/push/x"
    r = await client.post(
        "/api/push/renewals", json={**private, "renewal_token": mine["renewal_token"]}
    )
    assert r.status_code == 422 and r.json()["code"].startswith("endpoint_")
    assert await endpoints(app) == before  # nothing was changed by any refused renewal


async def test_a_marketplaces_page_may_call_the_renewal_across_origins(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(app)
    preflight = {
        "Origin": SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    r = await client.options("/api/push/renewals", headers=preflight)
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == SHOP
