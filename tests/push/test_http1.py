"""The push HTTP/1.1 client against real loopback servers: keep-alive, chunked and
close-delimited answers, servers dropping idle connections, no redirects, TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bench.certs import make_certificate
from server.core.config import Settings
from server.push.http1 import Http1Client
from tests.conftest import make_settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
def client_settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, "sqlite+aiosqlite:///unused.db", push_allowed_hosts=["127.0.0.1", "localhost"]
    )


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    assert site._server is not None
    return runner, site._server.sockets[0].getsockname()[1]


@pytest.fixture
async def http_client(client_settings: Settings) -> AsyncIterator[Http1Client]:
    client = Http1Client(client_settings, timeout=2.0)
    yield client
    await client.close()


async def test_connections_are_kept_alive_and_reused(http_client: Http1Client) -> None:
    bodies: list[bytes] = []

    async def handler(request: web.Request) -> web.Response:
        bodies.append(await request.read())
        return web.Response(status=201)

    runner, port = await serve(handler)
    try:
        for n in range(5):
            status, _, _ = await http_client.post(
                f"http://127.0.0.1:{port}/push/a", {"TTL": "60"}, b"x" * n
            )
            assert status == 201
    finally:
        await runner.cleanup()
    assert bodies == [b"x" * n for n in range(5)]
    assert http_client.connections_made == 1


async def test_chunked_and_close_delimited_answers_are_read(http_client: Http1Client) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/chunked":
            response = web.StreamResponse(status=400, headers={"Retry-After": "3"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"bad ")
            await response.write(b"request")
            await response.write_eof()
            return response
        return web.Response(status=410, text="gone", headers={"Connection": "close"})

    runner, port = await serve(handler)
    try:
        status, headers, text = await http_client.post(f"http://127.0.0.1:{port}/chunked", {}, b"")
        assert (status, headers["retry-after"], text) == (400, "3", "bad request")
        status, _, text = await http_client.post(f"http://127.0.0.1:{port}/close", {}, b"")
        assert (status, text) == (410, "gone")
        status, _, _ = await http_client.post(f"http://127.0.0.1:{port}/close", {}, b"")
    finally:
        await runner.cleanup()
    assert status == 410
    assert http_client.connections_made == 2  # the `Connection: close` one was not reused


async def test_a_connection_the_server_dropped_is_replaced(http_client: Http1Client) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=201)

    runner, port = await serve(handler)
    url = f"http://127.0.0.1:{port}/push/a"
    try:
        assert (await http_client.post(url, {}, b"1"))[0] == 201
        await runner.cleanup()  # closes the idle keep-alive connection
        runner, port2 = await serve(handler)
        url = f"http://127.0.0.1:{port2}/push/a"
        assert (await http_client.post(url, {}, b"2"))[0] == 201
    finally:
        await runner.cleanup()


async def test_redirects_are_not_followed(http_client: Http1Client) -> None:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=307, headers={"Location": "/elsewhere"})

    runner, port = await serve(handler)
    try:
        status, headers, _ = await http_client.post(f"http://127.0.0.1:{port}/push/a", {}, b"")
    finally:
        await runner.cleanup()
    assert (status, headers["location"], hits) == (307, "/elsewhere", ["/push/a"])


async def test_a_silent_server_times_out(client_settings: Settings) -> None:
    http_client = Http1Client(client_settings, timeout=0.3)
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=201)

    runner, port = await serve(handler)
    try:
        with pytest.raises(TimeoutError):
            await http_client.post(f"http://127.0.0.1:{port}/push/a", {}, b"")
    finally:
        release.set()
        await http_client.close()
        await runner.cleanup()


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert_path, key_path = make_certificate(tmp_path, "push")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


async def test_https_verifies_the_push_service_certificate(
    client_settings: Settings, tmp_path: Path
) -> None:
    server_tls, client_tls = self_signed(tmp_path)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=201)

    runner, port = await serve(handler, tls=server_tls)
    trusting = Http1Client(client_settings, timeout=2.0, tls=client_tls)
    system = Http1Client(client_settings, timeout=2.0)  # does not trust the test CA
    try:
        status, _, _ = await trusting.post(f"https://localhost:{port}/push/a", {}, b"x")
        assert status == 201
        with pytest.raises(ssl.SSLCertVerificationError):
            await system.post(f"https://localhost:{port}/push/a", {}, b"x")
    finally:
        await trusting.close()
        await system.close()
        await runner.cleanup()
