"""The console's Broadcasts: progress in users as chunks commit, and cancelling one.

The fan-out is driven by the worker's own step (`_send_chunk`) with small chunks, so
each test sees the broadcast between two chunks where a real worker would be.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from server.admin import broadcasts
from server.admin.models import BroadcastNotification
from server.core.config import Settings
from server.notifications.models import Notification
from server.notifications.preferences.models import UserPreferences
from server.push.payload import MAX_PLAINTEXT
from tests.admin.test_broadcasts import add_users, admin_account
from tests.conftest import Account, Accounts, make_settings

CHUNK = 10
TEXT = {"title": "Maintenance tonight", "body": "Back at 02:00.", "audience": "vendors"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No worker role in the app: the test is the worker, one chunk at a time.
    return make_settings(tmp_path, database_url)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broadcasts, "CHUNKS", {"sqlite": CHUNK, "postgresql": CHUNK})


async def start(client: httpx.AsyncClient, admin: Account, **text: str) -> dict[str, Any]:
    created = await client.post(
        "/api/admin/broadcasts", json={**TEXT, **text}, headers=admin.headers
    )
    assert created.status_code == 202, created.text
    body: dict[str, Any] = created.json()
    return body


async def look(client: httpx.AsyncClient, admin: Account, broadcast_id: str) -> dict[str, Any]:
    answer = await client.get(f"/api/admin/broadcasts/{broadcast_id}", headers=admin.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def written(app: Any, broadcast_id: str) -> tuple[int, int]:
    """The broadcast's notifications and its links to them, as rows in the database."""
    async with app.state.db.reader() as session:
        notifications = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.data["broadcast_id"].as_string() == broadcast_id)
        )
        links = await session.scalar(
            select(func.count())
            .select_from(BroadcastNotification)
            .where(BroadcastNotification.broadcast_id == int(broadcast_id))
        )
    return notifications or 0, links or 0


async def switch_system_off(app: Any, user_ids: list[int]) -> None:
    async with app.state.db.writer() as session:
        for user_id in user_ids:
            session.add(
                UserPreferences(user_id=user_id, types={"system": {"push": False, "inbox": False}})
            )
        await session.commit()


async def test_progress_counts_users_walked_and_notifications_written_per_chunk(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    vendors = await add_users(app, "vendor", 25, devices=lambda i: 1)
    await add_users(app, "customer", 4, devices=lambda i: 1)  # not in the audience
    await switch_system_off(app, vendors[:3])  # walked past, but they get no notification
    created = await start(client, admin)
    assert (created["status"], created["recipients_total"], created["recipients_done"]) == (
        "queued",
        25,
        0,
    )
    assert created["lang"] == "en"

    seen = []
    while await broadcasts._send_chunk(app.state.units, int(created["id"])):
        now = await look(client, admin, created["id"])
        rows = await written(app, created["id"])
        seen.append((now["status"], now["recipients_done"], now["recipients_total"]))
        assert rows == (now["recipients"], now["recipients"])
    assert seen == [("sending", 10, 25), ("sending", 20, 25), ("sending", 25, 25)]

    done = await look(client, admin, created["id"])
    assert (done["status"], done["recipients_done"], done["recipients_total"]) == ("done", 25, 25)
    assert done["recipients"] == 22 == (await written(app, created["id"]))[0]
    assert done["finished_at"] is not None


async def test_users_who_sign_up_while_it_runs_grow_the_total(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    await add_users(app, "vendor", 15, devices=lambda i: 0)
    created = await start(client, admin)
    assert await broadcasts._send_chunk(app.state.units, int(created["id"]))
    await add_users(app, "vendor", 12, devices=lambda i: 0)  # after the first chunk
    while await broadcasts._send_chunk(app.state.units, int(created["id"])):
        now = await look(client, admin, created["id"])
        assert now["recipients_done"] <= now["recipients_total"]
    done = await look(client, admin, created["id"])
    assert (done["recipients_done"], done["recipients_total"], done["recipients"]) == (27, 27, 27)


async def test_cancel_stops_it_after_the_chunk_it_is_writing(
    app: Any, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await admin_account(client, settings)
    await add_users(app, "vendor", 35, devices=lambda i: 1)
    created = await start(client, admin)
    broadcast_id = created["id"]
    assert await broadcasts._send_chunk(app.state.units, int(broadcast_id))  # chunk 1 sent

    # Chunk 2 stops inside its transaction until the cancel has been asked for.
    inside, release = asyncio.Event(), asyncio.Event()
    real_notify_many = broadcasts.notify_many

    async def held_notify_many(*args: Any, **kwargs: Any) -> dict[int, int]:
        sent = await real_notify_many(*args, **kwargs)
        inside.set()
        await asyncio.wait_for(release.wait(), 10)
        return sent

    monkeypatch.setattr(broadcasts, "notify_many", held_notify_many)
    chunk = asyncio.create_task(broadcasts._send_chunk(app.state.units, int(broadcast_id)))
    await asyncio.wait_for(inside.wait(), 10)
    cancel = asyncio.create_task(
        client.post(f"/api/admin/broadcasts/{broadcast_id}/cancel", headers=admin.headers)
    )
    await asyncio.sleep(0.3)
    assert not cancel.done()  # it waits for the chunk in hand (its row lock / the write lock)
    release.set()
    assert await asyncio.wait_for(chunk, 10) is True
    answer = await asyncio.wait_for(cancel, 10)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["recipients_done"]) == ("cancelled", 20)

    monkeypatch.setattr(broadcasts, "notify_many", real_notify_many)
    assert await broadcasts._send_chunk(app.state.units, int(broadcast_id)) is False
    await broadcasts.fan_out_pending(app.state.units)  # what the worker's loop runs: nothing
    after = await look(client, admin, broadcast_id)
    assert (after["status"], after["recipients_done"], after["recipients_total"]) == (
        "cancelled",
        20,
        35,
    )
    assert after["recipients"] == 20 == (await written(app, broadcast_id))[0]
    assert after["push"]["queued"] == 20  # the two chunks' pushes stay on their way
    assert after["finished_at"] is not None


async def test_a_queued_broadcast_cancelled_sends_nothing(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    await add_users(app, "vendor", 5, devices=lambda i: 1)
    created = await start(client, admin)
    answer = await client.post(
        f"/api/admin/broadcasts/{created['id']}/cancel", headers=admin.headers
    )
    assert answer.status_code == 200, answer.text
    await broadcasts.fan_out_pending(app.state.units)
    assert (await look(client, admin, created["id"]))["recipients_done"] == 0
    assert await written(app, created["id"]) == (0, 0)


async def test_a_finished_broadcast_cannot_be_cancelled(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    await add_users(app, "vendor", 3, devices=lambda i: 1)
    created = await start(client, admin)
    await broadcasts.fan_out_pending(app.state.units)
    path = f"/api/admin/broadcasts/{created['id']}/cancel"
    answer = await client.post(path, headers=admin.headers)
    assert (answer.status_code, answer.json()["code"]) == (409, "broadcast_finished")
    assert (await look(client, admin, created["id"]))["status"] == "done"

    other = await start(client, admin)
    assert (
        await client.post(f"/api/admin/broadcasts/{other['id']}/cancel", headers=admin.headers)
    ).status_code == 200
    again = await client.post(f"/api/admin/broadcasts/{other['id']}/cancel", headers=admin.headers)
    assert (again.status_code, again.json()["code"]) == (409, "broadcast_finished")

    for missing in ("999999", "nope"):
        gone = await client.post(f"/api/admin/broadcasts/{missing}/cancel", headers=admin.headers)
        assert (gone.status_code, gone.json()["code"]) == (404, "broadcast_not_found")


async def test_only_admins_see_or_cancel_broadcasts(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    vendor = await accounts.vendor()
    created = await start(client, admin)
    path = f"/api/admin/broadcasts/{created['id']}"
    for method, url in [
        ("POST", f"{path}/cancel"),
        ("GET", path),
        ("GET", "/api/admin/broadcasts"),
    ]:
        refused = await client.request(method, url, headers=vendor.headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "admin_only")
        assert (await client.request(method, url)).status_code == 401
    assert (await look(client, admin, created["id"]))["status"] == "queued"


async def test_a_broadcast_is_marked_in_the_language_its_admin_names(
    app: Any, client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    admin = await admin_account(client, settings)  # English
    vendor = await accounts.vendor()
    created = await start(client, admin, title="Wartung heute Nacht", body="Ab 2 Uhr.", lang="de")
    assert created["lang"] == "de"
    await broadcasts.fan_out_pending(app.state.units)
    [item] = (await client.get("/api/notifications", headers=vendor.headers)).json()["items"]
    assert (item["title"], item["lang"]) == ("Wartung heute Nacht", "de")

    refused = await client.post(
        "/api/admin/broadcasts", json={**TEXT, "lang": "xx"}, headers=admin.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["type"] == "unknown_locale"


def test_the_pages_preview_cuts_pushes_at_the_servers_limit() -> None:
    """pwa/push-preview.js restates MAX_PLAINTEXT; the browser test checks its cut."""
    source = (Path(__file__).resolve().parents[2] / "pwa" / "push-preview.js").read_text("utf-8")
    match = re.search(r"export const MAX_PLAINTEXT = (\d+);", source)
    assert match is not None
    assert int(match.group(1)) == MAX_PLAINTEXT
