"""The app serves the PWA: files with the right types and caching, routes to the shell."""

from __future__ import annotations

import httpx


async def test_shell_modules_and_manifest_are_served_for_revalidation(
    client: httpx.AsyncClient,
) -> None:
    for path, kind in (
        ("/", "text/html"),
        ("/orders/42", "text/html"),  # a client-side route gets the shell
        ("/sw.js", "text/javascript"),
        ("/app.js", "text/javascript"),
        ("/styles.css", "text/css"),
        ("/manifest.webmanifest", "application/manifest+json"),
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(kind), path
        assert response.headers["cache-control"] == "no-cache", path
    icon = await client.get("/icons/icon-192.png")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"


async def test_tooling_and_missing_files_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/icons/make_icons.py", "/nope.js", "/api/nope"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"]


async def test_paths_escaping_the_pwa_folder_never_reach_other_files(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/..%2f..%2fetc/passwd", "/%2e%2e/pyproject.toml", "/icons/..%2f..%2fREADME.md"):
        response = await client.get(path)
        assert "root:" not in response.text and "[project]" not in response.text, path
        assert "vendorbell" not in response.text or "<html" in response.text.lower(), path
