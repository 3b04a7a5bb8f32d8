"""A notification type is declared once, as a `Kind`, and every part reads it from there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from server.core.languages import Language
from server.notifications.preferences import service as preferences_service
from server.notifications.preferences.digest import release_held
from server.notifications.service import notify
from server.notifications.types import KINDS, Kind, declare
from server.push.models import PushDelivery
from server.push.payload import PUSH_TYPES
from tests.conftest import Accounts
from tests.preferences.factories import add_device

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
MORNING = datetime(2026, 6, 2, 7, 30, tzinfo=UTC)
QUIET = {"enabled": True, "start": "22:00", "end": "07:00", "time_zone": "UTC"}


def parcels(lang: Language, count: int) -> str:
    return lang.ngettext(
        "{count} parcel while you were away", "{count} parcels while you were away", count
    )


@pytest.fixture
def shipping() -> Iterator[Kind]:
    kind = declare(Kind("shipping", 2 * 3600, "low", email=True, digest=parcels))
    yield kind
    del KINDS[kind.name], PUSH_TYPES[kind.name]


async def tell(app: Any, user_id: int, title: str) -> None:
    async with app.state.units.writer() as uow:
        await notify(
            uow,
            user_id,
            type="shipping",
            event="shipping.dispatched",
            title=title,
            body="On its way.",
            url="/notifications",
        )
        await uow.commit()


async def test_a_declared_kind_flows_through_preferences_pushes_the_inbox_and_digests(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    shipping: Kind,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vendor = await accounts.vendor()
    await add_device(app, vendor.id)
    prefs = (await client.get("/api/preferences", headers=vendor.headers)).json()
    assert prefs["types"]["shipping"] == {"push": True, "inbox": True, "email": True}
    body = {"types": {"shipping": {"push": True, "inbox": True}}, "quiet_hours": QUIET}
    saved = await client.put("/api/preferences", json=body, headers=vendor.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["types"]["shipping"]["email"] is True  # the kind's default

    monkeypatch.setattr(preferences_service, "now", lambda: NOON)
    await tell(app, int(vendor.id), "Parcel 1 dispatched")
    async with app.state.db.reader() as session:
        [delivery] = (await session.scalars(select(PushDelivery))).all()
    assert (delivery.ttl, delivery.urgency) == (2 * 3600, "low")
    page = await client.get("/api/notifications?type=shipping", headers=vendor.headers)
    assert [item["title"] for item in page.json()["items"]] == ["Parcel 1 dispatched"]
    counts = (await client.get("/api/notifications/count", headers=vendor.headers)).json()
    assert counts["by_type"]["shipping"] == 1

    monkeypatch.setattr(preferences_service, "now", lambda: NIGHT)  # quiet hours hold them
    await tell(app, int(vendor.id), "Parcel 2 dispatched")
    await tell(app, int(vendor.id), "Parcel 3 dispatched")
    async with app.state.units.writer() as uow:
        assert await release_held(uow, MORNING) == 1
        await uow.commit()
    async with app.state.db.reader() as session:
        rows = (await session.scalars(select(PushDelivery).order_by(PushDelivery.id))).all()
    assert len(rows) == 2
    assert '"title":"2 parcels while you were away"' in rows[-1].payload


async def test_an_undeclared_type_is_refused_where_a_request_names_one(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    body = {"types": {"shipping": {"push": False}}}
    refused = await client.put("/api/preferences", json=body, headers=vendor.headers)
    assert refused.status_code == 422
    listed = await client.get("/api/notifications?type=shipping", headers=vendor.headers)
    assert listed.status_code == 422
