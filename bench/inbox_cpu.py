"""CPU time per inbox request in-process: less sensitive to a busy machine than wrk.

    PYTHONPATH=$PWD python -m bench.inbox_cpu [--backend sqlite|postgres] [--profile count]

The benchmark's app (bench/inbox_app.py: the real app plus its bare peer) driven through
httpx's ASGI transport over a seeded database (20 vendors x 1,000 notifications, as
bench/bench_inbox.py writes them). Each round times N requests per endpoint with
time.process_time (the client's share included, alike for every endpoint); the best
round is the figure. --profile prints cProfile's view of one endpoint's last round.
PostgreSQL uses a database of its own named bench_cpu_*, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench import bench_inbox
from server.core.config import Settings, get_settings
from server.core.migrate import upgrade

PATHS = {
    "bare": "/bench/bare",
    "count": "/api/notifications/count",
    "page": "/api/notifications?limit=20",
}


async def measure(url: str, tokens: list[str], workdir: Path, args: argparse.Namespace) -> None:
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY=bench_inbox.SECRET,
        DATA_DIR=str(workdir / "data"),
        KEYS_DIR=str(workdir / "keys"),
        RUN_WORKER="false",
        LOG_LEVEL="WARNING",
        PUBLIC_URL="http://127.0.0.1:1",
    )
    get_settings.cache_clear()
    from bench.inbox_app import create

    app = create()
    best: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def requests(path: str, n: int) -> None:
                for i in range(n):
                    token = tokens[i % len(tokens)]
                    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200, response.text

            for last in [False] * (args.rounds - 1) + [True]:
                for label, path in PATHS.items():
                    await requests(path, 200)  # warm: caches, pool, statement caches
                    profile = cProfile.Profile() if last and args.profile == label else None
                    started = time.process_time()
                    if profile:
                        profile.enable()
                    await requests(path, args.requests)
                    if profile:
                        profile.disable()
                    spent = (time.process_time() - started) / args.requests * 1e6
                    best[label] = min(best.get(label, spent), spent)
                    if profile:
                        pstats.Stats(profile).sort_stats("cumulative").print_stats(50)
    print(f"{args.backend}: CPU per request, best of {args.rounds} x {args.requests:,}")
    for label, spent in best.items():
        ratio = "" if label == "bare" else f"   {best['bare'] / spent:.1%} of bare"
        print(f"  {label:6} {spent:7,.0f} us{ratio}")


async def postgres(workdir: Path, args: argparse.Namespace) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin_url = os.environ.get("BENCH_DATABASE_URL", bench_inbox.PG_DEFAULT)
    name = f"bench_cpu_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    try:
        settings = Settings(_env_file=None, database_url=url, data_dir=workdir)  # type: ignore[call-arg]
        await asyncio.to_thread(upgrade, settings)
        tokens = await bench_inbox.seed_postgres(url, args.vendors, 1000)
        await measure(url, tokens, workdir, args)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--vendors", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=list(PATHS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vb-cpu-") as tmp:
        workdir = Path(tmp)
        if args.backend == "sqlite":
            db = workdir / "bench.db"
            url = f"sqlite+aiosqlite:///{db}"
            upgrade(Settings(_env_file=None, database_url=url, data_dir=workdir))  # type: ignore[call-arg]
            tokens = bench_inbox.seed_sqlite(db, args.vendors, 1000)
            asyncio.run(measure(url, tokens, workdir, args))
        else:
            asyncio.run(postgres(workdir, args))


if __name__ == "__main__":
    main()
