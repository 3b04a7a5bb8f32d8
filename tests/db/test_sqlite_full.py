"""SQLite out of room: writes are answered 503 `unavailable` (never 500), reads still
served, /readyz 503 while writes fail, and everything is served again once there is
room, with nothing committed lost."""

from __future__ import annotations

import asyncio
import errno
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from server.app import create_app
from tests.conftest import Accounts, make_settings, order_body, place_order
from tests.ops.conftest import served
from tests.ops.test_outage import TIMEOUT, assert_unavailable, readiness_after


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "full.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


class PageLimit:
    """`PRAGMA max_page_count` on every connection the app's write engine hands out:
    past it SQLite answers SQLITE_FULL, "database or disk is full", the very result a
    full disk gives (a small filesystem of our own needs root: see the tmpfs test)."""

    UNLIMITED = 4294967294

    def __init__(self, app: Any) -> None:
        self.engine = app.state.db.engine.sync_engine
        self.pages = self.UNLIMITED
        event.listen(self.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={self.pages}")
        cursor.close()

    async def fill(self, app: Any) -> None:
        async with app.state.db.reader() as session:
            self.pages = int((await session.execute(text("PRAGMA page_count"))).scalar_one())

    def lift(self) -> None:
        self.pages = self.UNLIMITED

    def remove(self) -> None:
        event.remove(self.engine, "checkout", self._apply)


@pytest.fixture
async def sqlite_app(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Any]:
    app = create_app(make_settings(tmp_path, sqlite_url))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def page_limit(sqlite_app: Any) -> Iterator[PageLimit]:
    limit = PageLimit(sqlite_app)
    yield limit
    limit.remove()


async def test_a_full_sqlite_database_answers_writes_503_and_readyz_503_until_room_is_made(
    sqlite_app: Any, page_limit: PageLimit
) -> None:
    async with (
        served(sqlite_app) as base,
        httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client,
    ):
        accounts = Accounts(client)
        vendor, customer = await accounts.vendor(), await accounts.customer()
        before = await place_order(client, customer, vendor)
        await page_limit.fill(sqlite_app)
        answers = []
        for _ in range(200):  # the pages' free room goes first
            response = await client.post(
                "/api/orders", json=order_body(vendor.id), headers=customer.headers
            )
            answers.append(response.status_code)
            if response.status_code != 201:
                assert_unavailable(response)
                break
        assert answers[-1] == 503, answers
        assert (await client.get("/readyz")).status_code == 503
        reads = await client.get(f"/api/orders/{before['id']}", headers=customer.headers)
        assert reads.status_code == 200  # reading needs no room
        page_limit.lift()
        after = await client.post(
            "/api/orders", json=order_body(vendor.id), headers=customer.headers
        )
        assert after.status_code == 201, after.text
        assert await readiness_after(client) == 200
        mine = await client.get("/api/orders", headers=customer.headers)
        ids = {order["id"] for order in mine.json()}
        assert before["id"] in ids and after.json()["id"] in ids
        assert len(ids) == answers.count(201) + 2  # every order answered 201 was kept


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of our own: a disk that really fills (needs root to mount)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace')}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the disk refuses them (ENOSPC)."""
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(bytes(64 * 1024))
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def test_readyz_sees_a_really_full_disk_before_any_write_fails(
    tmp_path: Path, sqlite_template: Path, small_disk: Path
) -> None:
    path = small_disk / "vendorbell.db"
    path.write_bytes(sqlite_template.read_bytes())
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{path}"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        customer, vendor = await Accounts(client).customer(), await Accounts(client).vendor()
        assert (await client.get("/readyz")).status_code == 200
        filler = fill(small_disk)
        await asyncio.sleep(1.0)  # the last round of checks is reused for 1 s
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"database": "failed"}
        for _ in range(50):  # what room the WAL had left is used up first
            order = await client.post(
                "/api/orders", json=order_body(vendor.id), headers=customer.headers
            )
            if order.status_code != 201:
                assert_unavailable(order)
                break
        else:
            pytest.fail("every write succeeded on a full disk")
        filler.unlink()
        order = await client.post(
            "/api/orders", json=order_body(vendor.id), headers=customer.headers
        )
        assert order.status_code == 201, order.text
        assert await readiness_after(client) == 200
