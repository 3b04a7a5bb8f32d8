"""Request smuggling: an endpoint is a plain URL or nothing, whatever is stored, and an
answer that is not valid HTTP ends as a retried delivery, never as a dead sender."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.core.config import Settings
from server.push.endpoints import UnsafeEndpoint, parse_push_url
from server.push.http1 import Http1Client, ProtocolError
from server.push.keys import KeyStore
from server.push.sender import Job, Sender
from tests.conftest import Accounts, make_settings
from tests.pushservice import make_browser_subscription

OK = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"


class RawServer:
    """A loopback TCP server that records every byte and answers each request with the
    next of `answers` (the last one repeats)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.received = bytearray()
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.received += head
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                self.received += await reader.readexactly(length)
                answer = self.answers[min(self.requests, len(self.answers) - 1)]
                self.requests += 1
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


SMUGGLING = "/push/a\r\nX-Injected: yes\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x"
MALFORMED_PATHS = [
    SMUGGLING,
    "/push/a\nX-Injected: yes",
    "/push/a b",  # space
    "/push/a\tb",
    "/push/a\x00b",
    "/push/\x7f",
    "/push/ü",  # non-ASCII
    "/push/a#fragment",
    "/push\\a",  # backslash
    "/push/%zz",  # a broken escape
]


@pytest.fixture
def local_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, push_allowed_hosts=["127.0.0.1"])


async def test_an_endpoint_that_is_not_a_plain_url_is_refused(local_settings: Settings) -> None:
    app = create_app(local_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            vendor = await Accounts(client).vendor()
            for path in MALFORMED_PATHS:
                body = make_browser_subscription(f"http://127.0.0.1:9/{path[1:]}").to_json()
                response = await client.post(
                    "/api/push/subscriptions", json=body, headers=vendor.headers
                )
                assert response.status_code == 422, (path, response.text)
                assert response.json()["code"] == "endpoint_malformed", path
            for host in ["bücher.example", "xn--bcher-kva.example\u200b"]:
                body = make_browser_subscription(f"https://{host}/x").to_json()
                response = await client.post(
                    "/api/push/subscriptions", json=body, headers=vendor.headers
                )
                assert response.json()["code"] == "endpoint_malformed", host
            listed = await client.get("/api/push/subscriptions", headers=vendor.headers)
            assert listed.json() == []


def test_plain_urls_parse_into_parts_safe_for_a_request_line() -> None:
    url = parse_push_url("HTTPS://Fcm.GoogleApis.com/fcm/send/abc:APA91b-x_y~z?x=%2F")
    assert (url.scheme, url.host, url.port, url.netloc) == (
        "https", "fcm.googleapis.com", 443, "fcm.googleapis.com"
    )  # fmt: skip
    assert url.target == "/fcm/send/abc:APA91b-x_y~z?x=%2F"
    assert parse_push_url("http://[::1]:8080").target == "/"
    assert parse_push_url("https://xn--bcher-kva.example/x").host == "xn--bcher-kva.example"
    for bad in ["https://a.example:0/x", "https://a.example:70000/x", "https://[zz]/x"]:
        with pytest.raises(UnsafeEndpoint):
            parse_push_url(bad)


def job_for(endpoint: str, key_id: str) -> Job:
    keys = make_browser_subscription("https://unused.example/x").to_json()["keys"]
    now = datetime.now(UTC)
    return Job(
        id=1, payload='{"web_push":8030}', urgency="normal", topic=None, created_at=now,
        expires_at=now + timedelta(hours=1), attempts=1, subscription_id=1, endpoint=endpoint,
        p256dh=keys["p256dh"], auth=keys["auth"], key_id=key_id,
    )  # fmt: skip


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[Sender]:
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///unused.db")
    found = Sender(settings, KeyStore.load_or_create(settings))
    yield found
    await found.close()


async def test_a_stored_smuggling_endpoint_never_reaches_the_wire(sender: Sender) -> None:
    """Rows saved before validation existed: the sender refuses them, and a good push on
    the same connection goes out as exactly one request."""
    kid = sender.keys.current.kid
    async with RawServer([OK]) as server:
        base = f"http://127.0.0.1:{server.port}"
        outcome = await sender.send(job_for(base + SMUGGLING, kid))
        assert outcome.kind == "failed"
        assert outcome.reason == "endpoint refused: endpoint_malformed"
        # Straight into the client too: the request line is built from parsed parts.
        with pytest.raises(OSError, match="plain absolute https URL"):
            await sender.client.post(base + SMUGGLING, {}, b"")
        assert server.received == b""
        assert (await sender.send(job_for(base + "/push/ok", kid))).kind == "delivered"
    assert server.received.count(b"HTTP/1.1") == 1
    assert b"X-Injected" not in server.received and b"smuggled" not in server.received


async def test_a_header_that_would_split_the_request_is_never_written(sender: Sender) -> None:
    async with RawServer([OK]) as server:
        url = f"http://127.0.0.1:{server.port}/push/a"
        fine = {"TTL": "60", "Urgency": "normal"}  # lines the client has checked before
        await sender.client.post(url, fine, b"")
        bad = [{"Topic": "a\r\nX-Injected: yes"}, {"Bad Name": "x"}, {"T": "\x00"}]
        for headers in bad * 2:  # a refused line is refused again, never remembered
            with pytest.raises(ValueError, match="not a plain header line"):
                await sender.client.post(url, {**fine, **headers}, b"")
    assert server.received.count(b"POST ") == 1
    assert b"X-Injected" not in server.received and b"Bad Name" not in server.received


MALFORMED_ANSWERS = [
    b"HTTP/1.1 201 Created\r\nContent-Length: abc\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
    b"HTTP/1.1 2x1 Created\r\nContent-Length: 0\r\n\r\n",
    b"garbage garbage\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nBad Header Line\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 201 Created\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
]


@pytest.mark.parametrize("answer", MALFORMED_ANSWERS, ids=range(len(MALFORMED_ANSWERS)))
async def test_a_malformed_answer_is_a_retried_delivery(sender: Sender, answer: bytes) -> None:
    kid = sender.keys.current.kid
    async with RawServer([answer, OK]) as server:
        url = f"http://127.0.0.1:{server.port}/push/a"
        outcome = await sender.send(job_for(url, kid))
        assert outcome.kind == "retry", outcome
        assert outcome.reason is not None and "ProtocolError" in outcome.reason
        # The sender is intact and opens a fresh connection for the next push.
        assert (await sender.send(job_for(url, kid))).kind == "delivered"


async def test_the_client_names_a_malformed_answer(local_settings: Settings) -> None:
    client = Http1Client(local_settings, timeout=2.0)
    try:
        async with RawServer([MALFORMED_ANSWERS[0]]) as server:
            with pytest.raises(ProtocolError, match="malformed answer"):
                await client.post(f"http://127.0.0.1:{server.port}/a", {}, b"")
    finally:
        await client.close()


class BrokenClient:
    """A client with a bug: the sender must still answer with an outcome."""

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]:
        raise KeyError("a bug in the client")

    async def close(self) -> None:
        return None


async def test_an_unexpected_client_error_is_retried_not_raised(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///unused.db")
    sender = Sender(settings, KeyStore.load_or_create(settings), client=BrokenClient())
    outcome = await sender.send(job_for("http://127.0.0.1:9/a", sender.keys.current.kid))
    assert (outcome.kind, outcome.reason) == ("retry", "unexpected error while sending")
