"""One open WebSocket: a bounded send queue, keepalive, and the close that ends it.

The hub calls `deliver` for every event; it only queues, so one slow socket never
slows the others. A socket whose queue is full is closed with 1013 (try again
later) instead of growing memory; one that stays silent for two ping intervals
is dead and closed with 1011. Clients answer `{"type": "ping"}` with any message
(the PWA sends `{"type": "pong"}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from server.accounts.service import OriginMismatch
from server.realtime.first_message import Signed, auth_token
from server.realtime.hub import SESSION_ENDED, Event

log = logging.getLogger("vendorbell.realtime")

PING = Event('{"type":"ping"}')
# Sent to a socket signed in by its first message, and again after each renewal.
AUTHENTICATED = Event('{"type":"authenticated"}')
FORBIDDEN_ORIGIN = 4403  # a renewal with a session bound to another page
TRY_AGAIN_LATER = 1013  # RFC 6455 §7.4.1 (IANA registry): the client is too slow
PEER_DEAD = 1011  # no answer to two pings (what `websockets` uses for ping timeouts)
_PEER_GONE = 0  # internal: the client already disconnected, nothing to send
# A send that cannot complete in this time means the peer stopped reading.
SEND_TIMEOUT = 10.0


class Connection:
    """A user's socket as the hub sees it (implements `hub.Subscriber`)."""

    __slots__ = (
        "_close_code",
        "_interval",
        "_queue",
        "_reauthenticate",
        "_skip",
        "last_heard",
        "token_digest",
        "user_id",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        user_id: int,
        token_digest: str,
        *,
        max_queue: int,
        ping_interval: float,
        reauthenticate: Callable[[str], Awaitable[Signed | None]] | None = None,
    ) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.token_digest = token_digest
        self._queue: asyncio.Queue[Event | int] = asyncio.Queue(maxsize=max_queue + 1)
        self._interval = ping_interval
        self._skip: frozenset[int] = frozenset()
        self._close_code: int | None = None
        # For sockets signed in by their first message: a later auth message renews them.
        self._reauthenticate = reauthenticate
        self.last_heard = asyncio.get_running_loop().time()

    # Called by the hub; never block.
    def deliver(self, event: Event) -> None:
        if self._close_code is not None:
            return
        if self._queue.qsize() >= self._queue.maxsize - 1:  # keep one slot for the close
            log.warning("realtime.ws.slow_client", extra={"user_id": self.user_id})
            self.close(TRY_AGAIN_LATER)
            return
        self._queue.put_nowait(event)

    def keepalive(self, now: float) -> None:
        if self._interval and now - self.last_heard > 2 * self._interval:
            log.info("realtime.ws.dead_peer", extra={"user_id": self.user_id})
            self.close(PEER_DEAD)
        else:
            self.deliver(PING)

    def close(self, code: int) -> None:
        if self._close_code is not None:
            return
        self._close_code = code
        while not self._queue.empty():  # drop what is pending: it will not be read
            self._queue.get_nowait()
        self._queue.put_nowait(code)

    # Used by the route.
    def skip(self, notification_ids: set[int]) -> None:
        """Ids already replayed from the database: their live copies are duplicates."""
        self._skip = frozenset(notification_ids)

    async def send_now(self, text: str) -> None:
        async with asyncio.timeout(SEND_TIMEOUT):
            await self.websocket.send_text(text)

    async def run(self) -> None:
        """Send queued events and read the client's messages until either side closes."""
        receiver = asyncio.get_running_loop().create_task(self._receive())
        try:
            # A peer gone or stuck ends the run: returning lets the server drop the transport.
            with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
                code = await self._send_events()
                if code != _PEER_GONE:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        await self.websocket.close(code)
        finally:
            receiver.cancel()

    async def _send_events(self) -> int:
        skip = self._skip
        while True:
            item = await self._queue.get()
            if isinstance(item, int):
                return item
            if skip and item.notification_id in skip:
                continue
            await self.send_now(item.text)

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (message := await self.websocket.receive())["type"] != "websocket.disconnect":
                self.last_heard = loop.time()
                if self._reauthenticate is not None:
                    await self._renew(message)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            self.close(_PEER_GONE)

    async def _renew(self, message: MutableMapping[str, Any]) -> None:
        """A renewed token for the same user moves the socket onto it; any other is refused."""
        token = auth_token(message.get("text"))
        if token is None or self._reauthenticate is None:
            return
        try:
            signed = await self._reauthenticate(token)
        except OriginMismatch:
            self.close(FORBIDDEN_ORIGIN)
            return
        if signed is None or signed.user_id != self.user_id:
            self.close(SESSION_ENDED)
            return
        self.token_digest = signed.digest
        self.deliver(AUTHENTICATED)  # the client knows its renewal took
