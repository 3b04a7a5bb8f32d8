"""Console fixtures: an app whose delivery worker and mail loop run, against the loopback
push service and a local SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.core.config import Settings
from tests.conftest import make_settings
from tests.mail.smtpserver import Mailbox, smtp_server
from tests.pushservice import PushService


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: tuple[Mailbox, int]) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        run_worker=True,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        mail_from="Corner Market <alerts@market.example>",
        smtp_timeout=5,
    )


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    async with PushService() as service:
        yield service
