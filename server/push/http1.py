"""A small HTTP/1.1 keep-alive client for push services, on asyncio protocols.

Push requests are all alike (one POST, a body under 4 KB, a tiny answer), and
bench/bench_push.py measured a general client's per-request machinery as the
largest CPU cost after encryption: aiohttp ≈ 250 µs of CPU per push, this ≈ 60 µs.
It connects only to addresses that `resolve_checked` approved (so DNS rebinding
cannot redirect it), never follows redirects, and keeps one pool per origin.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

from aiohttp.abc import ResolveResult
from multidict import CIMultiDict

from server.config import Settings
from server.push.endpoints import RefusedAddress, UnsafeEndpoint, resolve_checked

IDLE_SECONDS = 30.0  # drop pooled connections idle longer than this
DNS_SECONDS = 60.0
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024


class ProtocolError(ConnectionError):
    """The push service's answer was not valid HTTP/1.1."""


Answer = tuple[int, CIMultiDict[str], bytes]


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = time.monotonic()
        self.deadline = 0.0  # of the exchange in progress (Http1Client._sweep)
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            try:
                if self.buffer and self._until_close():
                    self._finish(eof=True)
            except ProtocolError as error:
                self.waiter.set_exception(error)
            if not self.waiter.done():
                self.waiter.set_exception(exc or ConnectionResetError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                self._finish(eof=False)
            except ProtocolError as exc:
                self.waiter.set_exception(exc)

    def _until_close(self) -> bool:
        head = bytes(self.buffer).lower()
        return b"content-length:" not in head and b"chunked" not in head

    def _finish(self, *, eof: bool) -> None:
        """Complete the waiter once a whole response is buffered."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("response head too large")
            return
        status, headers = _parse_head(bytes(self.buffer[:end]))
        rest = bytes(self.buffer[end + 4 :])
        if status < 200 and status != 101:  # 1xx interim answers: wait for the real one
            del self.buffer[: end + 4]
            self._finish(eof=eof)
            return
        body: bytes | None
        if status in (204, 304):
            body, used = b"", 0
        elif "chunked" in headers.get("Transfer-Encoding", "").lower():
            body, used = _dechunk(rest)
        elif "Content-Length" in headers:
            length = int(headers["Content-Length"])
            if length > MAX_BODY:
                raise ProtocolError("response body too large")
            body, used = (rest[:length], length) if len(rest) >= length else (None, 0)
        else:
            self.reusable = False
            body, used = (rest, len(rest)) if eof else (None, 0)
        if body is None:
            return
        if headers.get("Connection", "").lower() == "close":
            self.reusable = False
        del self.buffer[: end + 4 + used]
        assert self.waiter is not None
        self.waiter.set_result((status, headers, body))


def _parse_head(head: bytes) -> tuple[int, CIMultiDict[str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {lines[0][:80]!r}")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError("bad header line")
        headers.add(name.strip(), value.strip())
    return int(parts[1]), headers


def _dechunk(data: bytes) -> tuple[bytes | None, int]:
    body, pos = bytearray(), 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        try:
            size = int(data[pos:eol].split(b";", 1)[0], 16)
        except ValueError as exc:
            raise ProtocolError("bad chunk size") from exc
        if size == 0:
            end = data.find(b"\r\n\r\n", eol)  # optional trailers, then a blank line
            if data[eol : eol + 4] == b"\r\n\r\n":
                end = eol
            return (bytes(body), end + 4) if end >= 0 else (None, 0)
        if len(data) < eol + 2 + size + 2:
            return None, 0
        body += data[eol + 2 : eol + 2 + size]
        if len(body) > MAX_BODY:
            raise ProtocolError("response body too large")
        pos = eol + 2 + size + 2


def _split(url: str) -> tuple[tuple[str, str], str]:
    """(scheme, netloc) and the request target of an absolute http(s) URL.

    str.partition for the usual `scheme://host[:port]/path` (urlsplit was ~7% of a
    push's CPU in this process); anything unusual goes through urlsplit."""
    scheme, _, rest = url.partition("://")
    netloc, _, path = rest.partition("/")
    if "?" in netloc or "#" in netloc or "#" in path or "@" in netloc or not netloc:
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return (parts.scheme, parts.netloc.lower()), (parts.path or "/") + query
    return (scheme.lower(), netloc.lower()), "/" + path


class Http1Client:
    """POSTs to push services over pooled HTTP/1.1 connections (TLS for https).

    Timeouts: connecting is bounded by asyncio.timeout; an exchange on a connection
    gets a deadline that one sweeper task enforces for all of them (a timer per
    request was ~6% of a push's CPU here)."""

    def __init__(
        self, settings: Settings, timeout: float = 15.0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.connections_made = 0
        self._idle: dict[tuple[str, str], list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._dns: dict[tuple[str, int], tuple[list[ResolveResult], float]] = {}
        self._tls = tls  # the system's trust store unless given

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        key, target = _split(url)
        lines = [f"POST {target} HTTP/1.1", f"Host: {key[1]}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="push-http-timeouts")
        connection = self._pooled(key)
        if connection is not None:
            try:
                answer = await self._exchange(connection, request)
            except ConnectionError:
                if connection.received:
                    raise
                connection = None  # the idle connection had been closed: once more
        if connection is None:
            async with asyncio.timeout(self.timeout):
                connection = await self._connect(key)
            answer = await self._exchange(connection, request)
        status, answer_headers, answer_body = answer
        if connection.reusable and not connection.closed:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(key, []).append(connection)
        elif connection.transport is not None:
            connection.transport.close()
        return status, answer_headers, answer_body[:200].decode("utf-8", "replace")

    async def _sweep(self) -> None:
        """Fail exchanges past their deadline (TimeoutError) and drop their connections."""
        interval = min(1.0, self.timeout / 4)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in [c for c in self._busy if c.deadline <= now]:
                waiter = connection.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_exception(TimeoutError(f"no answer in {self.timeout:g} s"))

    def _pooled(self, key: tuple[str, str]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            # Bytes on an idle connection (say, a 408 before closing) make it unusable.
            fresh = now - connection.idle_since < IDLE_SECONDS
            if not connection.closed and not connection.buffer and fresh:
                return connection
            if connection.transport is not None:
                connection.transport.close()
        return None

    async def _exchange(self, connection: _Connection, request: bytes) -> Answer:
        assert connection.transport is not None
        connection.waiter = asyncio.get_running_loop().create_future()
        connection.received = 0
        connection.deadline = time.monotonic() + self.timeout
        self._busy.add(connection)
        try:
            connection.transport.write(request)
            return await connection.waiter
        except BaseException:
            connection.reusable = False
            connection.transport.abort()
            raise
        finally:
            connection.waiter = None
            self._busy.discard(connection)

    async def _addresses(self, host: str, port: int) -> list[ResolveResult]:
        cached = self._dns.get((host, port))
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            found = await resolve_checked(host, port, self.settings)
        except UnsafeEndpoint as exc:
            if exc.code == "endpoint_unresolvable":
                raise OSError(exc.detail) from exc
            raise RefusedAddress(exc) from exc
        self._dns[(host, port)] = (found, time.monotonic() + DNS_SECONDS)
        return found

    async def _connect(self, key: tuple[str, str]) -> _Connection:
        scheme, netloc = key
        parts = urlsplit(f"{scheme}://{netloc}")
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        loop = asyncio.get_running_loop()
        last: OSError = OSError(f"cannot connect to {host}")
        # Connect to the addresses that were checked, never to a fresh lookup.
        for address in await self._addresses(host, port):
            try:
                _, protocol = await loop.create_connection(
                    _Connection,
                    host=address["host"],
                    port=address["port"],
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
                self.connections_made += 1
                return protocol
            except OSError as exc:
                last = exc
        raise last

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for pool in self._idle.values():
            for connection in pool:
                if connection.transport is not None:
                    connection.transport.close()
        self._idle.clear()
