"""Push fixtures: the loopback push service and an app whose delivery worker runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.core.config import Settings
from tests.conftest import Accounts, make_settings
from tests.pushservice import PushService


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    async with PushService() as service:
        yield service


@pytest.fixture
def worker_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, run_worker=True)


@pytest.fixture
async def worker_app(worker_settings: Settings) -> AsyncIterator[Any]:
    application = create_app(worker_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def worker_client(worker_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=worker_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def worker_accounts(worker_client: httpx.AsyncClient) -> Accounts:
    return Accounts(worker_client)
