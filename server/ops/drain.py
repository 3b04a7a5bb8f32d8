"""Draining an HTTP process on SIGTERM/SIGINT: /readyz answers 503 from the first signal.

uvicorn closes its listening socket as soon as it handles the signal, lets in-flight
requests finish (up to DRAIN_SECONDS, see server.__main__), then runs the lifespan
shutdown (server.background: the worker records and releases what it holds). A load
balancer that polls /readyz needs a moment to stop sending before the port closes:
with DRAIN_NOTICE_SECONDS the signal reaches uvicorn only after that long, while the
process still serves everything but /readyz. A second signal skips the notice.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("vendorbell.drain")

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Drain:
    """Whether this process is shutting down, and the signal hook that decides it."""

    def __init__(self, notice_seconds: float = 0.0) -> None:
        self.notice_seconds = notice_seconds
        self.draining = False
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
        handler = self._previous.get(signal.Signals(sig))
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)
