"""The Alembic migrations create exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from server.core.db import Base
from server.models import load_all_models


def test_migrated_schema_matches_the_models(sqlite_template: Path) -> None:
    load_all_models()
    engine = create_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert drift == [], f"models and migrations differ: {drift}"
