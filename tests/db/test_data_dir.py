"""DATA_DIR holds the SQLite database and the secret key, for this user only, and a
command run without the server's settings does not make a second secret key."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.core.config import ROOT, Settings
from server.core.db import make_database
from server.integrations.models import IntegrationKey
from server.integrations.secret_key import checked_secret_key
from tests.conftest import make_settings


def _command(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m server …` as an operator runs it: from `cwd`, with only `env` set."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": path, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_database_url_the_database_lives_in_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data = tmp_path / "elsewhere"
    done = _command("migrate", cwd=tmp_path, DATA_DIR=str(data))
    assert done.returncode == 0, done.stderr
    assert (data / "vendorbell.db").stat().st_size > 0
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite+aiosqlite:///{data / 'vendorbell.db'}"


async def test_the_data_dir_and_the_database_files_are_for_this_user_only(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{data / 'vendorbell.db'}")
    database = make_database(settings)
    try:
        async with database.writer() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
            await session.commit()
        files = ["vendorbell.db", "vendorbell.db-wal", "vendorbell.db-shm"]
        assert {name: _mode(data / name) for name in files} == dict.fromkeys(files, 0o600)
        assert _mode(data) == 0o700
    finally:
        await database.dispose()


def test_a_generated_secret_key_is_kept_in_data_dir_for_this_user_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    key = settings.resolved_secret_key()
    assert (tmp_path / "data" / "secret_key").read_text() == key
    assert _mode(tmp_path / "data" / "secret_key") == 0o600
    assert _mode(tmp_path / "data") == 0o700


def test_a_command_from_another_folder_reads_the_repositorys_env(tmp_path: Path) -> None:
    env_file = ROOT / ".env"
    if env_file.exists():
        pytest.skip("the repository has its own .env")
    data = tmp_path / "data"
    env_file.write_text(f"DATA_DIR={data}\n")
    try:
        done = _command("migrate", cwd=tmp_path)
    finally:
        env_file.unlink()
    assert done.returncode == 0, done.stderr
    assert (data / "vendorbell.db").exists()


def test_a_key_is_not_sealed_with_a_new_secret_over_keys_sealed_with_another(
    tmp_path: Path, settings: Settings
) -> None:
    server_data, shell_data = tmp_path / "server", tmp_path / "shell"
    same = {"DATABASE_URL": settings.database_url}
    first = _command(
        "integration-key",
        "create",
        "--name",
        "shop",
        cwd=tmp_path,
        DATA_DIR=str(server_data),
        **same,
    )
    assert first.returncode == 0, first.stderr
    # The same database, another DATA_DIR (a shell without the server's environment).
    second = _command(
        "integration-key",
        "create",
        "--name",
        "shop2",
        cwd=tmp_path,
        DATA_DIR=str(shell_data),
        **same,
    )
    assert second.returncode != 0
    assert "1 integration keys made with another secret key" in second.stderr
    assert "No key was issued." in second.stderr
    assert not (shell_data / "secret_key").exists()
    keys = _command("integration-key", "list", cwd=tmp_path, DATA_DIR=str(shell_data), **same)
    assert keys.stdout.count("ik_") == 1


async def test_a_server_without_its_secret_key_says_so_loudly(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    database = make_database(settings)
    try:
        async with database.writer() as session:
            session.add(IntegrationKey(key_id="ik_1", name="shop", secret_sealed="x"))
            await session.commit()
        moved = settings.model_copy(update={"secret_key": None, "data_dir": tmp_path / "moved"})
        with caplog.at_level(logging.ERROR, logger="vendorbell.secret_key"):
            key = await checked_secret_key(moved, database, strict=False)
        assert (tmp_path / "moved" / "secret_key").read_text() == key
        assert any("made with another secret key" in r.getMessage() for r in caplog.records)
        async with database.reader() as session:
            assert await session.scalar(select(func.count()).select_from(IntegrationKey)) == 1
    finally:
        await database.dispose()
