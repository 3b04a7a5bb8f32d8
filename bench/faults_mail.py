"""Fault benchmark, mail section: two mail workers on one database and an SMTP server
that answers 451 to the first message and then stops answering for longer than a lease.

    python -m bench.faults_mail     # PostgreSQL if it answers at PG_URL, else SQLite

`measure()` returns rows (what, measured, goal) for bench/faults.py: emails delivered
more than once, and emails never delivered. A real aiosmtpd server (in its own thread)
counts what it accepted per Message-ID; a message it never answered is not kept, as a
hung server keeps nothing.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from server.app import create_app
from server.core.config import Settings
from server.core.db import utcnow
from server.core.migrate import upgrade
from server.mail import outbox
from server.mail.models import OutgoingEmail
from server.mail.outbox import MailWorker
from server.mail.transport import make_transport

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
EMAILS = 20  # one claim's worth: the first worker takes them all, the other waits
ROUNDS = 2  # each on a fresh database
TIMEOUT = 0.3  # SMTP_TIMEOUT: a silent reply is given up after this
LEASE = 3.0  # longer than one send, shorter than a batch of stalled sends
STALL = 4.0  # the server is silent for longer than a lease
DEADLINE = 90.0  # seconds for every email to be settled


class HangingServer:
    """451 to the first message, then silence until `stall_until`, then 250."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.refused_first = False
        self.stall_until = 0.0
        self.stalled = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.refused_first:
            self.refused_first = True
            self.stall_until = time.monotonic() + STALL
            return "451 4.3.0 Try again later"
        if time.monotonic() < self.stall_until:
            self.stalled += 1
            await asyncio.sleep(self.stall_until - time.monotonic())
            return "451 4.3.0 Stalled"  # the client gave up long ago: nobody reads this
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.delivered[str(message["Message-ID"])] += 1
        return "250 2.0.0 OK"


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _postgres() -> str | None:
    """A fresh database of our own on PostgreSQL, or None when it does not answer."""
    name = f"vendorbell_faults_mail_{uuid.uuid4().hex[:10]}"
    try:
        async with asyncio.timeout(10):
            await _admin(PG_URL, f'CREATE DATABASE "{name}"')
    except Exception:  # refused, unknown host, no such role: SQLite then
        return None
    return f"{PG_URL.rpartition('/')[0]}/{name}"


def _settings(folder: Path, database_url: str, smtp_port: int) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=folder / "data",
        keys_dir=folder / "keys",
        secret_key="bench-secret-" + "m" * 40,
        public_url="http://bench.example",
        run_worker=False,
        redis_url=None,
        gc_tuning=False,
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        smtp_timeout=TIMEOUT,
    )


async def _queue(app: Any, client: httpx.AsyncClient) -> None:
    """A vendor, and EMAILS queued emails to them (rows as the order service writes)."""
    response = await client.post(
        "/api/auth/register",
        json={
            "email": f"vendor-{uuid.uuid4().hex[:6]}@example.com",
            "password": "correct horse battery",
            "name": "Corner Bakery",
            "role": "vendor",
        },
    )
    response.raise_for_status()
    user_id = int(response.json()["user"]["id"])
    async with app.state.units.writer() as uow:
        for n in range(EMAILS):
            uow.session.add(
                OutgoingEmail(
                    user_id=user_id,
                    reason="no_device",
                    recipient="vendor@example.com",
                    subject=f"New order #{n}",
                    text_body="A new order.",
                    html_body="<p>A new order.</p>",
                    message_id=f"<{n}.{uuid.uuid4().hex}@bench.example>",
                    due_at=utcnow() - timedelta(seconds=1),
                )
            )
        await uow.commit()


async def _settled(app: Any) -> bool:
    async with app.state.units.reader() as uow:
        queued: int | None = await uow.session.scalar(
            select(func.count()).where(OutgoingEmail.status == "queued")
        )
    return not queued


async def _run(database_url: str, folder: Path) -> tuple[int, int, int]:
    """(delivered more than once, never delivered, sends that met silence)."""
    handler = HangingServer()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings = _settings(folder, database_url, port)
    await asyncio.to_thread(upgrade, settings)  # Alembic runs its own event loop
    app = create_app(settings)
    # Retries come back once the server answers again.
    old_backoff = outbox.BACKOFF_SECONDS
    outbox.BACKOFF_SECONDS = STALL + 1
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await _queue(app, client)
            workers = [
                MailWorker(
                    app.state.units,
                    make_transport(settings),  # one SMTP client each, as in two processes
                    lease_seconds=LEASE,
                    poll_seconds=0.05,
                )
                for _ in range(2)
            ]
            for worker in workers:
                await worker.start()
            try:
                async with asyncio.timeout(DEADLINE):
                    while not await _settled(app):
                        await asyncio.sleep(0.1)
            except TimeoutError:
                pass  # what is still queued counts as lost
            finally:
                for worker in workers:
                    await worker.stop()
            async with app.state.units.reader() as uow:
                ids = list(await uow.session.scalars(select(OutgoingEmail.message_id)))
    finally:
        outbox.BACKOFF_SECONDS = old_backoff
        controller.stop()
    twice = sum(n - 1 for n in handler.delivered.values() if n > 1)
    lost = sum(1 for ident in ids if handler.delivered[ident] == 0)
    return twice, lost, handler.stalled


def _free_port() -> int:
    """A port free now on 127.0.0.1 (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def measure() -> list[tuple[str, str, str]]:
    """Rows (what, measured, goal): emails sent twice and emails lost, two workers."""
    twice = lost = stalled = 0
    backend = "SQLite"
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="faults-mail-") as tmp:
            folder = Path(tmp)
            url = await _postgres()
            backend = "PostgreSQL" if url else "SQLite"
            try:
                result = await _run(url or f"sqlite+aiosqlite:///{folder}/mail.db", folder)
            finally:
                if url:
                    name = url.rpartition("/")[2]
                    await _admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        twice, lost, stalled = twice + result[0], lost + result[1], stalled + result[2]
    total = EMAILS * ROUNDS
    where = (
        f"{total} emails in {ROUNDS} runs, {backend}, 451 then {STALL:.0f} s of silence, "
        f"{stalled} sends met silence"
    )
    return [
        (
            "emails sent twice under a hanging SMTP server with two workers",
            f"{twice} ({where})",
            "0",
        ),
        ("emails lost", f"{lost} of {total}", "0"),
    ]


if __name__ == "__main__":
    print(asyncio.run(measure()))
