"""Serves the PWA: its static files, and index.html for client-side routes; and the
embed assets a marketplace loads from its own pages (`/embed/v1/*`)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from server.core.errors import NotFound

EMBED_VERSION = "v1"
# Public: any marketplace page (and its service worker's importScripts) loads them.
# Cached for an hour, then revalidated: a fix within v1 reaches every page the same day,
# and the published SRI hashes change only with the files.
EMBED_HEADERS = {
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
    "cache-control": "public, max-age=3600",
}
EMBED_FILES = ("vendor-bell.js", "sw.js")
# The catalogue keys the element and its worker use, served per language as one small
# JSON (`/embed/v1/i18n/de.json`): the PWA's catalogues stay the one place to translate.
EMBED_KEY_PREFIXES = ("bell.", "embed.", "inbox.unread", "time.just_now", "common.loading")

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


def embed_catalogue(pwa_dir: Path, lang: str) -> dict[str, str]:
    """The element's words in `lang` (the PWA catalogue's embed keys), or NotFound."""
    if lang not in ("en", "de", "fr"):
        raise NotFound("Not found.")
    strings: dict[str, str] = json.loads((pwa_dir / "i18n" / f"{lang}.json").read_text("utf-8"))
    return {key: text for key, text in strings.items() if key.startswith(EMBED_KEY_PREFIXES)}


def mount_embed(app: FastAPI, pwa_dir: Path) -> None:
    """`/embed/v1/vendor-bell.js`, `/embed/v1/sw.js` and the element's catalogues."""
    root = pwa_dir.resolve()

    async def embed_file(name: str) -> Response:
        if name not in EMBED_FILES:
            raise NotFound("Not found.")
        response = FileResponse(root / "embed" / name, media_type="text/javascript")
        response.headers.update(EMBED_HEADERS)
        return response

    async def embed_strings(lang: str) -> Response:
        body = json.dumps(embed_catalogue(root, lang), ensure_ascii=False)
        return Response(body, media_type="application/json", headers=EMBED_HEADERS)

    prefix = f"/embed/{EMBED_VERSION}"
    app.router.add_api_route(
        f"{prefix}/i18n/{{lang}}.json",
        embed_strings,
        methods=["GET", "HEAD"],
        include_in_schema=False,
    )
    app.router.add_api_route(
        f"{prefix}/{{name}}", embed_file, methods=["GET", "HEAD"], include_in_schema=False
    )


def mount_pwa(app: FastAPI, pwa_dir: Path) -> None:
    """Register the catch-all route; call after every API router is included."""
    mount_embed(app, pwa_dir)
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
