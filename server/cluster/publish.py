"""Publishing a process's queued messages to a Redis channel, in pipelined batches: the
signal relay's (server.cluster.signal_relay) and the live hub's (server.realtime.redis_hub)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def publish_forever(
    redis: Any,
    channel: str,
    outbox: asyncio.Queue[str],
    *,
    most: int,
    failed: Callable[[Exception, int], None],
    pause: float,
) -> None:
    """Forever: publish what `outbox` holds, up to `most` messages per round trip. A batch
    Redis refuses is dropped (`failed(error, how many)` says so) and the loop waits `pause`
    seconds: what it carried is in the database, which the receivers fall back on."""
    from redis.exceptions import RedisError

    while True:
        batch = [await outbox.get()]
        while not outbox.empty() and len(batch) < most:
            batch.append(outbox.get_nowait())
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for text in batch:
                    pipe.publish(channel, text)
                await pipe.execute()
        except (RedisError, OSError) as exc:  # OSError: TimeoutError and lost connections
            failed(exc, len(batch))
            await asyncio.sleep(pause)
