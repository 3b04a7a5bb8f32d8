"""Several processes on one PostgreSQL and one Redis: an emptied database per test."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import TABLES
from tests.integrations.webhook_receiver import receiver  # noqa: F401


@pytest.fixture
async def pg_url(pg_database: str) -> str:
    engine = create_async_engine(pg_database)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return pg_database
