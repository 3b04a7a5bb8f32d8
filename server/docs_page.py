"""/docs (Swagger UI) and /redoc, served with their assets from this server.

FastAPI's own pages load Swagger UI and ReDoc from a CDN with an inline bootstrap
script, so they needed a CSP allowing inline and any https script, and were blank on
a machine without internet. The `fastapi-offline` package ships the files of both
(swagger-ui-dist and redoc's standalone bundle); they are served under /docs/assets/,
and the bootstrap is a file too, so the pages run under `script-src 'self'`.
"""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from server.core.errors import NotFound

ASSETS = "/docs/assets"
_SHIPPED = Path(str(files("fastapi_offline") / "static"))
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# What FastAPI's page runs inline, as a file; the page names the document's URL.
_SWAGGER_INIT = """\
const script = document.currentScript;
window.ui = SwaggerUIBundle({
  url: script.dataset.openapi,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def _page(title: str, assets: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="{assets}/favicon.png">{head}</head>'
        f"<body>{body}</body></html>",
        headers={"cache-control": "no-cache"},
    )


def install_api_docs(app: FastAPI) -> None:
    """GET /docs, /redoc and /docs/assets/{name}; the app must be made with
    `docs_url=None, redoc_url=None` so FastAPI does not add its CDN pages."""

    def page(request: Request, head: str, body: str) -> HTMLResponse:
        """An API page under the request's root path: `{assets}` and `{openapi}` in `head`
        and `body` stand for the (escaped) URLs of the assets and of the document."""
        root = escape(request.scope.get("root_path", "").rstrip("/"))
        urls = {"assets": f"{root}{ASSETS}", "openapi": escape(f"{root}{app.openapi_url}")}
        title = f"{app.title} - API"
        return _page(title, urls["assets"], head.format(**urls), body.format(**urls))

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(
            request,
            '<link rel="stylesheet" href="{assets}/swagger-ui.css">',
            '<div id="swagger-ui"></div><script src="{assets}/swagger-ui-bundle.js"></script>'
            '<script src="{assets}/swagger-init.js" data-openapi="{openapi}"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(
            request,
            "",
            '<redoc spec-url="{openapi}"></redoc>'
            '<script src="{assets}/redoc.standalone.js"></script>',
        )

    @app.get(f"{ASSETS}/{{name}}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name == "swagger-init.js":
            return Response(
                _SWAGGER_INIT,
                media_type="text/javascript",
                headers={"cache-control": "no-cache"},
            )
        if name not in _FILES:
            raise NotFound("No such file.", code="not_found")
        response = FileResponse(_SHIPPED / name, media_type=_FILES[name])
        response.headers["cache-control"] = "no-cache"  # revalidated: a 304 when unchanged
        return response
