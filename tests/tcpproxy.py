"""A loopback TCP proxy a test can silence, cut and restore: outages made of real sockets.

`silence()` holds every byte, both ways, on open and new connections while TCP stays up
(a network partition: only a client's own PING and timeouts can tell). `cut()` closes
every connection it carries and then, depending on `mode`, either refuses new ones (the
listening socket is closed: connect() gets ECONNREFUSED, as when the host is up but the
server is not) or blackholes them (they are accepted and never answered, as when a
firewall or a dead host drops packets: only the client's own timeouts end the wait).
`restore()` forwards again on the same port.

Used by the outage tests (tests/ops/test_outage.py, in front of PostgreSQL;
tests/realtime/test_redis_outage.py, in front of Redis) and by bench/faults_outage.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Literal

CutMode = Literal["refuse", "blackhole"]


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port` until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.mode: CutMode | None = None  # None: forwarding
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> int:
        """Listen on a free loopback port (or the one used before a cut); returns it."""
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def silence(self) -> None:
        """Hold every byte, both ways, until `restore()`; connections stay open."""
        self._flowing.clear()

    async def cut(self, mode: CutMode = "refuse") -> None:
        """Drop every carried connection; then refuse or blackhole new ones."""
        self.mode = mode
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def restore(self) -> None:
        """Forward again; blackholed connections made meanwhile are dropped."""
        if self.mode == "blackhole":
            for writer in list(self._writers):
                _abort(writer)
            self._writers.clear()
        self.mode = None
        self._flowing.set()
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.cut("refuse")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            if self.mode == "blackhole":
                await reader.read()  # never answered; ends when the client gives up or a cut
                return
            if self.mode == "refuse":
                return
            await self._forward(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            _abort(writer)
            self._tasks.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(5):
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        self._writers.add(up_writer)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.discard(up_writer)
            _abort(up_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once with a reset, as a crashed server or a cut cable would."""
    with contextlib.suppress(OSError, RuntimeError):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
