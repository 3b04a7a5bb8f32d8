"""Sign-in by the socket's first message, for `<vendor-bell>` on a marketplace's pages.

A page of another site has no vendorbell cookie, and a token in the URL ends up in logs
and proxies; so the embedded element opens the socket bare and sends
`{"type": "auth", "token": …}` as its first message. The same message later, with a
renewed token, re-authenticates the open socket: its token digest moves to the new token,
so the session check (server.realtime.sessions) ends the socket only when a token expires
with no renewal behind it (4401).

The Origin of such a socket must be one a marketplace may embed from: `allowed` is that
set, handed in by the caller (`app.state.embed_origins`, filled from the integrations'
allowed origins) so this module knows nothing of where it is stored.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from server.accounts.service import session_for_token
from server.core.errors import NotAuthenticated
from server.core.unit_of_work import UnitOfWorkFactory

# A client that opened the socket and says nothing is refused after this long.
AUTH_TIMEOUT = 10.0
MAX_AUTH_MESSAGE = 4096


@dataclass(frozen=True)
class Signed:
    """Who a token signs in, and the digest the session check knows it by."""

    user_id: int
    digest: str


def embed_origin_allowed(origin: str | None, allowed: Collection[str]) -> bool:
    """Browsers always send Origin on a WebSocket handshake and never let pages forge it."""
    return origin is not None and origin in allowed


def auth_token(text: str | None) -> str | None:
    """The token of an `{"type": "auth", "token": …}` message, else None."""
    if not text or len(text) > MAX_AUTH_MESSAGE or '"auth"' not in text:
        return None
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "auth":
        return None
    token = message.get("token")
    return token if isinstance(token, str) and token else None


async def verify(websocket: WebSocket, token: str) -> Signed | None:
    """The session behind `token` used from this socket's Origin (an embedded session is
    bound to the page that started it: OriginMismatch, 4403), or None (4401)."""
    state = websocket.app.state
    units: UnitOfWorkFactory = state.units
    origin = websocket.headers.get("origin")
    try:
        async with units.reader() as uow:
            found = await session_for_token(
                uow, token, state.secret_key, state.token_activity, origin
            )
    except NotAuthenticated:
        return None
    return Signed(found.user.id, found.digest)


async def first_message(websocket: WebSocket) -> Signed | None:
    """Wait (bounded) for the accepted socket's auth message and verify its token; raises
    OriginMismatch for a session bound to another origin."""
    try:
        async with asyncio.timeout(AUTH_TIMEOUT):
            message = await websocket.receive()
    except (TimeoutError, WebSocketDisconnect, OSError, RuntimeError):
        return None
    token = auth_token(message.get("text"))
    return await verify(websocket, token) if token else None
