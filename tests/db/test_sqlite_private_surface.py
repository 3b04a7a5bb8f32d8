"""The SQLite fast paths (server/sqlite/inline.py, server/sqlite/gate.py) stand in for,
or wrap, aiosqlite connections as SQLAlchemy's aiosqlite adapter drives them, which
reaches into private attributes. These tests name each one, so an upgrade of either
library that moves them fails here, by name, instead of somewhere deep in a request."""

from __future__ import annotations

import inspect
import re

import aiosqlite
import pytest
from sqlalchemy.dialects.sqlite import aiosqlite as adapter

from server.sqlite.inline import InlineConnection

# What the adapter reads of the aiosqlite connection it wraps (and InlineConnection mimics).
ADAPTER_USES = ("_connection._conn", "_connection._tx", "_connection._connection")


@pytest.mark.parametrize("attribute", ADAPTER_USES)
def test_sqlalchemys_adapter_still_reaches_for(attribute: str) -> None:
    source = inspect.getsource(adapter)
    assert re.search(rf"self\.{re.escape(attribute)}\b", source), (
        f"sqlalchemy's aiosqlite adapter no longer uses {attribute}: "
        "server/sqlite/inline.py must follow what it uses now"
    )


@pytest.mark.parametrize("name", ["_conn", "_tx", "_connection"])
def test_the_inline_connection_offers_what_the_adapter_reaches_for(name: str) -> None:
    import sqlite3

    connection = InlineConnection(sqlite3.connect(":memory:", check_same_thread=False))
    assert hasattr(connection, name)
    connection.stop()


@pytest.mark.parametrize("name", ["_conn", "_tx", "_connection", "_thread"])
async def test_aiosqlite_still_has(name: str) -> None:
    """_thread: the gate marks it daemon, as SQLAlchemy does (server.sqlite.gate)."""
    connection = aiosqlite.connect(":memory:")
    assert hasattr(connection, "_thread"), "aiosqlite.Connection._thread is gone"
    opened = await connection
    try:
        assert hasattr(opened, name), f"aiosqlite.Connection.{name} is gone"
    finally:
        await opened.close()
