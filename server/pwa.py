"""Serves the PWA: its static files, and index.html for client-side routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from server.core.errors import NotFound

RESERVED = ("/api/", "/ws/", "/docs", "/redoc", "/openapi.json", "/metrics")
CONTENT_TYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript"}
# Revalidated on every load (a 304 when unchanged): after a deploy the service worker,
# the shell and the ES modules must never mix versions from the browser's cache.
NO_CACHE = (".js", ".css", ".html", ".webmanifest")
# Files in pwa/ that are tooling, not the app.
NOT_SERVED = (".py",)


def _file_response(path: Path) -> FileResponse:
    response = FileResponse(path, media_type=CONTENT_TYPES.get(path.suffix))
    if path.name.endswith(NO_CACHE):
        response.headers["cache-control"] = "no-cache"
    return response


def is_reserved(path: str) -> bool:
    return path.startswith(RESERVED) or path in ("/api", "/ws")


class PwaRoute(APIRoute):
    """The catch-all never matches the API's paths: there the router itself answers,
    405 (with `Allow`) for a known path asked with another method, else 404."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if is_reserved(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def mount_pwa(app: FastAPI, pwa_dir: Path) -> None:
    """Register the catch-all route; call after every API router is included."""
    root = pwa_dir.resolve()

    async def pwa(path: str, request: Request) -> Response:
        if is_reserved(request.url.path):
            raise NotFound("Not found.")
        candidate = (root / path).resolve()
        if candidate.suffix in NOT_SERVED:
            raise NotFound("Not found.")
        if path and candidate.is_relative_to(root) and candidate.is_file():
            return _file_response(candidate)
        # Extension-less paths are client-side routes (/orders/42, /checkout).
        if "." in path.rsplit("/", 1)[-1] or not (root / "index.html").is_file():
            raise NotFound("Not found.")
        return _file_response(root / "index.html")

    app.router.add_api_route(
        "/{path:path}",
        pwa,
        methods=["GET", "HEAD"],
        include_in_schema=False,
        route_class_override=PwaRoute,
    )
