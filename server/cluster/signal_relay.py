"""Signals between processes: with REDIS_URL, a commit in an API process wakes the
workers of every other process at once, instead of at their next poll.

Without it, an order placed through a `--role api` process reached the push service
only after a worker's next poll (PUSH_POLL_SECONDS, 1 s), and a broadcast started only
after the broadcast loop's (2 s): bench/bench_scale.py measured a 500-user broadcast
reaching open tabs at p50 2.1 s. Each process forwards what its signals send
(server.core.signals) over one Redis pub/sub channel, every signal alike: its name and its
JSON value. Processes whose role runs the loops that listen (delivery, broadcasts, mail,
webhooks) subscribe and send them on locally under the same name; the relay knows no
signal by name, so a feature's new signal crosses processes as soon as it is declared.
Several workers hearing the same ids is safe: claiming is atomic, each row goes to one
of them.

Best effort by design: polling stays the safety net, so a lost message or a Redis
outage delays work by one poll and loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from typing import Any

from server.cluster.clients import command_client
from server.cluster.publish import publish_forever
from server.core.signals import Signals
from server.core.tasks import cancel_and_wait

log = logging.getLogger("vendorbell.signals")

REDIS_TIMEOUT = 5.0  # connect, and each command's reply
IDLE_PING_SECONDS = 5.0  # a quiet subscription is PINGed after this long


class RedisSignalRelay:
    """Forwards this process's signals to the others, and theirs to this one."""

    def __init__(self, url: str, channel: str, signals: Signals, *, listen: bool) -> None:
        self._url = url
        self._channel = f"{channel}:signals"
        self._signals = signals
        self._listen = listen
        self._origin = f"{os.getpid()}:{id(self)}"  # our own messages come back: skip them
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Any = None

    async def start(self) -> None:
        self._redis = command_client(self._url, timeout=REDIS_TIMEOUT)
        self._signals.forward(self._forward)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._publish_loop(), name="signal-relay-out"))
        if self._listen:
            self._tasks.append(loop.create_task(self._listen_loop(), name="signal-relay-in"))

    async def close(self) -> None:
        self._signals.forward(None)
        await cancel_and_wait(self._tasks)
        if self._redis is not None:
            await self._redis.aclose()

    def _forward(self, name: str, value: object) -> None:
        try:
            text = json.dumps({"o": self._origin, "s": name, "v": value})
        except (TypeError, ValueError):
            # A value that is not JSON is a bug in its sender; this process heard it anyway.
            log.warning("signals.relay.not_json", extra={"signal": name})
            return
        # Full only when Redis has been away for long: the workers' polls find the rows.
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(text)

    async def _publish_loop(self) -> None:
        def failed(exc: Exception, _lost: int) -> None:
            # The rows are in the database: the workers' polls find them.
            log.warning("signals.relay.publish_failed", extra={"error": str(exc)})

        await publish_forever(
            self._redis, self._channel, self._outbox, most=500, failed=failed, pause=1.0
        )

    async def _listen_loop(self) -> None:
        from redis.exceptions import RedisError

        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                await self._receive_until_lost(pubsub)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("signals.relay.disconnected", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
            finally:
                await pubsub.aclose()

    async def _receive_until_lost(self, pubsub: Any) -> None:
        """Receive until the subscription fails. redis-py's listen() waits without a bound
        (a blackholed Redis would hold it forever): read in short waits, PING when quiet,
        and give up when even the PING finds no answer."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                heard = loop.time()
                if message["type"] == "message":
                    self._receive(message["data"])
                continue
            quiet = loop.time() - heard
            if quiet > IDLE_PING_SECONDS + REDIS_TIMEOUT:
                raise TimeoutError(f"no answer from Redis for {quiet:.0f} s")
            if quiet > IDLE_PING_SECONDS:
                await pubsub.ping()

    def _receive(self, data: bytes) -> None:
        try:
            message = json.loads(data)
            if message.get("o") == self._origin:
                return
            name = message["s"]
            if not isinstance(name, str):
                raise ValueError("a signal's name is a string")
            self._signals.send_relayed(name, message.get("v"))
        except (ValueError, AttributeError, KeyError, TypeError):
            log.warning("signals.relay.bad_message")
