"""A channel is one registration: notify() hands every decided notification to each
registered channel that its decision switches on, in the unit of work."""

from __future__ import annotations

from typing import Any

import httpx

from server.core.unit_of_work import UnitOfWork
from server.notifications.channels import CHANNELS
from server.notifications.counts import Counts
from server.notifications.models import Notification
from server.notifications.preferences.rules import Decision
from server.notifications.service import notify
from tests.conftest import Accounts


class Pigeons:
    """A throwaway channel: records what it was given and whether a row existed yet."""

    name = "pigeons"

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, str, int]] = []

    def switched_on(self, decision: Decision) -> bool:
        return decision.push == "now"

    async def deliver(
        self, uow: UnitOfWork, notification: Notification, decision: Decision, counts: Counts
    ) -> None:
        self.sent.append((notification.user_id, notification.title, decision.push, counts.unseen))
        assert notification.id is not None  # written before the channels run


async def tell(app: Any, user_id: int, title: str) -> None:
    async with app.state.units.writer() as uow:
        await notify(
            uow, user_id, type="system", event="system.notice", title=title, body="", url="/"
        )
        await uow.commit()


async def test_a_registered_channel_receives_each_notification_its_decision_switches_on(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor = await accounts.vendor()
    pigeons = Pigeons()
    app.state.units.hooks.on(CHANNELS, pigeons)
    await tell(app, int(vendor.id), "First")
    assert pigeons.sent == [(int(vendor.id), "First", "now", 1)]

    body = {"types": {"system": {"push": False, "inbox": True}}}
    saved = await client.put("/api/preferences", json=body, headers=vendor.headers)
    assert saved.status_code == 200, saved.text
    await tell(app, int(vendor.id), "Second")  # inbox only: the decision leaves it off
    assert [title for _, title, _, _ in pigeons.sent] == ["First"]
    page = await client.get("/api/notifications", headers=vendor.headers)
    assert [item["title"] for item in page.json()["items"]] == ["Second", "First"]
