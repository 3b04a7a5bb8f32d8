"""Broadcasts: an admin role from the CLI, and one system notification per audience member."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from server.accounts.models import User
from server.accounts.passwords import PasswordLikeAccount, PasswordTooCommon
from server.admin import broadcasts
from server.admin.cli import create_admin
from server.core.config import Settings
from server.notifications.models import Notification
from server.push.models import PushDelivery, PushSubscription
from tests.conftest import Account, Accounts

PASSWORD = "correct horse battery"


async def admin_account(client: httpx.AsyncClient, settings: Settings) -> Account:
    message = await create_admin(settings, email="root@example.com", name="Root", password=PASSWORD)
    assert message.startswith("created admin root@example.com")
    login = await client.post(
        "/api/auth/login", json={"email": "root@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["user"]["role"] == "admin"
    return Account(
        id=body["user"]["id"],
        email="root@example.com",
        name="Root",
        role="admin",
        token=body["token"],
    )


async def add_users(app: Any, role: str, n: int, devices: Any) -> list[int]:
    """n users straight in the database (registering through argon2 would take a minute)."""
    async with app.state.db.writer() as session:
        tag = f"{role}-{time.monotonic_ns()}"
        ids = list(
            await session.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"{tag}-{i}@example.com",
                        "name": f"{role} {i}",
                        "role": role,
                        "password_hash": "x",
                    }
                    for i in range(n)
                ],
            )
        )
        subs = [
            {
                "user_id": uid,
                "endpoint": f"http://127.0.0.1:9/{tag}/{uid}/{d}",
                "p256dh": "BPx",
                "auth": "auth",
                "vapid_key_id": "test",
                "muted": False,
            }
            for i, uid in enumerate(ids)
            for d in range(devices(i))
        ]
        if subs:
            await session.execute(insert(PushSubscription), subs)
        await session.commit()
    return ids


async def test_create_admin_promotes_an_existing_account(
    client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    vendor = await accounts.vendor()
    message = await create_admin(settings, email=vendor.email.upper(), name="x", password=PASSWORD)
    assert message.startswith("promoted admin")
    me = await client.get("/api/me", headers=vendor.headers)
    assert me.json()["role"] == "admin"


async def test_only_admins_may_broadcast(client: httpx.AsyncClient, accounts: Accounts) -> None:
    vendor = await accounts.vendor()
    body = {"title": "Hi", "body": "All", "audience": "all"}
    r = await client.post("/api/admin/broadcasts", json=body, headers=vendor.headers)
    assert (r.status_code, r.json()["code"]) == (403, "admin_only")
    assert (await client.post("/api/admin/broadcasts", json=body)).status_code == 401


async def test_broadcast_to_1000_vendors_reaches_each_once_on_every_device(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    admin = await admin_account(client, settings)
    vendors = await add_users(app, "vendor", 1000, devices=lambda i: 2 if i % 3 == 0 else 1)
    customers = await add_users(app, "customer", 20, devices=lambda i: 1)
    started = time.perf_counter()
    r = await client.post(
        "/api/admin/broadcasts",
        json={"title": "Maintenance tonight", "body": "Back at 02:00.", "audience": "vendors"},
        headers=admin.headers,
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    await broadcasts.fan_out_pending(app.state.units)  # what the worker role's loop runs
    elapsed = time.perf_counter() - started

    async with app.state.db.reader() as session:
        per_user = dict(
            (
                await session.execute(
                    select(Notification.user_id, func.count())
                    .where(Notification.event == "system.broadcast")
                    .group_by(Notification.user_id)
                )
            ).all()
        )
        pushes = dict(
            (
                await session.execute(
                    select(Notification.user_id, func.count(PushDelivery.id))
                    .join(PushDelivery, PushDelivery.notification_id == Notification.id)
                    .where(Notification.event == "system.broadcast")
                    .group_by(Notification.user_id)
                )
            ).all()
        )
    assert per_user == dict.fromkeys(vendors, 1)
    assert not set(customers) & set(per_user)
    assert pushes == {uid: 2 if i % 3 == 0 else 1 for i, uid in enumerate(vendors)}

    progress = await client.get(f"/api/admin/broadcasts/{r.json()['id']}", headers=admin.headers)
    body = progress.json()
    assert body["status"] == "done" and body["recipients"] == 1000
    assert body["push"] == {"queued": 1334, "delivered": 0, "failed": 0, "expired": 0}
    listed = await client.get("/api/admin/broadcasts", headers=admin.headers)
    assert [(b["id"], b["status"]) for b in listed.json()] == [(body["id"], "done")]
    print(f"broadcast to 1000 vendors (1334 devices): {elapsed:.2f} s")


async def test_broadcast_progress_moves_as_each_chunk_commits(
    app: Any, client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broadcasts, "CHUNKS", {"sqlite": 10, "postgresql": 10})
    admin = await admin_account(client, settings)
    await add_users(app, "vendor", 25, devices=lambda i: 1)
    r = await client.post(
        "/api/admin/broadcasts",
        json={"title": "New fees", "body": "From July.", "audience": "vendors"},
        headers=admin.headers,
    )
    broadcast_id = r.json()["id"]
    seen = []
    while await broadcasts._send_chunk(app.state.units, int(broadcast_id)):
        progress = await client.get(f"/api/admin/broadcasts/{broadcast_id}", headers=admin.headers)
        body = progress.json()
        seen.append((body["status"], body["recipients"], body["push"]["queued"]))
    assert seen == [("sending", 10, 10), ("sending", 20, 20), ("sending", 25, 25)]
    done = await client.get(f"/api/admin/broadcasts/{broadcast_id}", headers=admin.headers)
    assert (done.json()["status"], done.json()["recipients"]) == ("done", 25)


async def test_unknown_broadcast_is_404(client: httpx.AsyncClient, settings: Settings) -> None:
    admin = await admin_account(client, settings)
    r = await client.get("/api/admin/broadcasts/999999", headers=admin.headers)
    assert (r.status_code, r.json()["code"]) == (404, "broadcast_not_found")


async def test_create_admin_refuses_the_passwords_sign_up_refuses(
    client: httpx.AsyncClient, accounts: Accounts, settings: Settings
) -> None:
    with pytest.raises(PasswordTooCommon):
        await create_admin(settings, email="boss@example.com", name="Boss", password="password1")
    vendor = await accounts.vendor()
    with pytest.raises(PasswordLikeAccount):  # promoting keeps the rules too
        await create_admin(settings, email=vendor.email, name="X", password=vendor.email)
    me = await client.get("/api/me", headers=vendor.headers)
    assert me.json()["role"] == "vendor"
