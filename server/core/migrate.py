"""Applying Alembic migrations from code (CLI `migrate`, `run`, and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import make_url

from server.core.config import Settings
from server.core.db import create_private_file

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the database to `revision` (creating the SQLite file's folder if needed)."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = make_url(settings.database_url).database
        if path and path != ":memory:":
            create_private_file(path)  # owner-only from the start (server.core.db)
    command.upgrade(alembic_config(settings), revision)
