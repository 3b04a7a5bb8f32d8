"""docs/API.md is the served OpenAPI document, rendered: regenerate it when a route changes
(`python -m server api-doc > docs/API.md`)."""

from __future__ import annotations

from pathlib import Path

from server.apidoc import render
from server.app import create_app
from tests.conftest import make_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def test_docs_api_md_matches_the_openapi_document(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, "sqlite+aiosqlite:///unused.db"))
    document = app.openapi()
    assert DOC.read_text() == render(document), "run: python -m server api-doc > docs/API.md"
    for path in document["paths"]:
        assert f" {path}` |" in DOC.read_text(), path
