"""The embed assets: `<vendor-bell>` and the worker snippet, public and within budget."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
EMBED = ROOT / "pwa" / "embed"
ELEMENT = EMBED / "vendor-bell.js"
BUDGET = 14 * 1024  # gzipped, CSS and English strings included


def english_built_in() -> dict[str, str]:
    """The EN table inside the element, read as JSON (its keys and texts are JSON strings)."""
    match = re.search(r"const EN = \{(.*?)\n\};", ELEMENT.read_text("utf-8"), re.S)
    assert match is not None
    body = "{" + match.group(1).replace("'", '"').rstrip().rstrip(",") + "}"
    table: dict[str, str] = json.loads(body)
    return table


def test_the_element_with_its_css_and_english_fits_the_gzip_budget() -> None:
    size = len(gzip.compress(ELEMENT.read_bytes(), compresslevel=9))
    assert size <= BUDGET, f"{size} bytes gzipped"


def test_the_elements_english_is_the_pwa_catalogues_english() -> None:
    catalogue = json.loads((ROOT / "pwa" / "i18n" / "en.json").read_text("utf-8"))
    assert english_built_in() == {key: catalogue[key] for key in english_built_in()}


@pytest.mark.parametrize("name", ["vendor-bell.js", "sw.js"])
async def test_an_embed_asset_is_public_cacheable_and_loadable_from_any_site(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.get(f"/embed/v1/{name}", headers={"Origin": "https://shop.example"})
    assert response.status_code == 200
    assert response.content == (EMBED / name).read_bytes()
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "max-age=" in response.headers["cache-control"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("lang", ["de", "fr"])
async def test_the_elements_catalogue_has_every_built_in_key_in_that_language(
    client: httpx.AsyncClient, lang: str
) -> None:
    response = await client.get(f"/embed/v1/i18n/{lang}.json")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    strings = response.json()
    assert set(english_built_in()) <= set(strings)
    assert strings["bell.mark_all_read"] != english_built_in()["bell.mark_all_read"]
    assert not any(key.startswith(("order.", "auth.")) for key in strings)


@pytest.mark.parametrize("path", ["/embed/v1/app.js", "/embed/v1/i18n/xx.json", "/embed/v2/sw.js"])
async def test_nothing_else_is_served_as_an_embed_asset(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("name", ["vendor-bell.js", "sw.js"])
def test_the_published_sri_hash_is_the_files(name: str) -> None:
    page = (ROOT / "docs" / "embedding-element.md").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha384((EMBED / name).read_bytes()).digest()).decode()
    published = re.findall(rf"`/embed/v1/{re.escape(name)}` \| `(sha384-[^`]+)`", page)
    assert published == [f"sha384-{digest}"], "update the hashes in docs/embedding-element.md"


def test_every_hash_on_the_page_is_a_current_one() -> None:
    page = (ROOT / "docs" / "embedding-element.md").read_text("utf-8")
    current = {
        "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
        for path in (ELEMENT, EMBED / "sw.js")
    }
    assert set(re.findall(r"sha384-[A-Za-z0-9+/=]+", page)) <= current
