"""`WS /ws/notifications`: a user's live channel, with resync from `?since=`.

Signed in by the PWA's cookie (or `?token=` for API clients) at the handshake, or, for
the element embedded on a marketplace's pages, by the first message
(server.realtime.first_message)."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from server.accounts.deps import SESSION_COOKIE
from server.accounts.security import token_digest
from server.accounts.service import OriginMismatch, session_for_token
from server.core.config import Settings
from server.core.db import Database
from server.core.errors import NotAuthenticated
from server.core.ids import parse_id
from server.core.metrics import WS_CONNECTIONS
from server.core.unit_of_work import UnitOfWorkFactory
from server.notifications import inbox
from server.notifications.counts import Counts
from server.notifications.live import notification_message
from server.realtime.connection import AUTHENTICATED, Connection
from server.realtime.first_message import embed_origin_allowed, first_message, verify
from server.realtime.hub import SESSION_ENDED, Hub, encode

router = APIRouter(tags=["live"])

NOT_AUTHENTICATED = SESSION_ENDED
FORBIDDEN_ORIGIN = 4403  # a cookie sent by a page of another site (cross-site WebSocket hijacking)
BAD_SINCE = 4400
TOO_MANY_SOCKETS = 4429  # the user already has ws_max_per_user sockets on this process
REPLAY_PAGE = 500
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


class RedactTokenFilter(logging.Filter):
    """uvicorn logs every WebSocket handshake with its query string: hide `?token=`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


logging.getLogger("uvicorn.error").addFilter(RedactTokenFilter())


@router.websocket("/ws/notifications")
async def live_notifications(
    websocket: WebSocket, token: str | None = None, since: str | None = None
) -> None:
    settings: Settings = websocket.app.state.settings
    if not token and SESSION_COOKIE not in websocket.cookies and _from_another_site(websocket):
        await _embedded(websocket, since, settings)
        return
    user_id, digest, refusal = await authenticate(websocket, token, settings)
    since_id = parse_id(since) if since is not None else None
    if refusal is None and since is not None and since_id is None:
        refusal = BAD_SINCE
    hub: Hub = websocket.app.state.hub
    if (
        refusal is None
        and user_id is not None
        and hub.local_count(user_id) >= (settings.ws_max_per_user)
    ):
        refusal = TOO_MANY_SOCKETS
    if user_id is None or digest is None or refusal is not None:
        await websocket.accept()  # a close code can only be sent on an open socket
        await websocket.close(refusal or NOT_AUTHENTICATED)
        return
    connection = Connection(
        websocket,
        user_id,
        digest,
        max_queue=settings.ws_send_queue,
        ping_interval=settings.ws_ping_interval,
    )
    await _serve(connection, since_id, accept=True)


async def _serve(connection: Connection, since_id: int | None, *, accept: bool) -> None:
    """Subscribe, (accept,) replay from `since_id`, then run until either side closes."""
    websocket = connection.websocket
    hub: Hub = websocket.app.state.hub
    # Subscribed before the handshake completes, so a client that sees the socket open
    # misses nothing published after that; and before reading the database, so nothing
    # committed meanwhile is missed (the connection drops live copies the replay sent).
    await hub.subscribe(connection)
    WS_CONNECTIONS.inc()
    try:
        # The client may go away during the handshake or the replay: only clean up.
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, WebSocketDisconnect):
            if accept:
                await websocket.accept()
            else:
                await connection.send_now(AUTHENTICATED.text)
            if since_id is not None:
                database: Database = websocket.app.state.db
                connection.skip(await replay(connection, database, connection.user_id, since_id))
            await connection.run()
    finally:
        WS_CONNECTIONS.dec()
        await hub.unsubscribe(connection)


async def _embedded(websocket: WebSocket, since: str | None, settings: Settings) -> None:
    """The element's socket: an embedding origin, then the token in the first message."""
    await websocket.accept()  # a close code (and the first message) need an open socket
    origin = websocket.headers.get("origin")
    allowed = embed_origin_allowed(origin, await embed_origins(websocket))
    since_id = parse_id(since) if since is not None else None
    refusal = None if allowed else FORBIDDEN_ORIGIN
    if refusal is None and since is not None and since_id is None:
        refusal = BAD_SINCE
    signed = None
    if refusal is None:
        try:
            signed = await first_message(websocket)
        except OriginMismatch:
            refusal = FORBIDDEN_ORIGIN
    if refusal is None and signed is None:
        refusal = NOT_AUTHENTICATED
    hub: Hub = websocket.app.state.hub
    if signed is not None and hub.local_count(signed.user_id) >= settings.ws_max_per_user:
        refusal = TOO_MANY_SOCKETS
    if signed is None or refusal is not None:
        with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
            await websocket.close(refusal or NOT_AUTHENTICATED)
        return
    connection = Connection(
        websocket,
        signed.user_id,
        signed.digest,
        max_queue=settings.ws_send_queue,
        ping_interval=settings.ws_ping_interval,
        reauthenticate=lambda token: verify(websocket, token),
    )
    await _serve(connection, since_id, accept=False)


def _from_another_site(websocket: WebSocket) -> bool:
    """A page of another site (an embedding marketplace, or one that may not embed: 4403).
    Without an Origin, or from our own pages, a socket without credentials stays what it
    always was: not signed in (4401 at once)."""
    settings: Settings = websocket.app.state.settings
    origin = websocket.headers.get("origin")
    return origin is not None and not origin_allowed(websocket, settings)


async def embed_origins(websocket: WebSocket) -> frozenset[str]:
    """The origins a marketplace may embed the element from: `app.state.embed_origins`,
    an async function the app wires to the integrations' allowed origins (this floor
    imports no integration); none when there is none."""
    load: Callable[[], Awaitable[frozenset[str]]] | None = getattr(
        websocket.app.state, "embed_origins", None
    )
    return await load() if load is not None else frozenset()


async def authenticate(
    websocket: WebSocket, token: str | None, settings: Settings
) -> tuple[int | None, str | None, int | None]:
    """The user behind `?token=` or the session cookie and the token's digest (logging
    out closes the sockets opened with it), or the close code refusing them."""
    if not token:
        token = websocket.cookies.get(SESSION_COOKIE)
        if not token:
            return None, None, NOT_AUTHENTICATED
        if not origin_allowed(websocket, settings):
            return None, None, FORBIDDEN_ORIGIN
    state = websocket.app.state
    units: UnitOfWorkFactory = state.units
    secret_key: str = state.secret_key
    try:
        async with units.reader() as uow:
            # An embedded session (bound to its page's origin) is refused here too.
            found = await session_for_token(uow, token, secret_key, state.token_activity)
    except (NotAuthenticated, OriginMismatch):
        return None, None, NOT_AUTHENTICATED
    return found.user.id, token_digest(secret_key, token), None


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers always send Origin on a WebSocket handshake and never let pages forge it."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return False
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    own = f"{scheme}://{websocket.headers.get('host', '')}"
    return origin in settings.origins or origin == own


async def replay(connection: Connection, database: Database, user_id: int, since: int) -> set[int]:
    """Send every notification after `since`, oldest first; returns the ids sent."""
    sent: set[int] = set()
    while True:
        async with database.reader() as session:
            rows = await inbox.notifications_since(session, user_id, since, limit=REPLAY_PAGE)
            counts = await inbox.read_counts(session, user_id)
            texts = [_notification_text(row, counts) for row in rows]
        for row, text in zip(rows, texts, strict=True):
            await connection.send_now(text)
            sent.add(row.id)
        if len(rows) < REPLAY_PAGE:
            return sent
        since = rows[-1].id


def _notification_text(row: Any, counts: Counts) -> str:
    return encode(notification_message(row, counts)).text
