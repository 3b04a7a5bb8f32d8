"""/docs and /redoc run from this server's own files: offline, under a CSP that allows
no inline and no foreign script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in found.items() if k in ("src", "href", "spec-url") and v]
        self._in_script = tag == "script" and "src" not in found

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def _directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_reference_only_this_servers_files(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    links = _Links()
    links.feed(response.text)
    assert links.urls and links.inline_scripts == 0
    for url in links.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        expected = {"js": "text/javascript", "css": "text/css", "png": "image/png"}
        if url != "/openapi.json":
            kind = expected[url.rsplit(".", 1)[-1]]
            assert asset.headers["content-type"].startswith(kind), url


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_csp_allows_only_same_origin_scripts(
    client: httpx.AsyncClient, path: str
) -> None:
    csp = (await client.get(path)).headers["content-security-policy"]
    assert not re.search(r"https:|http:|\*", csp), csp
    assert _directive(csp, "script-src") == ["'self'"]
    assert "'unsafe-inline'" not in _directive(csp, "style-src") or path == "/redoc"


async def test_only_the_shipped_docs_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("../../core/config.py", "core.py", "%2e%2e%2fcore.py", "index.html"):
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.json()["code"] == "not_found"
