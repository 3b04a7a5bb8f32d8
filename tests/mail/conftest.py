"""Mail tests run against a real local SMTP server; the app's settings point at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.core.config import Settings
from tests.conftest import make_settings
from tests.mail.smtpserver import Mailbox, mailbox, smtp

__all__ = ["mailbox", "smtp"]  # the SMTP server fixtures, shared with other packages


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp: tuple[Mailbox, int]) -> Settings:
    return make_settings(
        tmp_path,
        database_url,
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        mail_from="Corner Market <alerts@market.example>",
        smtp_timeout=5,
    )
