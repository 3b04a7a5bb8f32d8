"""A marketplace with a webhook, and its endpoint on loopback, for the tests that watch
events arrive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from server.integrations import keys, registry, vendors


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A marketplace's webhook endpoint on loopback: answers `statuses` in turn (then 200)."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def moved(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.path, dict(request.headers), await request.read()))
        raise web.HTTPTemporaryRedirect(self.url("/hook"))


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiving = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiving.hook)
    app.router.add_post("/moved", receiving.moved)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiving.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield receiving
    await runner.cleanup()


@dataclass
class Shop:
    user_id: int
    key_id: str
    secret: str


async def shop(app: Any, url: str, events: tuple[str, ...]) -> Shop:
    """A marketplace with a webhook, an HMAC key and one vendor (`v_1`)."""
    async with app.state.units.writer() as uow:
        integration = await registry.create(
            uow,
            name="Shop",
            origins=("https://shop.example",),
            link_base="https://shop.example",
            webhook_url=url,
            webhook_events=events,
        )
        key, secret = await keys.issue(uow.session, app.state.secret_key, "shop", integration.id)
        user, _ = await vendors.find_or_create(uow, integration.id, "v_1")
        await uow.commit()
    return Shop(user.id, key.key_id, secret)
