"""The catalogues are complete and safe to format, and each language writes money, counts
and durations as CLDR says (through Babel)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server.core.languages import LANGUAGES, LOCALE_DIR, language, negotiate

SERVER = Path(__file__).resolve().parent.parent / "server"
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def catalogue(code: str) -> Catalog:
    with (LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=code)


def in_code() -> set[str]:
    """Every msgid the server asks for (singular ids of plural messages)."""
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(SERVER), [("**.py", "python")]):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_we_speak_english_german_and_french() -> None:
    assert set(LANGUAGES) >= {"en", "de", "fr"}


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_of_the_code_has_a_translation(code: str) -> None:
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id): m
        for m in catalogue(code)
        if m.id and not m.fuzzy
    }
    asked = in_code()
    assert len(asked) > 50
    assert sorted(asked - set(translated)) == []
    empty = [key for key, m in translated.items() if not all(m.string) or not m.string]
    assert empty == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_and_every_plural_form(code: str) -> None:
    cat = catalogue(code)
    assert not cat.fuzzy  # a fuzzy header drops its Plural-Forms from the compiled catalogue
    for message in cat:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(forms) == cat.num_plurals, message.id
        for form in forms:
            assert placeholders(form) == placeholders(ids[-1]), (message.id, form)


def test_the_template_lists_what_the_code_asks_for() -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        template = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in read_po(pot) if m.id}
    assert template == in_code()


@pytest.mark.parametrize(
    ("code", "one", "two", "million"),
    [
        ("en", "1 item", "2 items", "1,000,000 items"),
        ("de", "1 Artikel", "2 Artikel", "1.000.000 Artikel"),
        ("fr", "1 article", "2 articles", "1\u202f000\u202f000 d\u2019articles"),
    ],
)
def test_counts_take_each_language_s_plural_forms(
    code: str, one: str, two: str, million: str
) -> None:
    lang = language(code)
    forms = [lang.ngettext("{count} item", "{count} items", n) for n in (1, 2, 1_000_000)]
    assert [
        f.format(count=lang.number(n)) for f, n in zip(forms, (1, 2, 1_000_000), strict=True)
    ] == [
        one,
        two,
        million,
    ]


@pytest.mark.parametrize(
    ("code", "eur", "jpy", "chf"),
    [
        ("en", "€7.00", "¥500", "CHF1,234.50"),
        ("de", "7,00\u00a0€", "500\u00a0¥", "1.234,50\u00a0CHF"),
        ("fr", "7,00\u00a0€", "500\u00a0JPY", "1\u202f234,50\u00a0CHF"),
    ],
)
def test_money_is_minor_units_written_as_cldr_says(code: str, eur: str, jpy: str, chf: str) -> None:
    lang = language(code)
    assert (lang.money(700, "EUR"), lang.money(500, "JPY"), lang.money(123450, "CHF")) == (
        eur,
        jpy,
        chf,
    )


@pytest.mark.parametrize(
    ("code", "seconds", "minutes", "hours"),
    [
        ("en", "45 sec", "4 min", "3 hr, 29 min"),
        ("de", "45 Sek.", "4 Min.", "3 Std., 29 Min."),
        ("fr", "45\u202fs", "4\u00a0min", "3\u202fh et 29\u00a0min"),
    ],
)
def test_durations_are_short_units(code: str, seconds: str, minutes: str, hours: str) -> None:
    lang = language(code)
    assert [lang.duration(s) for s in (45, 4 * 60 + 59, 3 * 3600 + 29 * 60)] == [
        seconds,
        minutes,
        hours,
    ]


def test_an_unknown_code_reads_english() -> None:
    assert language("xx").code == language(None).code == "en"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-GB;q=0.7, fr-BE", "fr"),
        ("FR", "fr"),
        ("*;q=1, de;q=0.1", "de"),
        ("de;q=1.0001, fr;q=-1", "en"),
        ("," * 10_000 + "de", "en"),  # only the first tags of an absurd header are read
    ],
)
def test_negotiate_reads_quality_values(header: str, chosen: str) -> None:
    assert negotiate(header) == chosen
