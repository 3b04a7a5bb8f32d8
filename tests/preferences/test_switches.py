"""Every switch the settings offer changes what is delivered: per role, per type and per
channel offered (push for every type, the inbox for all but orders, which always stay,
email for a vendor's orders), off means none and on means one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.mail.models import OutgoingEmail
from server.notifications.service import notify
from server.notifications.types import KINDS
from tests.conftest import Account, Accounts, place_order
from tests.preferences.factories import add_device, deliveries

ROLES = ("vendor", "customer")
OFFERED = [
    *((role, kind, "push") for role in ROLES for kind in KINDS),
    *((role, kind, "inbox") for role in ROLES for kind in KINDS if kind != "order"),
    ("vendor", "order", "email"),
]


async def _switch(
    client: httpx.AsyncClient, user: Account, kind: str, channel: str, on: bool
) -> None:
    channels: dict[str, bool] = {"push": True, "inbox": True}
    channels[channel] = on
    response = await client.put(
        "/api/preferences", json={"types": {kind: channels}}, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def _notify(app: Any, user: Account, kind: str) -> None:
    async with app.state.units.writer() as uow:
        await notify(
            uow, int(user.id), type=kind, event=f"{kind}.test", title="t", body="b", url="/"
        )
        await uow.commit()


async def _unread(client: httpx.AsyncClient, user: Account, kind: str) -> int:
    count = (await client.get("/api/notifications/count", headers=user.headers)).json()
    return int(count["by_type"][kind])


async def _emails(app: Any) -> int:
    async with app.state.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(OutgoingEmail)) or 0)


@pytest.mark.parametrize(("role", "kind", "channel"), OFFERED)
@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
async def test_each_offered_switch_decides_its_channel(
    app: Any,
    client: httpx.AsyncClient,
    accounts: Accounts,
    role: str,
    kind: str,
    channel: str,
    on: bool,
) -> None:
    user = await (accounts.vendor() if role == "vendor" else accounts.customer())
    if channel == "email":  # the order email: a new order that finds no device to ring
        customer = await accounts.customer()
        await _switch(client, user, kind, "email", on)
        await place_order(client, customer, user)
        assert await _emails(app) == (1 if on else 0)
        return
    await add_device(app, user.id)
    await _switch(client, user, kind, channel, on)
    await _notify(app, user, kind)
    if channel == "push":
        assert len(await deliveries(app, user.id)) == (1 if on else 0)
    else:  # the inbox: off leaves the push (it still rings) but nothing unread
        assert await _unread(client, user, kind) == (1 if on else 0)
        assert len(await deliveries(app, user.id)) == 1
