"""A small HTTP/1.1 keep-alive client for push services, on asyncio protocols.

Push requests are all alike (one POST, a body under 4 KB, a tiny answer), and
bench/bench_push.py measured a general client's per-request machinery as the
largest CPU cost after encryption: aiohttp ≈ 250 µs of CPU per push, this ≈ 60 µs.
It connects only to addresses that `resolve_checked` approved (so DNS rebinding
cannot redirect it), never follows redirects, and keeps one pool per origin.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Mapping
from typing import cast

import httptools
from multidict import CIMultiDict

from server.core.config import Settings
from server.push.endpoints import (
    Address,
    PushURL,
    RefusedAddress,
    UnsafeEndpoint,
    parse_push_url,
    resolve_checked,
)

IDLE_SECONDS = 30.0  # drop pooled connections idle longer than this
DNS_SECONDS = 60.0
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
MAX_LINES = 4096  # checked header lines remembered (TTLs, VAPID headers, topics)


class ProtocolError(ConnectionError):
    """The push service's answer was not valid HTTP/1.1 (retried like a dropped connection)."""


class UnsafeRequest(ValueError):
    """A header name or value that would not be one plain header line: never written."""


Answer = tuple[int, CIMultiDict[str], bytes]

# RFC 9110 §5.1 token names, visible ASCII and spaces in values, one CRLF per field.
_FIELD_LINES = re.compile(r"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [\x20-\x7e]*\r\n)*")


class _Connection(asyncio.Protocol):
    """One keep-alive connection; answers are parsed by httptools (llhttp)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = time.monotonic()
        self.deadline = 0.0  # of the exchange in progress (Http1Client._sweep)
        self.received = 0
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._body = bytearray()
        self._in_head = False
        self._until_close = False  # no Content-Length or chunked: the body ends at EOF

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self._until_close and not self._in_head:
            waiter.set_result((self.parser.get_status_code(), self._headers, bytes(self._body)))
        else:
            waiter.set_exception(exc or ConnectionResetError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.reusable = False  # bytes nobody asked for (say, a 408 before closing)
            return
        try:
            self.parser.feed_data(data)
            if self._in_head and self.received > MAX_HEAD:
                raise ProtocolError("response head too large")
        except (httptools.HttpParserError, httptools.HttpParserUpgrade, ProtocolError) as exc:
            self.reusable = False
            if not waiter.done():
                waiter.set_exception(ProtocolError(f"malformed answer: {exc}"))

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._headers = CIMultiDict()
        self._body = bytearray()
        self._in_head = True
        self._until_close = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self.received > MAX_HEAD:
            raise ProtocolError("response head too large")
        headers = self._headers
        self._until_close = "Content-Length" not in headers and "Transfer-Encoding" not in headers

    def on_body(self, body: bytes) -> None:
        self._body += body
        if len(self._body) > MAX_BODY:
            raise ProtocolError("response body too large")

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # 1xx interim answers: wait for the real one
            return
        if not self.parser.should_keep_alive():
            self.reusable = False
        self._until_close = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((status, self._headers, bytes(self._body)))


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
        self._dns: dict[tuple[str, int], tuple[list[Address], float]] = {}
        self._tls = tls  # the system's trust store unless given
        self._lines: dict[tuple[str, str], str] = {}  # checked header lines (_fields)

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        try:
            parts = parse_push_url(url)  # whatever is stored, only a plain URL is sent
        except UnsafeEndpoint as exc:
            raise RefusedAddress(exc) from exc
        return await self.post_url(parts, headers, body)

    def _fields(self, headers: Mapping[str, str]) -> str:
        """The header lines, each checked once: a fan-out's pushes repeat the same few
        (the VAPID one is ~400 characters), and checking the whole block of every push
        was ~2 µs of its CPU."""
        lines = self._lines
        out = []
        for item in headers.items():
            line = lines.get(item)
            if line is None:
                line = f"{item[0]}: {item[1]}\r\n"
                # One CRLF per field: a value holding CR or LF would start a header of its own.
                if _FIELD_LINES.fullmatch(line) is None or line.count("\n") != 1:
                    raise UnsafeRequest("a push header is not a plain header line")
                if len(lines) >= MAX_LINES:
                    lines.clear()
                lines[item] = line
            out.append(line)
        return "".join(out)

    async def post_url(
        self, parts: PushURL, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        """`post` to an endpoint parsed already (by parse_push_url)."""
        fields = self._fields(headers)
        request = (
            f"POST {parts.target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{fields}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii") + body
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="push-http-timeouts")
        key = (parts.scheme, parts.netloc)
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
                connection = await self._connect(parts)
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
            if not connection.closed and connection.reusable and fresh:
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

    async def _addresses(self, host: str, port: int) -> list[Address]:
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

    async def _connect(self, parts: PushURL) -> _Connection:
        host, port = parts.host, parts.port
        tls = None
        if parts.scheme == "https":
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
                    host=address.host,
                    port=address.port,
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
