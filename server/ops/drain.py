"""Draining an HTTP process on SIGTERM/SIGINT: /readyz answers 503 from the first signal.

uvicorn closes its listening socket as soon as it handles the signal, lets in-flight
requests finish (up to DRAIN_SECONDS, see server.__main__), then runs the lifespan
shutdown (server.background: the worker records and releases what it holds). A load
balancer that polls /readyz needs a moment to stop sending before the port closes:
with DRAIN_NOTICE_SECONDS the signal reaches uvicorn only after that long, while the
process still serves everything but /readyz. A second signal skips the notice.

From the first signal `DrainMiddleware` refuses WebSocket upgrades (a socket opened
now would be closed again within seconds; the client retries elsewhere) and asks each
HTTP client to close its keep-alive connection after the answer, so that few idle
connections are left for uvicorn to close under a request in flight. Once the signal
is handed on, a request that still arrives on an open connection is answered 503
`shutting_down` with `Connection: close` rather than dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("vendorbell.drain")

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
RETRY_AFTER_SECONDS = 1  # another process (or this one's successor) is expected to answer
SHUTTING_DOWN = json.dumps(
    {"detail": "Shutting down: send requests elsewhere.", "code": "shutting_down"}
).encode()
# Still answered by their routes while stopping: the probes must see the truth.
PROBES = frozenset({"/healthz", "/readyz"})


class Drain:
    """Whether this process is shutting down, and the signal hook that decides it."""

    def __init__(self, notice_seconds: float = 0.0) -> None:
        self.notice_seconds = notice_seconds
        self.draining = False  # from the first signal
        self.stopping = False  # from when the signal is handed on to the server
        self._previous: dict[signal.Signals, Any] = {}
        self._pending = False  # the first signal waits out the notice
        self._timer: asyncio.TimerHandle | None = None
        self._restore: Callable[[], None] | None = None

    def install(self) -> None:
        """Chain in front of the handlers installed so far (uvicorn's, the hub's). Only in
        the main thread, where signal handlers can be set."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        self._previous = {sig: signal.getsignal(sig) for sig in EXIT_SIGNALS}

        def on_signal(sig: int, frame: FrameType | None) -> None:
            first = not self.draining
            self.draining = True
            if first and self.notice_seconds > 0:
                log.info("drain.notice", extra={"seconds": self.notice_seconds})
                self._pending = True
                loop.call_soon_threadsafe(self._pass_on_later, loop, sig)
            elif self._pending:  # a second signal during the notice
                loop.call_soon_threadsafe(self._pass_on_now, sig)
            else:
                self._pass_on(sig, frame)

        for sig in EXIT_SIGNALS:
            signal.signal(sig, on_signal)

        def restore() -> None:
            for sig, handler in self._previous.items():
                if signal.getsignal(sig) is on_signal:
                    signal.signal(sig, handler)

        self._restore = restore

    def uninstall(self) -> None:
        self._pending = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._restore is not None:
            self._restore()
            self._restore = None

    def _pass_on_later(self, loop: asyncio.AbstractEventLoop, sig: int) -> None:
        if self._pending:
            self._timer = loop.call_later(self.notice_seconds, self._pass_on_now, sig)

    def _pass_on_now(self, sig: int) -> None:
        if not self._pending:
            return
        self._pending = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pass_on(sig, None)

    def _pass_on(self, sig: int, frame: FrameType | None) -> None:
        """Hand the signal to the handler that was there before us."""
        self.stopping = True
        handler = self._previous.get(signal.Signals(sig))
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)


class DrainMiddleware:
    """What a draining process answers (see the module's docstring)."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.drain.draining or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await _refuse_upgrade(scope, receive, send)
        elif self.drain.stopping and scope["path"] not in PROBES:
            await send(_start(503))
            await send({"type": "http.response.body", "body": SHUTTING_DOWN})
        else:

            async def send_closing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = [
                        h for h in message.get("headers", []) if h[0].lower() != b"connection"
                    ]
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
                await send(message)

            await self.app(scope, receive, send_closing)


def _start(status: int, prefix: str = "http") -> Message:
    return {
        "type": f"{prefix}.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(SHUTTING_DOWN)).encode()),
            (b"connection", b"close"),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            (b"cache-control", b"no-store"),
        ],
    }


async def _refuse_upgrade(scope: Scope, receive: Receive, send: Send) -> None:
    """An HTTP 503 instead of the upgrade, where the server can send one (uvicorn can);
    else the close that servers turn into a 403."""
    if (await receive())["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(_start(503, "websocket.http"))
        await send({"type": "websocket.http.response.body", "body": SHUTTING_DOWN})
    else:
        await send({"type": "websocket.close", "code": 1012})
