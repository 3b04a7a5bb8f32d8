"""One runtime per process: which loops run is the role's choice, and nothing else's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.app import create_app
from server.background import LOOPS, Runtime
from tests.conftest import make_settings

WORKER_LOOPS = [
    "delivery",
    "digests",
    "broadcasts",
    "key-retiring",
    "reminders",
    "retention",
    "mail",
    "webhooks",
    "heartbeat",
]


def background_tasks() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks()} & set(LOOPS)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("api", ["token-activity"]),
        ("worker", WORKER_LOOPS),
        ("all", ["token-activity", *WORKER_LOOPS]),
    ],
)
async def test_each_role_runs_its_loops_and_no_other(
    tmp_path: Path, database_url: str, role: str, expected: list[str]
) -> None:
    runtime = Runtime(make_settings(tmp_path, database_url), role)  # type: ignore[arg-type]
    await runtime.start()
    try:
        assert runtime.running == expected
        tasks = background_tasks()
        assert tasks == set(expected) - {"token-activity", "delivery"}
    finally:
        await runtime.stop()
    assert background_tasks() == set()


async def test_the_api_role_app_runs_no_background_loop(tmp_path: Path, database_url: str) -> None:
    app = create_app(make_settings(tmp_path, database_url, role="api"))
    async with app.router.lifespan_context(app):
        assert app.state.runtime.running == ["token-activity"]
        assert not any(t.get_name().startswith("push-") for t in asyncio.all_tasks())
        assert background_tasks() == set()


def test_run_worker_false_is_the_api_role(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", run_worker=False)
    assert settings.effective_role == "api"


def test_an_app_cannot_be_made_for_the_worker_role(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="python -m server worker"):
        create_app(make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", role="worker"))
