"""`GET /metrics` (Prometheus text format), HTTP request metrics and request ids.

The middleware is pure ASGI (no per-request objects beyond a closure) and labels
requests by route *template* (`/api/orders/{order_id}`), never by raw path, so the
number of series stays bounded whatever clients send.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from server.core.config import Settings
from server.core.db import Database, utcnow
from server.core.http import HttpMiddleware
from server.core.metrics import (
    HTTP_REQUESTS,
    QUEUE_DEPTH,
    QUEUE_OLDEST_DUE_AGE,
    WORKER_HEARTBEAT_AGE,
    WORKERS_ALIVE,
)
from server.ops.heartbeat import ALIVE_WITHIN_BEATS, read_beats
from server.push.models import PushDelivery

REQUEST_ID_HEADER = "X-Request-ID"
# A client-supplied id is echoed only when it is short and plain (it ends up in logs).
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

router = APIRouter(tags=["operations"])


def _install_log_record_factory() -> None:
    """Every log record made while serving a request carries its `request_id`.

    A record factory (not a handler filter) so that the JSON formatter in
    server.core.logs prints it whatever handlers are configured.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_vendorbell_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        rid = request_id.get()
        if rid is not None:
            record.request_id = rid
        return record

    factory._vendorbell_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_install_log_record_factory()


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    if route is not None:  # a mount (the PWA's static files)
        return "static"
    return "unmatched"


class RequestMetricsMiddleware(HttpMiddleware):
    """Counts HTTP requests by route template and status; sets the request id."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        supplied = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = supplied if _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The router writes the matched route into this same scope dict.
            HTTP_REQUESTS.labels(route=_route_label(scope), status=str(status)).inc()
            request_id.reset(token)


async def sample_queue(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """Queue depth and the oldest due row's age, both served by the partial due index."""
    depth, oldest_due = (
        await session.execute(
            select(func.count(), func.min(PushDelivery.due_at)).where(
                PushDelivery.status == "queued"
            )
        )
    ).one()
    if oldest_due is None:
        return int(depth), 0.0
    if isinstance(oldest_due, str):  # SQLite may hand back the stored text
        oldest_due = datetime.fromisoformat(oldest_due)
    if oldest_due.tzinfo is None:
        oldest_due = oldest_due.replace(tzinfo=UTC)
    return int(depth), max(0.0, (now - oldest_due).total_seconds())


async def sample_workers(session: AsyncSession, now: datetime, interval: float) -> None:
    """Set the heartbeat gauges from the table: every worker's age, and how many are alive."""
    beats = await read_beats(session)
    WORKER_HEARTBEAT_AGE.clear()  # a worker that stopped cleanly has no row, and no series
    alive = 0
    for name, beat_at in beats:
        age = max(0.0, (now - beat_at).total_seconds())
        WORKER_HEARTBEAT_AGE.labels(worker=name).set(age)
        alive += age <= interval * ALIVE_WITHIN_BEATS
    WORKERS_ALIVE.set(alive)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    database: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    async with database.reader() as session:
        now = utcnow()
        depth, age = await sample_queue(session, now)
        await sample_workers(session, now, settings.heartbeat_seconds)
    QUEUE_DEPTH.set(depth)
    QUEUE_OLDEST_DUE_AGE.set(age)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
