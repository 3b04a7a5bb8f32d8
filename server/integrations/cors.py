"""CORS for the routes the embedded bell calls from a marketplace's page.

Only an Origin some integration allows (server.integrations.registry, cached) gets
`Access-Control-Allow-Origin` (that origin, echoed), and only on the element's routes:
the embed session, the inbox list, counts, mark read/seen and receipts, preferences and
push subscriptions. Never credentials: the page authenticates with its bearer session,
and the PWA's cookie (and its Origin check in server.accounts.deps) stays same-origin. A
preflight from any other origin, or for any other route, gets no CORS header at all.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.core.unit_of_work import UnitOfWorkFactory
from server.integrations import registry

ELEMENT_ROUTES = re.compile(
    r"/api/embed/.+"
    r"|/api/notifications(?:/count|/mark-all-seen|/mark-all-read|/[^/]+/read|/[^/]+/events)?"
    r"|/api/preferences"
    r"|/api/push/(?:vapid-public-key|renewals|subscriptions(?:/[^/]+)?)"
)
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key"
EXPOSE_HEADERS = "Retry-After"
MAX_AGE = "600"


def is_element_route(path: str) -> bool:
    return ELEMENT_ROUTES.fullmatch(path.rstrip("/") or "/") is not None


class EmbedCorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_element_route(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or not await _allowed(scope, origin):
            await self.app(scope, receive, send)
            return
        cors = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = Response(status_code=204)
            preflight.headers["access-control-allow-methods"] = ALLOW_METHODS
            preflight.headers["access-control-allow-headers"] = ALLOW_HEADERS
            preflight.headers["access-control-max-age"] = MAX_AGE
            preflight.raw_headers.extend(cors)
            await preflight(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*cors, (b"access-control-expose-headers", EXPOSE_HEADERS.encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _allowed(scope: Scope, origin: str) -> bool:
    units: UnitOfWorkFactory | None = getattr(scope["app"].state, "units", None)
    if units is None or len(origin) > 300:
        return False
    async with units.reader() as uow:
        return origin in await registry.allowed_origins(uow)
