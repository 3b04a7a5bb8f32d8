"""Many rows as one set in a single statement, whatever their number: the one place where
set-based writes (a broadcast's notifications, push deliveries and links) differ by database.

A `RowSet` names the columns that vary from row to row; the statement selects from its
`source` (joined, filtered, with constants beside it) and inserts what it selects.

- PostgreSQL: each column travels as one array and `unnest` turns the arrays back into
  rows. The statement is the same for any number of rows, so SQLAlchemy compiles it once
  and asyncpg prepares it once, and the arrays go in asyncpg's binary format. Measured on
  500-user broadcast chunks (a notification and a delivery each, 2026-12-07): as fast as
  COPY (`copy_records_to_table`), 39.5 vs 39.9 ms median. COPY returns nothing, so it
  needs the ids drawn from the sequences first and the subscriptions read apart: five
  round trips against two, and a join that moves from SQL to Python.
- SQLite: a VALUES list of bound parameters, one statement per number of rows (cached
  by the callers). Bound, never literal: SQLAlchemy does not cache a statement with
  literal multi-row values, and compiling one cost more (~0.17 ms a row) than running it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    any_,
    bindparam,
    column,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import NamedFromClause
from sqlalchemy.types import TypeEngine


def is_postgresql(session: AsyncSession) -> bool:
    """Which of the two ways `session`'s database takes a set of rows."""
    return session.get_bind().dialect.name == "postgresql"


def among(
    session: AsyncSession, key: SQLColumnExpression[int], ids: Collection[int]
) -> ColumnElement[bool]:
    """`key IN ids` for a batch's ids (a broadcast chunk's users, a worker's claimed or
    answered deliveries). PostgreSQL: `= ANY` of one array parameter, since an IN list is
    rendered and cast id by id at every execution (a fifth of a 500-user broadcast
    chunk's Python time went to five of them); SQLite: the IN list."""
    if is_postgresql(session):
        return key == any_(literal(list(ids), ARRAY(Integer())))
    return key.in_(ids)


def among_param(key: SQLColumnExpression[int], name: str, postgresql: bool) -> ColumnElement[bool]:
    """`among` for a statement built once and run many times: the ids come later, as
    the parameter `name` (a list), in the form each database takes best."""
    if postgresql:
        return key == any_(bindparam(name, type_=ARRAY(Integer())))
    return key.in_(bindparam(name, expanding=True))


@dataclass(frozen=True)
class RowSet:
    """The columns that vary from row to row: (name, type) each, in the rows' order."""

    name: str
    columns: tuple[tuple[str, TypeEngine[Any]], ...]

    def source(self, postgresql: bool, rows: int) -> NamedFromClause:
        """The rows as a FROM clause with the columns' names (`rows`: SQLite only)."""
        if postgresql:
            arrays = (
                bindparam(self._key(name), type_=ARRAY(type_)) for name, type_ in self.columns
            )
            names = (column(name, type_) for name, type_ in self.columns)
            return func.unnest(*arrays).table_valued(*names).render_derived(name=self.name)
        values = ", ".join(
            "("
            + ", ".join(self._sqlite_value(name, type_, r) for name, type_ in self.columns)
            + ")"
            for r in range(rows)
        )
        keys = [
            bindparam(self._key(name, r), type_=type_)
            for r in range(rows)
            for name, type_ in self.columns
        ]
        listed = text(f"VALUES {values}").bindparams(*keys)
        # SQLite names a VALUES list's columns column1, column2…: renamed here.
        generic = listed.columns(
            *(column(f"column{i + 1}", t) for i, (_, t) in enumerate(self.columns))
        )
        raw = generic.subquery(f"{self.name}_values")
        return select(
            *(raw.c[f"column{i + 1}"].label(name) for i, (name, _) in enumerate(self.columns))
        ).subquery(self.name)

    def parameters(self, postgresql: bool, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
        """The statement's parameters for `rows` (tuples in the columns' order)."""
        if postgresql:
            return {
                self._key(name): [row[i] for row in rows]
                for i, (name, _) in enumerate(self.columns)
            }
        return {
            self._key(name, r): value
            for r, row in enumerate(rows)
            for (name, _), value in zip(self.columns, row, strict=True)
        }

    def _key(self, name: str, row: int | None = None) -> str:
        return f"{self.name}_{name}" if row is None else f"{self.name}_{name}_{row}"

    def _sqlite_value(self, name: str, type_: TypeEngine[Any], row: int) -> str:
        # A VALUES column takes no type from its parameters: an integer one is cast, so
        # joins and comparisons on it compare integers.
        key = f":{self._key(name, row)}"
        return f"CAST({key} AS INTEGER)" if isinstance(type_, Integer) else key
