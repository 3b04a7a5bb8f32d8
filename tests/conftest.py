"""Shared fixtures: settings on a throw-away database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), the real app behind an httpx client, and user factories."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.app import create_app
from server.core.config import Settings
from server.core.migrate import upgrade

PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
PG_REASON = (
    "PostgreSQL tests need TEST_DATABASE_URL, e.g. "
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)
TABLES = (
    "email_outbox",
    "integration_events",
    "embed_token_uses",
    "embed_keys",
    "integration_keys",
    "broadcast_notifications",
    "broadcasts",
    "order_reminders",
    "held_pushes",
    "user_preferences",
    "push_deliveries",
    "push_subscriptions",
    "notifications",
    "order_messages",
    "order_payments",
    "order_items",
    "orders",
    "order_counters",
    "api_tokens",
    "users",
    "integrations",
    "worker_heartbeats",
    "push_service_stats",
    "push_circuits",
)


SERVICE_MARKERS = ("postgres", "redis", "browser")


SLOW_TEST_TIMEOUT = 900  # seconds: real worker processes, a whole fuzz run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` get a longer bound than pyproject's per-test `timeout`, unless
    they set their own: they are slow by design, not hung."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TEST_TIMEOUT))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With VENDORBELL_REQUIRE_SERVICES=1 (CI), a skipped PostgreSQL, Redis or browser
    test fails: CI promises those servers, so a skip there would hide a broken set-up."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    required = os.environ.get("VENDORBELL_REQUIRE_SERVICES") == "1"
    if required and report.skipped and any(item.get_closest_marker(m) for m in SERVICE_MARKERS):
        report.outcome = "failed"
        report.longrepr = (
            f"required service missing (VENDORBELL_REQUIRE_SERVICES=1): {report.longrepr}"
        )


def make_settings(tmp: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp / "data",
        "keys_dir": tmp / "keys",
        "secret_key": "test-secret-key-" + "x" * 32,
        "public_url": "http://testserver",
        "run_worker": False,
        "redis_url": None,
        "push_allowed_hosts": ["127.0.0.1"],
        # Hundreds of apps start in one test process: freezing each one's objects
        # would keep them all alive.
        "gc_tuning": False,
        # Every test registers its users from one address; tests of the limit set it low.
        "register_max_per_window": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is slow)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.db"
    upgrade(make_settings(folder, f"sqlite+aiosqlite:///{path}"))
    return path


async def _pg_admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    if not PG_URL:
        pytest.skip(PG_REASON)
    name = f"vendorbell_test_{uuid.uuid4().hex[:10]}"
    base, _, _ = PG_URL.rpartition("/")
    try:
        asyncio.run(_pg_admin(PG_URL, f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        pytest.skip(f"PostgreSQL at TEST_DATABASE_URL does not answer: {exc}")
    url = f"{base}/{name}"
    upgrade(make_settings(Path("/tmp"), url))
    yield url
    asyncio.run(_pg_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _redis_answers(url: str) -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        return str(exc)
    finally:
        await client.aclose()
    return None


@pytest.fixture
async def redis_url() -> str:
    """TEST_REDIS_URL once it answers (tests using it carry the `redis` marker)."""
    if not REDIS_URL:
        pytest.skip(
            "Redis tests need TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0 (.ci/run sets it)"
        )
    error = await _redis_answers(REDIS_URL)
    if error:
        pytest.skip(f"Redis at TEST_REDIS_URL does not answer: {error}")
    return REDIS_URL


@pytest.fixture
def channel() -> str:
    """Each test on its own channel: test runs sharing one Redis never see each other."""
    return f"vendorbell:test:{uuid.uuid4().hex}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    asyncio.run(_pg_admin(url, f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@dataclass
class Account:
    id: str
    email: str
    name: str
    role: str
    token: str
    password: str = "correct horse battery"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


_counter = itertools.count(1)


class Accounts:
    """Registers users through the real API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def create(self, role: str = "vendor", name: str | None = None) -> Account:
        n = next(_counter)
        name = name or f"{role.title()} {n}"
        body = {
            "email": f"{role}{n}-{uuid.uuid4().hex[:6]}@example.com",
            "password": "correct horse battery",
            "name": name,
            "role": role,
        }
        response = await self.client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.text
        # The answer's session cookie would make the shared client this user: tests say
        # who is asking with each account's bearer token.
        self.client.cookies.clear()
        data = response.json()
        return Account(
            id=data["user"]["id"], email=body["email"], name=name, role=role, token=data["token"]
        )

    async def vendor(self, name: str | None = None) -> Account:
        return await self.create("vendor", name)

    async def customer(self, name: str | None = None) -> Account:
        return await self.create("customer", name)


@pytest.fixture
def accounts(client: httpx.AsyncClient) -> Accounts:
    return Accounts(client)


def order_body(vendor: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vendor_id": vendor,
        "items": [
            {"name": "Flat white", "quantity": 2, "unit_price_cents": 350},
            {"name": "Croissant", "quantity": 1, "unit_price_cents": 220},
        ],
        "currency": "EUR",
    }
    body.update(overrides)
    return body


async def place_order(
    client: httpx.AsyncClient, customer: Account, vendor: Account, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/orders", json=order_body(vendor.id, **overrides), headers=customer.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
