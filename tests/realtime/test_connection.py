"""A socket's send queue: a slow client is closed with 1013 and never slows the others."""

from __future__ import annotations

import asyncio
from typing import Any

from server.realtime.connection import Connection
from server.realtime.hub import MemoryHub


class StubSocket:
    """Stands in for the ASGI WebSocket; sends block while `stalled` is clear."""

    def __init__(self, *, stalled: bool = False) -> None:
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.flowing = asyncio.Event()
        if not stalled:
            self.flowing.set()
        self._disconnect: asyncio.Future[dict[str, Any]] = asyncio.Future()

    async def send_text(self, text: str) -> None:
        await self.flowing.wait()
        self.sent.append(text)

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code
        self._disconnect.set_result({"type": "websocket.disconnect", "code": code})

    async def receive(self) -> dict[str, Any]:
        return await asyncio.shield(self._disconnect)


async def test_slow_client_is_closed_1013_while_others_get_every_event() -> None:
    hub = MemoryHub()
    slow_socket, fast_socket = StubSocket(stalled=True), StubSocket()
    slow = Connection(slow_socket, 7, "d", max_queue=4, ping_interval=0)  # type: ignore[arg-type]
    fast = Connection(fast_socket, 7, "d", max_queue=4, ping_interval=0)  # type: ignore[arg-type]
    for connection in (slow, fast):
        await hub.subscribe(connection)
    runs = [asyncio.create_task(c.run()) for c in (slow, fast)]

    for n in range(20):
        await hub.publish(7, {"type": "counts", "unread": n, "unseen": n})
        await asyncio.sleep(0)  # let the fast socket's sender keep up, as a real one would

    assert len(fast_socket.sent) == 20
    assert slow_socket.closed_with is None  # still stuck in its first send
    slow_socket.flowing.set()  # the slow client finally reads
    await asyncio.wait_for(runs[0], 1)
    assert slow_socket.closed_with == 1013
    assert len(slow_socket.sent) == 1  # what was queued behind it was dropped, not kept
    await hub.close()
    await asyncio.wait_for(runs[1], 1)
    assert fast_socket.closed_with == 1001
