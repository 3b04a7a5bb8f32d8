"""Outages are answered, not crashed: what counts as one, and the middleware answering
every failure of a request or WebSocket handshake.

A database that is down, restarting, full or locked for longer than its timeout, a
Redis that does not answer, a disk that is full or failing: the request did nothing
wrong and may well succeed in a few seconds, so it gets `503 {"detail", "code":
"unavailable"}` with `Retry-After`. Anything else escaping a route is a bug (an
integrity or programming error): `500 {"detail", "code": "internal"}`, logged with its
traceback. A WebSocket handshake is closed with 1013 (try again later) or 1011.

Why a middleware and not exception handlers: Starlette's handler for `Exception` answers
and then re-raises, and uvicorn closes the connection of a request whose application
raised; a client sending its next request on that kept-alive connection then saw it
closed without an answer. Here the failure is answered and swallowed, so the
connection stays usable.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import socket
import sqlite3
import time

import redis.exceptions
from sqlalchemy import exc as sa_exc
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

from server.core.errors import (
    INTERNAL_DETAIL,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_DETAIL,
    error_response,
)
from server.core.http import BodyTooLarge

log = logging.getLogger("vendorbell.errors")

# SQLite's primary result codes for a database that cannot be used now, whatever the
# statement: busy or locked past the busy timeout, read-only, I/O error, full, cannot open.
SQLITE_OUTAGE_CODES = frozenset({5, 6, 8, 10, 13, 14})
# The messages of those codes, for errors raised without one (server.sqlite.gate's
# "database is locked" when its queue outlasts the busy timeout).
SQLITE_OUTAGE_MESSAGES = (
    "database is locked",
    "database or disk is full",
    "disk I/O error",
    "attempt to write a readonly database",
    "unable to open database file",
)
# PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk
# full, out of memory, too many connections), 57 operator intervention (shutdown, crash
# recovery, "cannot connect now", statement timeout), 58 system error (I/O); and 25006,
# a read-only transaction (a standby that a failover has not promoted yet).
PG_OUTAGE_CLASSES = ("08", "53", "57", "58")
PG_OUTAGE_STATES = frozenset({"25006"})
OS_OUTAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EROFS,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ETIMEDOUT,
    }
)
WS_TRY_AGAIN_LATER = 1013
WS_INTERNAL_ERROR = 1011
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_outage(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, is a dependency failing rather than a bug."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        # SQLAlchemy keeps the driver's error in `orig`; drivers chain theirs as a cause.
        for linked in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True  # SQLAlchemy saw the connection lost
    if isinstance(exc, sa_exc.TimeoutError):
        return True  # no pooled connection came free within pool_timeout
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in SQLITE_OUTAGE_CODES:
            return True
        return str(exc) in SQLITE_OUTAGE_MESSAGES
    sqlstate = getattr(exc, "sqlstate", None)  # asyncpg's errors and SQLAlchemy's copies
    if isinstance(sqlstate, str) and (
        sqlstate[:2] in PG_OUTAGE_CLASSES or sqlstate in PG_OUTAGE_STATES
    ):
        return True
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return True
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True  # refused, reset, a wait on the outside that ran out, no address
    return isinstance(exc, OSError) and exc.errno in OS_OUTAGE_ERRNOS


class WriteOutcomes:
    """When a write request (any method but GET/HEAD/OPTIONS) last failed for an outage
    and last succeeded (2xx), in this process: /readyz is not ready while writes fail,
    whatever the cause, even one its own probe cannot see."""

    def __init__(self) -> None:
        self.failed_at = -math.inf
        self.succeeded_at = -math.inf

    def failing(self, within: float) -> bool:
        """The last write failed, less than `within` seconds ago, and none succeeded since."""
        return self.failed_at > self.succeeded_at and time.monotonic() - self.failed_at < within


class AnswerErrorsMiddleware:
    """Every exception a request raises becomes a JSON answer (503 for an outage, 500
    for a bug) on a connection that stays open; a WebSocket is closed with a code."""

    def __init__(self, app: ASGIApp, outcomes: WriteOutcomes) -> None:
        self.app = app
        self.outcomes = outcomes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent: set[str] = set()  # the types of the messages sent so far
        write = scope["type"] == "http" and scope["method"] not in SAFE_METHODS

        async def tracking_send(message: Message) -> None:
            await send(message)
            sent.add(message["type"])
            if write and message["type"] == "http.response.start" and message["status"] < 300:
                self.outcomes.succeeded_at = time.monotonic()

        try:
            await self.app(scope, receive, tracking_send)
        except BodyTooLarge:
            raise  # raised on purpose, for server.core.http's 413 around this
        except (ClientDisconnect, WebSocketDisconnect):
            return  # the client left: nobody to answer, nothing went wrong here
        except Exception as exc:
            outage = is_outage(exc)
            if outage and write:
                self.outcomes.failed_at = time.monotonic()
            _log_failure(scope, exc, outage, answered=bool(sent))
            if scope["type"] == "http":
                if "http.response.start" not in sent:
                    await _answer_http(scope, receive, send, outage)
                # Otherwise the answer was cut short (uvicorn closes the connection, as it
                # must) or was complete (a later failure, logged; the connection stays).
            elif "websocket.close" not in sent:
                await _close_websocket(send, outage, accepted="websocket.accept" in sent)


def _log_failure(scope: Scope, exc: Exception, outage: bool, *, answered: bool) -> None:
    where = {"method": scope.get("method", "WEBSOCKET"), "path": scope.get("path", "")}
    if outage:
        # A warning without the traceback: during an outage every request fails alike.
        log.warning("http.unavailable", extra={**where, "error": repr(exc)[:500]})
    elif answered:
        log.error("http.failed_after_answer", extra=where, exc_info=exc)
    else:
        log.error("http.internal_error", extra=where, exc_info=exc)


async def _answer_http(scope: Scope, receive: Receive, send: Send, outage: bool) -> None:
    if outage:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        response = error_response(503, UNAVAILABLE_DETAIL, "unavailable", headers)
    else:
        response = error_response(500, INTERNAL_DETAIL, "internal")
    await response(scope, receive, send)


async def _close_websocket(send: Send, outage: bool, *, accepted: bool) -> None:
    # A close code can only be sent on an open socket: a handshake is accepted first, as
    # the live route does for its own refusals. The client may be gone already.
    with contextlib.suppress(OSError, RuntimeError):
        if not accepted:
            await send({"type": "websocket.accept"})
        code = WS_TRY_AGAIN_LATER if outage else WS_INTERNAL_ERROR
        reason = "unavailable: try again later" if outage else "internal error"
        await send({"type": "websocket.close", "code": code, "reason": reason})
