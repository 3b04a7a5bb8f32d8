"""ASGI middleware: body size limit, security headers, trailing-slash tolerance."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from fastapi import Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
# /redoc (server.docs_page): ReDoc writes its styles into <style> elements and searches
# in a worker made from a blob: URL. Scripts are this server's files only, as everywhere.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)


class TrailingSlashMiddleware:
    """`/api/notifications/` is served as `/api/notifications` (older clients send it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/") and path.startswith(("/api/", "/ws/")):
                scope = {**scope, "path": path.rstrip("/"), "raw_path": None}
        await self.app(scope, receive, send)


class HttpMiddleware(ABC):
    """Pure ASGI middleware for HTTP requests only: a WebSocket or the lifespan passes
    through untouched; a subclass handles each request in `http`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    @abstractmethod
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (call `self.app` to pass it on)."""


class SecurityHeadersMiddleware(HttpMiddleware):
    """CSP without inline scripts, no sniffing, no framing, no referrer leaks."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        csp = DOCS_CSP if scope["path"] == "/redoc" else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware(HttpMiddleware):
    """413 for request bodies over `max_bytes`, whether declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(send)
            return
        received = 0
        too_large = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may turn our exception into its own 400: answer 413 instead.
            nonlocal rejected
            if too_large:
                if not rejected:
                    rejected = True
                    await self._reject(send)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except BodyTooLarge:
            if not rejected:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": f"The request body is larger than {self.max_bytes} bytes.",
                "code": "body_too_large",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside receive() to abandon a request whose body outgrew the limit."""


def created_or_known(model: type[BaseModel], known: str) -> dict[str, Any]:
    """The route arguments of a POST or PUT that answers 201 when it created something
    and 200 when it was there already (`known`: what that 200 says); the handler then
    calls `answered(response, created)`."""
    return {
        "response_model": model,
        "status_code": 201,
        "responses": {200: {"model": model, "description": known}},
    }


def answered(response: Response, created: bool) -> None:
    """200 instead of the route's 201 when nothing new was created (`created_or_known`)."""
    if not created:
        response.status_code = 200
