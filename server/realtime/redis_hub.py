"""The hub for several web processes: live events travel over Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from typing import Any
from urllib.parse import urlsplit

from server.cluster.clients import command_client, subscription_client
from server.cluster.publish import publish_forever
from server.core.ids import is_ascii_digits
from server.realtime.hub import SERVICE_RESTART, Event, Hub, SessionCheck, encode

log = logging.getLogger("vendorbell.realtime")

# Every wait on Redis has this bound (connect, each reply, the SUBSCRIBE confirmation).
REDIS_TIMEOUT = 2.0
# A subscription quiet this long is PINGed; one that brought nothing back (no event,
# no PONG) for DEAD_AFTER_SECONDS is dead: a silent network loses no TCP connection.
PING_AFTER_SECONDS = 0.5
DEAD_AFTER_SECONDS = 1.5
RESUBSCRIBE_MAX_DELAY = 2.0  # seconds between attempts to subscribe again, at most
# The subscription's client name, with the process id (CLIENT LIST shows it).
CLIENT_NAME = "vendorbell-live"


class RedisHub(Hub):
    """Several processes: events travel over one Redis pub/sub channel.

    Every process receives every event and delivers it to the sockets it holds
    (a dict lookup for sockets it does not hold). One channel keeps the
    subscription fixed for the process's life, so a new socket never waits for a
    SUBSCRIBE round trip and cannot miss an event published while it connects.
    Publishing only queues: a background task pipelines the PUBLISH commands.

    Losing the subscription loses events: the sockets are closed with 1012 as soon
    as it is noticed (a quiet subscription is PINGed, and is dead when nothing comes
    back within DEAD_AFTER_SECONDS), so clients reconnect and resync with `since`.
    Until it is back, new sockets are accepted and get this process's own events,
    delivered directly; once it is back they too are closed with 1012 to resync.

    A process that holds no sockets (the worker role) publishes without subscribing
    (`listen=False`): it would only read and drop every event of every process. A
    100,000-user broadcast is 100,000 events, which cost each of four workers seconds
    of CPU (bench/bench_scale.py e2e, py-spy: a quarter of a worker's samples).
    """

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        ping_interval: float | None = None,
        sessions: SessionCheck | None = None,
        listen: bool = True,
    ) -> None:
        super().__init__(ping_interval=ping_interval, sessions=sessions)
        self._listen_for_events = listen
        self._url = url
        self._channel = channel
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=100_000)
        self._redis: Any = None
        self._listener: Any = None
        self.subscribed = False

    async def publish(self, user_id: int, message: dict[str, Any]) -> None:
        event = encode(message)
        self._send(str(user_id), event)
        if not self.subscribed:  # it would not come back to us: deliver it here
            self._deliver_local(user_id, event)

    async def broadcast(self, message: dict[str, Any]) -> None:
        event = encode(message)
        self._send("*", event)
        if not self.subscribed:
            self._deliver_local(None, event)

    async def end_sessions(self, user_id: int, token_digest: str) -> None:
        self._send(f"!{user_id}", Event("", None), token_digest)
        if not self.subscribed:
            self._end_local_sessions(user_id, token_digest)

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
        from redis.exceptions import RedisError

        self._redis = command_client(self._url, timeout=REDIS_TIMEOUT)
        try:
            if self._listen_for_events:
                # Events published while the subscription is away are lost to this
                # process: it must fail visibly (its sockets are then told), never
                # reconnect silently.
                self._listener = subscription_client(
                    self._url, name=f"{CLIENT_NAME}-{os.getpid()}", timeout=REDIS_TIMEOUT
                )
                pubsub = await self._subscribe()
            else:
                await self._redis.ping()  # a publisher too fails visibly at start
        except (RedisError, OSError, TimeoutError) as exc:
            where = urlsplit(self._url)  # never print the URL itself: it may hold a password
            raise RuntimeError(
                f"REDIS_URL: no Redis answers at {where.hostname}:{where.port or 6379} ({exc})"
            ) from exc
        if self._listen_for_events:
            self.subscribed = True
            self._spawn(self._listen(pubsub))
        self._spawn(self._publish_loop())
        await super().start()

    async def close(self) -> None:
        await super().close()
        for client in (self._redis, self._listener):
            if client is not None:
                await client.aclose()

    async def _subscribe(self) -> Any:
        pubsub = self._listener.pubsub()
        try:
            async with asyncio.timeout(2 * REDIS_TIMEOUT):
                await pubsub.subscribe(self._channel)
                # Wait for the confirmation: from here on every PUBLISH reaches this process.
                while (await pubsub.get_message(timeout=REDIS_TIMEOUT)) is None:
                    pass
        except BaseException:
            await _close_quietly(pubsub)
            raise
        return pubsub

    def _receive(self, data: bytes) -> None:
        try:
            target, nid, text = data.decode().split("\n", 2)
        except ValueError:  # not ours (UnicodeDecodeError is one): never stop listening
            log.warning("realtime.redis.bad_message")
            return
        if target.startswith("!"):
            if is_ascii_digits(target[1:]):
                self._end_local_sessions(int(target[1:]), nid)
        elif target == "*":
            self._deliver_local(None, Event(text, int(nid) if is_ascii_digits(nid) else None))
        elif is_ascii_digits(target) and int(target) in self._local:
            self._deliver_local(
                int(target), Event(text, int(nid) if is_ascii_digits(nid) else None)
            )

    async def _listen(self, pubsub: Any) -> None:
        while True:
            try:
                await self._read(pubsub)
            except Exception as exc:  # whatever it was, this loop must go on
                log.warning("realtime.redis.disconnected", extra={"error": repr(exc)})
            # Events published from now until we are subscribed again never reach this
            # process: have its sockets reconnect now and resync from the database.
            self.subscribed = False
            self.close_local(SERVICE_RESTART)
            await _close_quietly(pubsub)
            pubsub = await self._resubscribe()
            self.subscribed = True
            # The sockets accepted meanwhile had this process's events only: resync them.
            self.close_local(SERVICE_RESTART)

    async def _read(self, pubsub: Any) -> None:
        """Deliver what the subscription brings until it fails or stays silent: when
        quiet it is PINGed, and dead once nothing at all came for DEAD_AFTER_SECONDS."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            async with asyncio.timeout(PING_AFTER_SECONDS + REDIS_TIMEOUT):
                message = await pubsub.get_message(timeout=PING_AFTER_SECONDS)
            now = loop.time()
            if message is not None:
                heard = now
                if message["type"] == "message":
                    self._receive(message["data"])
            elif now - heard >= DEAD_AFTER_SECONDS:
                raise TimeoutError(f"no answer from Redis for {now - heard:.1f} s")
            else:
                async with asyncio.timeout(REDIS_TIMEOUT):
                    await pubsub.ping()  # its PONG arrives as a message

    async def _resubscribe(self) -> Any:
        delay = 0.1
        while True:
            await asyncio.sleep(delay * (0.5 + random.random() / 2))  # jitter: not all at once
            try:
                pubsub = await self._subscribe()
            except Exception:  # Redis still away, or not answering yet
                delay = min(delay * 2, RESUBSCRIBE_MAX_DELAY)
                continue
            log.info("realtime.redis.reconnected")
            return pubsub

    async def _publish_loop(self) -> None:
        def failed(exc: Exception, lost: int) -> None:
            # The database still holds the notifications: clients resync on reconnect.
            log.error("realtime.redis.publish_failed", extra={"error": str(exc), "lost": lost})

        await publish_forever(
            self._redis, self._channel, self._outbox, most=1000, failed=failed, pause=0.5
        )


async def _close_quietly(pubsub: Any) -> None:
    """Drop a subscription that may be dead, without waiting long on it."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(REDIS_TIMEOUT):
            await pubsub.aclose()
