"""Inbox benchmark: 1,000 vendors x 1,000 notifications (1M rows), real uvicorn, wrk load.

    make bench-inbox            # SQLite, then PostgreSQL if BENCH_DATABASE_URL answers

For each backend: GET /api/notifications/count and the first page of
GET /api/notifications, each as a ratio to a bare constant-JSON endpoint served by
the same process (bench/inbox_app.py) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import loadgen
from server.accounts.security import token_digest
from server.core.config import Settings
from server.core.migrate import upgrade
from server.notifications.wire import render_wire

SECRET = "bench-secret-" + "k" * 40
TYPES = ("order", "order", "payment", "message", "order", "system")
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def rows_for(vendors: int, per_vendor: int) -> Iterator[tuple[object, ...]]:
    """Notifications as a busy vendor's inbox looks: old ones read, the newest unread."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for v in range(1, vendors + 1):
        for i in range(per_vendor):
            created = start + timedelta(minutes=i)
            old = i < per_vendor - 40
            kind = TYPES[i % len(TYPES)]
            number = 1000 + i
            title = f"New order #{number} — 2 items, €12.40 from Alice"
            body, url, data = (
                "2 x Flat white, 1 x Croissant",
                f"/orders/{number}",
                {"order_id": str(number)},
            )
            # Written as the app writes it (server.notifications.service.notify).
            wire = render_wire(
                type=kind,
                event=f"{kind}.created",
                title=title,
                body=body,
                url=url,
                data=data,
                lang="en",
                created_at=created,
            )
            yield (
                v,
                kind,
                f"{kind}.created",
                title,
                body,
                url,
                json.dumps(data),
                created,
                created if i < per_vendor - 10 else None,
                created if old else None,
                wire,
            )


def users_and_tokens(
    vendors: int,
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[str]]:
    now = datetime.now(UTC)
    users, token_rows, tokens = [], [], []
    for v in range(1, vendors + 1):
        users.append((v, f"vendor{v}@bench.example", f"Vendor {v}", "vendor", "!", now))
        token = secrets.token_urlsafe(32)
        tokens.append(token)
        token_rows.append((v, v, token_digest(SECRET, token), now, now))
    return users, token_rows, tokens


def seed_sqlite(path: Path, vendors: int, per_vendor: int) -> list[str]:
    users, token_rows, tokens = users_and_tokens(vendors)

    def naive(value: object) -> object:
        return value.replace(tzinfo=None).isoformat(" ") if isinstance(value, datetime) else value

    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT INTO users (id, email, name, role, password_hash, created_at) "
            "VALUES (?,?,?,?,?,?)",
            [tuple(map(naive, u)) for u in users],
        )
        db.executemany(
            "INSERT INTO api_tokens (id, user_id, token_hash, created_at, last_used_at) "
            "VALUES (?,?,?,?,?)",
            [tuple(map(naive, t)) for t in token_rows],
        )
        db.executemany(
            "INSERT INTO notifications (user_id, type, event, title, body, url, data, "
            "created_at, seen_at, read_at, wire) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (tuple(map(naive, r)) for r in rows_for(vendors, per_vendor)),
        )
    db.execute("ANALYZE")
    db.close()
    return tokens


async def seed_postgres(url: str, vendors: int, per_vendor: int) -> list[str]:
    import asyncpg

    users, token_rows, tokens = users_and_tokens(vendors)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=["id", "email", "name", "role", "password_hash", "created_at"],
        )
        await conn.copy_records_to_table(
            "api_tokens",
            records=token_rows,
            columns=["id", "user_id", "token_hash", "created_at", "last_used_at"],
        )
        await conn.copy_records_to_table(
            "notifications",
            records=list(rows_for(vendors, per_vendor)),
            columns=[
                "user_id",
                "type",
                "event",
                "title",
                "body",
                "url",
                "data",
                "created_at",
                "seen_at",
                "read_at",
                "wire",
            ],
        )
        for table in ("users", "api_tokens", "notifications"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            await conn.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "DATA_DIR": str(workdir / "data"),
        "KEYS_DIR": str(workdir / "keys"),
        "RUN_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.inbox_app:create",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/bench/bare", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def measure(
    name: str, database_url: str, tokens: list[str], workdir: Path, args: argparse.Namespace
) -> dict[str, loadgen.Result]:
    results: dict[str, loadgen.Result] = {}
    with server(database_url, workdir) as base:
        check = httpx.get(
            f"{base}/api/notifications?limit=20",
            headers={"Authorization": f"Bearer {tokens[0]}"},
            timeout=5,
        )
        assert check.status_code == 200 and len(check.json()["items"]) == 20, check.text
        paths = {
            "bare (peer)": "/bench/bare",
            "count": "/api/notifications/count",
            "list, first page": "/api/notifications?limit=20",
        }
        for label, path in paths.items():
            loadgen.run(base, path, tokens, seconds=2, connections=args.connections)  # warm-up
            results[label] = loadgen.run(
                base, path, tokens, seconds=args.seconds, connections=args.connections
            )
    peer = results["bare (peer)"]
    print(
        f"\n{name}: {args.vendors:,} vendors x {args.per_vendor:,} notifications, "
        f"wrk {args.connections} connections, {args.seconds} s per endpoint, 1 uvicorn worker"
    )
    for label, result in results.items():
        print(result.line(label, None if result is peer else peer))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--per-vendor", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    loadgen.require_wrk()
    with tempfile.TemporaryDirectory(prefix="vb-bench-") as tmp:
        workdir = Path(tmp)
        if args.backend in ("sqlite", "both"):
            db = workdir / "bench.db"
            url = f"sqlite+aiosqlite:///{db}"
            upgrade(Settings(_env_file=None, database_url=url, data_dir=workdir))  # type: ignore[call-arg]
            started = time.perf_counter()
            tokens = seed_sqlite(db, args.vendors, args.per_vendor)
            print(f"seeded SQLite in {time.perf_counter() - started:.1f} s")
            measure("SQLite", url, tokens, workdir, args)
        if args.backend in ("postgres", "both"):
            asyncio.run(postgres(args, workdir))


async def postgres(args: argparse.Namespace, workdir: Path) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin_url = os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT)
    name = f"vendorbell_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        print(f"\nPostgreSQL skipped: {admin_url} does not answer ({exc})")
        return
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    try:
        await asyncio.to_thread(
            upgrade, Settings(_env_file=None, database_url=url, data_dir=workdir)
        )  # type: ignore[call-arg]
        started = time.perf_counter()
        tokens = await seed_postgres(url, args.vendors, args.per_vendor)
        print(f"\nseeded PostgreSQL in {time.perf_counter() - started:.1f} s")
        await asyncio.to_thread(measure, "PostgreSQL", url, tokens, workdir, args)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    main()
