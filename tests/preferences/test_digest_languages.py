"""A quiet-hours digest is written when it is released, in the language its user reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from server.notifications.preferences import service as preferences_service
from server.notifications.preferences.digest import release_held
from tests.conftest import Accounts, place_order
from tests.preferences.factories import add_device, deliveries

QUIET = {"enabled": True, "start": "22:00", "end": "07:00", "time_zone": "Europe/Paris"}
NIGHT = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)  # 23:00 in Paris
MORNING = datetime(2026, 6, 2, 5, 30, tzinfo=UTC)  # 07:30


async def test_a_digest_speaks_its_user_s_language(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preferences_service, "now", lambda: NIGHT)
    vendor, customer = await accounts.vendor(), await accounts.customer("Alice")
    await client.patch("/api/me", json={"locale": "fr"}, headers=vendor.headers)
    await add_device(app, vendor.id)
    body = {"quiet_hours": {**QUIET, "orders_ring": False}}
    assert (await client.put("/api/preferences", json=body, headers=vendor.headers)).is_success
    await place_order(client, customer, vendor)
    latest = await place_order(client, customer, vendor)

    async with app.state.units.writer() as uow:
        assert await release_held(uow, MORNING) == 1
        await uow.commit()
    [digest] = await deliveries(app, vendor.id)
    assert (digest["title"], digest["body"], digest["lang"]) == (
        "2 nouvelles commandes pendant votre absence",
        f"Dernière notification\u00a0: Nouvelle commande #{latest['id']}",
        "fr",
    )
