"""A broadcast is typed by its admin in one language: every push says which."""

from __future__ import annotations

from typing import Any

import httpx

from server.admin import broadcasts
from server.core.config import Settings
from tests.admin.test_broadcasts import admin_account
from tests.conftest import Accounts


async def test_a_broadcast_keeps_its_text_and_says_it_is_in_the_admin_s_language(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    await client.patch("/api/me", json={"locale": "de"}, headers=admin.headers)
    vendor = await accounts.vendor()
    await client.patch("/api/me", json={"locale": "fr"}, headers=vendor.headers)
    text = {"title": "Wartung heute Nacht", "body": "Von 2 bis 3 Uhr.", "audience": "vendors"}
    created = await client.post("/api/admin/broadcasts", json=text, headers=admin.headers)
    assert created.status_code == 202, created.text
    while await broadcasts._send_chunk(app.state.units, int(created.json()["id"])):
        pass

    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert (item["title"], item["body"], item["lang"]) == (
        "Wartung heute Nacht",
        "Von 2 bis 3 Uhr.",
        "de",
    )
