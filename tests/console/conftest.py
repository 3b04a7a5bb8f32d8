"""Console fixtures: an app whose delivery worker and mail loop run, against the loopback
push service and a local SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.core.config import Settings
from tests.conftest import make_settings
from tests.mail.smtpserver import Mailbox, mailbox, smtp
from tests.pushservice import PushService

__all__ = ["mailbox", "smtp"]  # the SMTP server fixtures, shared with other packages


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
