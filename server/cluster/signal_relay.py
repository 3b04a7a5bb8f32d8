"""Signals between processes: with REDIS_URL, a commit in an API process wakes the
workers of every other process at once, instead of at their next poll.

Without it, an order placed through a `--role api` process reached the push service
only after a worker's next poll (PUSH_POLL_SECONDS, 1 s), and a broadcast started only
after the broadcast loop's (2 s): bench/bench_scale.py measured a 500-user broadcast
reaching open tabs at p50 2.1 s. Each process forwards what its signals send
(server.core.signals) over one Redis pub/sub channel; processes whose role runs the loops
that listen (delivery, broadcasts, mail, webhooks) subscribe and send them on locally.
Several workers hearing the same delivery ids is safe: claiming is atomic, each row goes
to one of them.

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
        self._signals.deliveries.forward(self._forward_deliveries)
        self._signals.broadcasts.forward(self._forward_broadcast)
        self._signals.emails.forward(self._forward_emails)
        self._signals.webhooks.forward(self._forward_webhooks)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._publish_loop(), name="signal-relay-out"))
        if self._listen:
            self._tasks.append(loop.create_task(self._listen_loop(), name="signal-relay-in"))

    async def close(self) -> None:
        self._signals.deliveries.forward(None)
        self._signals.broadcasts.forward(None)
        self._signals.emails.forward(None)
        self._signals.webhooks.forward(None)
        await cancel_and_wait(self._tasks)
        if self._redis is not None:
            await self._redis.aclose()

    def _forward_deliveries(self, ids: list[int]) -> None:
        self._queue({"o": self._origin, "d": ids})

    def _forward_broadcast(self, broadcast_id: int) -> None:
        self._queue({"o": self._origin, "b": broadcast_id})

    def _forward_emails(self, ids: list[int]) -> None:
        self._queue({"o": self._origin, "e": ids})

    def _forward_webhooks(self, ids: list[int]) -> None:
        self._queue({"o": self._origin, "w": ids})

    def _queue(self, message: dict[str, Any]) -> None:
        # Full only when Redis has been away for long: the workers' polls find the rows.
        with contextlib.suppress(asyncio.QueueFull):
            self._outbox.put_nowait(json.dumps(message))

    async def _publish_loop(self) -> None:
        from redis.exceptions import RedisError

        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 500:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for text in batch:
                        pipe.publish(self._channel, text)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("signals.relay.publish_failed", extra={"error": str(exc)})
                await asyncio.sleep(1.0)

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
            ids = message.get("d")
            if isinstance(ids, list) and all(type(i) is int for i in ids):
                self._signals.deliveries.send_local(ids)
            email_ids = message.get("e")
            if isinstance(email_ids, list) and all(type(i) is int for i in email_ids):
                self._signals.emails.send_local(email_ids)
            webhook_ids = message.get("w")
            if isinstance(webhook_ids, list) and all(type(i) is int for i in webhook_ids):
                self._signals.webhooks.send_local(webhook_ids)
            broadcast_id = message.get("b")
            if type(broadcast_id) is int:
                self._signals.broadcasts.send_local(broadcast_id)
        except (ValueError, AttributeError):
            log.warning("signals.relay.bad_message")
