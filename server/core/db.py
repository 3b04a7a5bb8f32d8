"""Engine, sessions and the declarative Base.

SQLite is the embedded default. Two details keep concurrent writers from seeing
"database is locked": WAL mode (readers never block the writer) and write
transactions that start with `BEGIN IMMEDIATE`, so a transaction takes the write
lock up front and waits on `busy_timeout` instead of failing when it tries to
upgrade a read lock that another writer is waiting on.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Index, MetaData, event, exc, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_

from server.core.config import Settings
from server.sqlite.checkpoint import AUTOCHECKPOINT_PAGES, Checkpointer
from server.sqlite.gate import WriteGate, gated_creator
from server.sqlite.inline import inline_creator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Every wait on PostgreSQL has a bound, so that an unreachable or stalled server is
# answered 503 within seconds (server.core.outages) instead of holding requests for the
# minutes TCP takes to give up: connecting, each statement (client-side, so a dead
# network counts too; generous, as migrations run under it too and the largest fan-out
# is one set-based statement), a free pooled connection. SQLite's waits are its busy
# timeout, the write gate's and the pool's, all SQLITE_BUSY_TIMEOUT_MS.
PG_CONNECT_TIMEOUT_S = 5.0
PG_COMMAND_TIMEOUT_S = 60.0
PG_POOL_TIMEOUT_S = 10.0


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of only the rows that match `where` (SQL), alike on SQLite and
    PostgreSQL: each dialect takes the predicate under its own keyword."""
    return Index(
        name, *columns, unique=unique, sqlite_where=text(where), postgresql_where=text(where)
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def _setup_sqlite(
    engine: AsyncEngine, *, inline_reader: bool = False, autocheckpoint: int | None = None
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own
        # transaction handling would always begin DEFERRED).
        dbapi_connection.isolation_level = None
        if inline_reader:
            return  # read-only: WAL is already on (see _enable_wal)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if autocheckpoint is not None:  # a Checkpointer does the regular ones
            cursor.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if inline_reader:
            # The read-only connections are sqlite3's own, on the loop's thread
            # (server.sqlite.inline): BEGIN there directly, without a statement's
            # execution context, cursor and result (30-60 us of a first page's
            # 1.3 ms of CPU). An error goes the usual way below (the same BEGIN
            # again), so it is answered as any statement's.
            try:
                conn.connection.driver_connection.begin_deferred()
                return
            except sqlite3.Error:
                pass
        conn.exec_driver_sql(f"BEGIN {mode}")


def _begin_at_checkout(engine: AsyncEngine) -> None:
    """Begin each checked-out asyncpg connection's transaction at once, as the pool's
    liveness check: a connection that fails it with a disconnect is dropped, with every
    connection pooled before it, and the pool takes a fresh one (as pool_pre_ping does).

    pool_pre_ping spent three round trips per checkout on it (asyncpg pings inside a
    BEGIN ... ROLLBACK of its own), half of a read request's six on PostgreSQL; the
    transaction's BEGIN is sent anyway, on the first statement, and checks the same.
    A statement can still meet a connection lost after the check: as with a ping."""
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkout")
    def _begin(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if getattr(dbapi_connection, "_transaction", None) is not None:
            return
        try:
            # SQLAlchemy's asyncpg adapter starts the transaction the first statement
            # would have started (same isolation and options); the statement then finds
            # it begun. Under a greenlet: the pool checks out inside greenlet_spawn.
            await_(dbapi_connection._start_transaction())
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise


def create_private_file(path: str) -> None:
    """The SQLite file and its folder, for this user only (0600, 0700) if they are new.
    Made before SQLite opens it: SQLite gives the -wal and -shm files the database's mode."""
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # an existing file keeps its mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _enable_wal(path: str) -> None:
    """WAL is a property of the file: set it once, before read-only connections open."""
    create_private_file(path)
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


class Database:
    """The engine plus two session factories: reads, and writes (IMMEDIATE on SQLite)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        path = make_url(url).database if self.is_sqlite else None
        # The database file, when there is one (server.ops.health checks its disk).
        self.path = path if path and path != ":memory:" else None
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            kwargs["pool_timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
            if path and path != ":memory:":
                # This process's write transactions take turns in order (server.sqlite.gate).
                gate = WriteGate(SQLITE_BUSY_TIMEOUT_MS / 1000)
                kwargs.pop("connect_args")
                kwargs["async_creator"] = gated_creator(path, gate, SQLITE_BUSY_TIMEOUT_MS / 1000)
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 8
        else:
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 20
            # A pooled connection the server dropped (a restart, a failover) is found
            # at checkout and replaced: by the transaction's own BEGIN on asyncpg
            # (_begin_at_checkout), by a ping on any other driver.
            kwargs["pool_pre_ping"] = make_url(url).get_driver_name() != "asyncpg"
            kwargs["pool_timeout"] = PG_POOL_TIMEOUT_S
            kwargs["connect_args"] = {
                "timeout": PG_CONNECT_TIMEOUT_S,
                "command_timeout": PG_COMMAND_TIMEOUT_S,
            }
        self.engine = create_async_engine(url, **kwargs)
        if not self.is_sqlite and not kwargs["pool_pre_ping"]:
            _begin_at_checkout(self.engine)
        write_engine = read_engine = self.engine
        self._checkpointer: Checkpointer | None = None
        if self.is_sqlite:
            on_file = bool(path and path != ":memory:")
            _setup_sqlite(self.engine, autocheckpoint=AUTOCHECKPOINT_PAGES if on_file else None)
            write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if path and on_file:
                _enable_wal(path)
                self._checkpointer = Checkpointer(path)
                read_engine = create_async_engine(
                    url, async_creator=inline_creator(path), pool_size=8, max_overflow=8
                )
                _setup_sqlite(read_engine, inline_reader=True)
        self.read_engine = read_engine
        self.write_engine = write_engine
        # Plain sessions, for infrastructure (the worker's claims, migrations checks);
        # services get theirs inside a unit of work (server.core.unit_of_work).
        self.reader = async_sessionmaker(read_engine, expire_on_commit=False)
        self.writer = async_sessionmaker(write_engine, expire_on_commit=False)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        await self.engine.dispose()


def make_database(settings: Settings) -> Database:
    if settings.is_sqlite:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Database(settings.database_url)
