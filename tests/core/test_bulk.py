"""A set of rows reads back as given on both databases, and `among` matches an IN list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Integer, Text, literal, select

from server.core.bulk import RowSet, among, is_postgresql

ROWS = RowSet("rows", (("n", Integer()), ("flag", Boolean()), ("words", Text())))


async def test_a_row_set_reads_back_its_rows(app: Any) -> None:
    given = [(1, True, "a"), (2, False, "b, with a comma"), (3, True, "ünïcode 'quoted' €")]
    async with app.state.db.reader() as session:
        postgresql = is_postgresql(session)
        for rows in (given, given[:1]):
            source = ROWS.source(postgresql, len(rows))
            found = await session.execute(
                select(source.c.n, source.c.flag, source.c.words).order_by(source.c.n),
                ROWS.parameters(postgresql, rows),
            )
            assert [tuple(row) for row in found] == rows


async def test_among_is_an_in_list(app: Any) -> None:
    async with app.state.db.reader() as session:
        for ids, expected in (([1, 2, 3], True), ([4, 5], False), ([], False)):
            chosen = await session.scalar(select(among(session, literal(2), ids)))
            assert bool(chosen) is expected
