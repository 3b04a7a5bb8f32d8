"""The PWA's catalogues (pwa/i18n/*.json): every language has exactly English's keys, each
text keeps its placeholders, and the code asks only for keys that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

PWA = Path(__file__).resolve().parents[1] / "pwa"
LANGUAGES = ["de", "fr"]
PLURAL = re.compile(r"\.(zero|one|two|few|many|other)$")


def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((PWA / "i18n" / f"{lang}.json").read_text("utf-8"))
    return data


def placeholders(texts: dict[str, str]) -> dict[str, set[str]]:
    """`{name}`s per message; a plural's forms together (a "one" form may say "a minute")."""
    found: dict[str, set[str]] = {}
    for key, text in texts.items():
        found.setdefault(PLURAL.sub("", key), set()).update(re.findall(r"\{(\w+)\}", text))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_catalogue_has_exactly_the_english_keys(lang: str) -> None:
    english, other = catalogue("en"), catalogue(lang)
    assert sorted(set(english) - set(other)) == [], "missing"
    assert sorted(set(other) - set(english)) == [], "not in English"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_translation_keeps_the_placeholders(lang: str) -> None:
    english, other = placeholders(catalogue("en")), placeholders(catalogue(lang))
    assert {k: v for k, v in other.items() if v != english[k]} == {}


@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
def test_every_text_is_a_non_empty_string(lang: str) -> None:
    texts = catalogue(lang)
    empty = [key for key, text in texts.items() if not isinstance(text, str) or not text.strip()]
    assert empty == []


def test_every_key_the_code_asks_for_is_in_the_catalogue() -> None:
    keys = {PLURAL.sub("", key) for key in catalogue("en")}
    sources = [*PWA.glob("*.js"), *PWA.glob("views/*.js"), PWA / "index.html"]
    asked = set()
    for source in sources:
        text = source.read_text("utf-8")
        asked.update(re.findall(r"\bt\('([a-z_.]+)'", text))
        asked.update(re.findall(r"data-i18n(?:-content)?=\"([a-z_.]+)\"", text))
    asked.update(re.findall(r"text\(lang, '([a-z_.]+)'\)", (PWA / "sw.js").read_text("utf-8")))
    assert sorted(asked - keys) == []
