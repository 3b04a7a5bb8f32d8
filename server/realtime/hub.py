"""The realtime hub: fans live events out to the sockets of each user.

Two implementations behind one small interface: `MemoryHub` (one process, the
default) and `RedisHub` (`REDIS_URL`, in `redis_hub.py`), where every web process
publishes to and listens on one Redis pub/sub channel and delivers to the sockets
it holds.
An event is serialized once per publish, never once per socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from server.core.tasks import cancel_and_wait

log = logging.getLogger("vendorbell.realtime")

# WebSocket close codes (RFC 6455 §7.4.1) the hub uses.
GOING_AWAY = 1001  # the server is shutting down
SERVICE_RESTART = 1012  # events may have been lost: reconnect with `since` to resync
SESSION_ENDED = 4401  # the token the socket was opened with is no longer valid
CLOSE_GRACE_SECONDS = 1.0  # SIGTERM waits this long for the sockets' 1001 frames
KEEPALIVE_SLICES = 25


@dataclass(frozen=True, slots=True)
class Event:
    """One serialized server → client message; `notification_id` lets sockets dedupe."""

    text: str
    notification_id: int | None = None


def encode(message: dict[str, Any]) -> Event:
    notification = message.get("notification")
    raw_id = notification.get("id") if isinstance(notification, dict) else None
    notification_id = int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None
    return Event(json.dumps(message, separators=(",", ":")), notification_id)


class Subscriber(Protocol):
    """A socket as the hub sees it. `deliver` must not block: it queues or drops."""

    user_id: int
    token_digest: str  # of the token the socket was opened with

    def deliver(self, event: Event) -> None: ...

    def keepalive(self, now: float) -> None: ...

    def close(self, code: int) -> None: ...


class SessionCheck(Protocol):
    """Which of these token digests no longer sign anyone in (server.realtime.sessions)."""

    async def ended(self, digests: Collection[str]) -> set[str]: ...


class Hub:
    """Local fan-out, keepalive ticks and shutdown; subclasses decide how events travel."""

    def __init__(
        self, *, ping_interval: float | None = None, sessions: SessionCheck | None = None
    ) -> None:
        self._local: dict[int, set[Subscriber]] = {}
        self._ping_interval = ping_interval
        self._sessions = sessions
        self._unchecked: set[str] = set()  # token digests waiting for the running check
        self._checking: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._restore_signals: Callable[[], None] | None = None
        self._closing: asyncio.Task[None] | None = None

    # The interface the notification service and the WebSocket route use.
    async def publish(self, user_id: int, message: dict[str, Any]) -> None:
        """Send `message` to every open socket of `user_id` (in any process)."""
        self._deliver_local(user_id, encode(message))

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send `message` to every open socket of every user."""
        self._deliver_local(None, encode(message))

    async def end_sessions(self, user_id: int, token_digest: str) -> None:
        """Close the sockets of `user_id` opened with this token (in any process)."""
        self._end_local_sessions(user_id, token_digest)

    async def ping(self) -> None:
        """Raise if the hub cannot carry events now (/readyz); in memory it always can."""

    def local_count(self, user_id: int) -> int:
        """How many sockets of `user_id` this process holds."""
        return len(self._local.get(user_id, ()))

    async def subscribe(self, subscriber: Subscriber) -> None:
        self._local.setdefault(subscriber.user_id, set()).add(subscriber)

    async def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._local.get(subscriber.user_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._local[subscriber.user_id]

    async def start(self) -> None:
        self.close_sockets_on_exit_signals()
        if self._ping_interval:
            self._spawn(self._keepalive_loop(self._ping_interval))

    async def close(self) -> None:
        """Close every local socket with 1001 and stop background tasks."""
        self.close_local(GOING_AWAY)
        if self._restore_signals is not None:
            self._restore_signals()
            self._restore_signals = None
        if self._checking is not None:
            self._tasks.append(self._checking)
        await cancel_and_wait(self._tasks)  # Redis loops: see server.core.tasks
        self._tasks.clear()

    # Shared machinery.
    def subscribers(self) -> Iterator[Subscriber]:
        for subscribers in list(self._local.values()):
            yield from list(subscribers)

    def close_local(self, code: int) -> None:
        for subscriber in self.subscribers():
            subscriber.close(code)

    def _deliver_local(self, user_id: int | None, event: Event) -> None:
        if user_id is None:
            for subscriber in self.subscribers():
                subscriber.deliver(event)
            return
        for subscriber in list(self._local.get(user_id, ())):
            subscriber.deliver(event)

    def _end_local_sessions(self, user_id: int, token_digest: str) -> None:
        for subscriber in list(self._local.get(user_id, ())):
            if subscriber.token_digest == token_digest:
                subscriber.close(SESSION_ENDED)

    def _spawn(self, coroutine: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coroutine))

    async def _keepalive_loop(self, interval: float) -> None:
        # Ping a different slice of the sockets on each tick, each socket once per
        # interval: pinging thousands at once is a burst as big as a broadcast.
        # Each ping also checks the socket's token (server.realtime.sessions).
        loop = asyncio.get_running_loop()
        tick = 0
        check = self._sessions is not None
        while True:
            await asyncio.sleep(interval / KEEPALIVE_SLICES)
            now, tick = loop.time(), (tick + 1) % KEEPALIVE_SLICES
            for subscriber in self.subscribers():
                if (id(subscriber) >> 4) % KEEPALIVE_SLICES == tick:
                    subscriber.keepalive(now)
                    if check:
                        self._unchecked.add(subscriber.token_digest)
            self._check_sessions()

    def _check_sessions(self) -> None:
        """Check the tokens of the sockets just pinged, one check at a time and off the
        ping loop (a slow database must not delay pings); digests pinged while a check
        runs wait for the next one."""
        if not self._unchecked or (self._checking is not None and not self._checking.done()):
            return
        digests, self._unchecked = self._unchecked, set()
        self._checking = asyncio.get_running_loop().create_task(self._close_ended_sessions(digests))

    async def _close_ended_sessions(self, digests: set[str]) -> None:
        assert self._sessions is not None
        try:
            ended = await self._sessions.ended(digests)
        except Exception as exc:  # the database is away: keep the sockets, check again later
            log.warning("realtime.session_check_failed", extra={"error": repr(exc)})
            return
        for subscriber in self.subscribers() if ended else ():
            if subscriber.token_digest in ended:
                log.info("realtime.ws.session_ended", extra={"user_id": subscriber.user_id})
                subscriber.close(SESSION_ENDED)

    def close_sockets_on_exit_signals(self) -> None:
        """Close sockets with 1001 on SIGTERM/SIGINT, before the server's own shutdown.

        uvicorn closes open WebSockets itself (code 1012) before the lifespan shutdown
        runs, so the hub chains the signal handlers uvicorn installed to say "going
        away" first. Only in the main thread, where signal handlers can be set.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def on_signal(sig: int, frame: FrameType | None) -> None:
            handler = previous[signal.Signals(sig)]
            if callable(handler):
                # The server hears the signal once our close frames are out: handed on at
                # once, a loaded process let uvicorn's 1012 overtake them.
                loop.call_soon_threadsafe(self._close_then, handler, sig)
                return
            loop.call_soon_threadsafe(self.close_local, GOING_AWAY)
            if handler == signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
                signal.raise_signal(sig)

        for sig in previous:
            signal.signal(sig, on_signal)

        def restore() -> None:
            for sig, handler in previous.items():
                if signal.getsignal(sig) is on_signal:
                    signal.signal(sig, handler)

        self._restore_signals = restore

    def _close_then(self, handler: Callable[[int, FrameType | None], Any], sig: int) -> None:
        """Close every socket with 1001, then (all closed, or after CLOSE_GRACE_SECONDS)
        hand the signal on."""
        self.close_local(GOING_AWAY)
        loop = asyncio.get_running_loop()

        async def pass_on() -> None:
            deadline = loop.time() + CLOSE_GRACE_SECONDS
            # Polled: sockets leave through several paths; this runs once, at shutdown.
            while self.subscribers() and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            handler(sig, None)

        self._closing = loop.create_task(pass_on())


class MemoryHub(Hub):
    """One process: publish goes straight to the local sockets."""
