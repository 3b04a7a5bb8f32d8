"""The benchmark's loopback push service: a minimal HTTP/1.1 keep-alive server answering
201, in its own process, so its CPU is not counted against the contenders.

It listens on a plain port (pushes, and the control requests /stats, /reset, /verify)
and, when given a certificate, on a TLS port too. Pushes over TLS are recorded as they
arrive and checked on `/verify` (bench.push_verify), after a timed run: checking costs
the sink ~0.5 ms of CPU per message, which would otherwise compete with the contenders
for the machine's cores.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

from bench.push_verify import Checker, Message

RESPONSE_201 = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"


class SinkProtocol(asyncio.Protocol):
    count = 0
    arrivals: list[tuple[str, float]] = []
    recorded: list[Message] = []
    checker: Checker | None = None

    def __init__(self, record: bool = False) -> None:
        self.record = record  # keep each push for /verify (the TLS listener)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            raw = bytes(self.buffer[:end])
            head = raw.lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 : head.find(b"\r\n", at) % (len(head) + 1)]) if at >= 0 else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            path = head.split(b" ", 2)[1].decode()
            body = bytes(self.buffer[end + 4 : total]) if self.record else b""
            del self.buffer[:total]
            self.transport.write(self.answer(path, raw, body))

    def answer(self, path: str, raw: bytes, body: bytes) -> bytes:
        if path == "/stats":
            return json_answer({"count": SinkProtocol.count, "arrivals": SinkProtocol.arrivals})
        if path == "/reset":
            SinkProtocol.count, SinkProtocol.arrivals = 0, []
            SinkProtocol.recorded = []
            return RESPONSE_201
        if path == "/verify" and not self.record:
            assert SinkProtocol.checker is not None, "the sink was started without secrets"
            summary = SinkProtocol.checker.summary(SinkProtocol.recorded)
            SinkProtocol.recorded = []
            return json_answer(summary)
        SinkProtocol.count += 1
        SinkProtocol.arrivals.append((path, time.time()))
        if self.record:
            SinkProtocol.recorded.append(recorded(path, raw, body))
        return RESPONSE_201


def json_answer(document: dict[str, Any]) -> bytes:
    body = json.dumps(document).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def recorded(path: str, raw: bytes, body: bytes) -> Message:
    headers: dict[str, str] = {}
    for line in raw.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Message(
        index=path.rstrip("/").rsplit("/", 1)[-1],
        authorization=headers.get("authorization", ""),
        encoding=headers.get("content-encoding", ""),
        ttl=headers.get("ttl", ""),
        body=body,
    )


def run_sink(ready: Any, tls: tuple[str, str] | None = None, secrets: str | None = None) -> None:
    """Serve until terminated; puts (plain port, TLS port or None) on `ready`.
    `tls`: certificate and key files; `secrets`: the file bench.push_verify reads."""
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(SinkProtocol, "127.0.0.1", 0, backlog=4096)
        tls_port = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            secure = await loop.create_server(
                lambda: SinkProtocol(record=True), "127.0.0.1", 0, backlog=4096, ssl=context
            )
            tls_port = secure.sockets[0].getsockname()[1]
        if secrets is not None:
            SinkProtocol.checker = Checker.from_file(secrets)
            SinkProtocol.checker.origin = f"https://127.0.0.1:{tls_port}"
        ready.put((server.sockets[0].getsockname()[1], tls_port))
        await asyncio.Event().wait()

    uvloop.run(main())


async def _control(port: int, method: str, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    found = head.lower().split(b"content-length:")
    body = await reader.readexactly(int(found[1].split(b"\r\n")[0])) if len(found) > 1 else b""
    writer.close()
    return body


async def sink_stats(port: int) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(await _control(port, "GET", "/stats"))
    return result


async def sink_reset(port: int) -> None:
    await _control(port, "POST", "/reset")


async def sink_verify(port: int) -> dict[str, Any]:
    """Check the pushes received over TLS since the last /verify or /reset (untimed)."""
    result: dict[str, Any] = json.loads(
        await asyncio.wait_for(_control(port, "POST", "/verify"), 300)
    )
    return result
