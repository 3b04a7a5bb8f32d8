"""The hub for several web processes: live events travel over Redis pub/sub."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from server.core.ids import is_ascii_digits
from server.realtime.hub import SERVICE_RESTART, Event, Hub, encode

log = logging.getLogger("vendorbell.realtime")


class RedisHub(Hub):
    """Several processes: events travel over one Redis pub/sub channel.

    Every process receives every event and delivers it to the sockets it holds
    (a dict lookup for sockets it does not hold). One channel keeps the
    subscription fixed for the process's life, so a new socket never waits for a
    SUBSCRIBE round trip and cannot miss an event published while it connects.
    Publishing only queues: a background task pipelines the PUBLISH commands.
    """

    def __init__(self, url: str, channel: str, *, ping_interval: float | None = None) -> None:
        super().__init__(ping_interval=ping_interval)
        self._url = url
        self._channel = channel
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=100_000)
        self._redis: Any = None

    async def publish(self, user_id: int, message: dict[str, Any]) -> None:
        self._send(str(user_id), encode(message))

    async def broadcast(self, message: dict[str, Any]) -> None:
        self._send("*", encode(message))

    async def end_sessions(self, user_id: int, token_digest: str) -> None:
        self._send(f"!{user_id}", Event("", None), token_digest)

    def _send(self, target: str, event: Event, nid: str | None = None) -> None:
        # Wire format: "<user id or *>\n<notification id or empty>\n<json>", or
        # "!<user id>\n<token digest>\n" to end the sockets opened with that token.
        if nid is None:
            nid = "" if event.notification_id is None else str(event.notification_id)
        try:
            self._outbox.put_nowait(f"{target}\n{nid}\n{event.text}")
        except asyncio.QueueFull:
            log.error("realtime.redis.outbox_full", extra={"target": target})

    async def ping(self) -> None:
        await self._redis.ping()

    async def start(self) -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self._redis = Redis.from_url(self._url, socket_connect_timeout=5)
        try:
            pubsub = await self._subscribe()
        except (RedisError, OSError, TimeoutError) as exc:
            where = urlsplit(self._url)  # never print the URL itself: it may hold a password
            raise RuntimeError(
                f"REDIS_URL: no Redis answers at {where.hostname}:{where.port or 6379} ({exc})"
            ) from exc
        self._spawn(self._listen(pubsub))
        self._spawn(self._publish_loop())
        await super().start()

    async def close(self) -> None:
        await super().close()
        if self._redis is not None:
            await self._redis.aclose()

    async def _subscribe(self) -> Any:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            # Wait for the confirmation: from here on every PUBLISH reaches this process.
            async with asyncio.timeout(10):
                while (await pubsub.get_message(timeout=1.0)) is None:
                    pass
        except BaseException:
            await pubsub.aclose()
            raise
        return pubsub

    def _receive(self, data: bytes) -> None:
        target, nid, text = data.decode().split("\n", 2)
        if target.startswith("!"):
            if is_ascii_digits(target[1:]):
                self._end_local_sessions(int(target[1:]), nid)
        elif target == "*":
            self._deliver_local(None, Event(text, int(nid) if nid else None))
        elif is_ascii_digits(target) and int(target) in self._local:
            self._deliver_local(int(target), Event(text, int(nid) if nid else None))

    async def _listen(self, pubsub: Any) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._receive(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("realtime.redis.disconnected", extra={"error": str(exc)})
            finally:
                await pubsub.aclose()
            pubsub = await self._resubscribe()
            # Events published while we were away are lost to this process: have its
            # sockets reconnect, and resync from the database with `since`.
            self.close_local(SERVICE_RESTART)

    async def _resubscribe(self) -> Any:
        from redis.exceptions import RedisError

        delay = 0.5
        while True:
            await asyncio.sleep(delay)
            try:
                pubsub = await self._subscribe()
            except (RedisError, OSError, TimeoutError):
                delay = min(delay * 2, 10.0)
                continue
            log.info("realtime.redis.reconnected")
            return pubsub

    async def _publish_loop(self) -> None:
        from redis.exceptions import RedisError

        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 1000:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for payload in batch:
                        pipe.publish(self._channel, payload)
                    await pipe.execute()
            except (RedisError, OSError) as exc:
                # The database still holds the notifications: clients resync on reconnect.
                log.error(
                    "realtime.redis.publish_failed", extra={"error": str(exc), "lost": len(batch)}
                )
                await asyncio.sleep(0.5)
