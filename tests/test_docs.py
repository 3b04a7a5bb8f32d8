"""The README is a landing page and docs/ holds the manual: both stay in step with the code.

Every setting is in docs/configuration.md, every command of `python -m server` and every
`make` target the pages name exist, every relative link and image (and its `#anchor`)
resolves, and the README links every page while staying short.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from server.__main__ import build_parser
from server.core.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_the_readme_is_a_landing_page() -> None:
    lines = README.read_text("utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move details to docs/"
    for page in PAGES:
        assert f"](docs/{page.name})" in README.read_text("utf-8"), f"README links {page.name}"


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text("utf-8"), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s):, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.is_file(), f"{page.name} links {target}: no such file"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{page.name} links {target}: no such heading"


def test_every_setting_is_documented() -> None:
    table = (DOCS / "configuration.md").read_text("utf-8")
    for name in Settings.model_fields:
        named = re.search(rf"`{name.upper()}[`=]", table)  # `RUN_WORKER=false` counts
        assert named, f"docs/configuration.md lacks {name.upper()}"


def test_every_command_is_listed() -> None:
    operating = (DOCS / "operating.md").read_text("utf-8")
    listed = re.search(r"CLI: `python -m server ([^`]+)`", operating)
    assert listed, "docs/operating.md lists the commands after 'CLI:'"
    words = set(re.split(r"[\s|]+", listed.group(1)))
    subparsers = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    for command in subparsers.choices:
        assert command in words, f"docs/operating.md's CLI list lacks {command}"


def test_every_make_target_named_exists() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))
    for page in [README, *PAGES]:
        for target in re.findall(r"`make ([a-z][\w-]*)", page.read_text("utf-8")):
            assert target in targets, f"{page.name} names `make {target}`: no such target"
