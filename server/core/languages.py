"""The languages people read: gettext catalogues, and money, counts and durations as
each language writes them (Babel, from CLDR).

Translators edit server/locale/<lang>/LC_MESSAGES/messages.po and nothing else: the
catalogues are compiled in memory with Babel when this module is imported, so no
binary .mo file is kept in git, and a language whose .po file is there is offered
after a restart. English is the source language (the msgids), so it has no file.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from babel.core import negotiate_locale
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import Translations
from babel.units import format_unit

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"  # server/locale
DEFAULT = "en"
# An Accept-Language header is read this far at most (a client's list is a few tags).
_MAX_TAGS = 32


def _compile(po_file: Path) -> Translations:
    """A .po file as gettext reads it: compiled to .mo in memory (fuzzy and empty
    translations left out, so they fall back to English)."""
    with po_file.open("rb") as source:
        catalogue = read_po(source, locale=po_file.parent.parent.name)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


@dataclass(frozen=True)
class Language:
    """One language's words and formats; texts ask it rather than writing English."""

    code: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for `n` (German two, French three: CLDR's `many` for millions)."""
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def number(self, value: int) -> str:
        """1,234 · 1.234 · 1 234."""
        return format_decimal(value, locale=self.code)

    def decimal(self, cents: int) -> str:
        """Hundredths as a plain number, for an amount without its currency: 12.50 · 12,50."""
        return format_decimal(Decimal(cents).scaleb(-2), format="#,##0.00", locale=self.code)

    def money(self, cents: int, currency: str) -> str:
        """Minor units as CLDR writes the amount: €7.00 · 7,00 € · 7,00 €; ¥500."""
        amount = Decimal(cents).scaleb(-get_currency_precision(currency))
        return format_currency(amount, currency, locale=self.code)

    def duration(self, seconds: float) -> str:
        """How long something waited, short: 45 sec, 4 min, 1 hr, 5 min · 1 Std., 5 Min."""
        seconds = max(0, int(seconds))
        if seconds < 60:
            return self._unit(seconds, "duration-second")
        hours, minutes = divmod(seconds // 60, 60)
        if not hours:
            return self._unit(minutes, "duration-minute")
        parts = [self._unit(hours, "duration-hour")]
        if minutes:
            parts.append(self._unit(minutes, "duration-minute"))
        return format_list(parts, style="unit-short", locale=self.code)

    def _unit(self, value: int, unit: str) -> str:
        return format_unit(value, unit, length="short", locale=self.code)


_LANGUAGES: dict[str, Language] = {
    DEFAULT: Language(DEFAULT, gettext.NullTranslations()),
    **{
        po.parent.parent.name: Language(po.parent.parent.name, _compile(po))
        for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"))
    },
}
LANGUAGES: tuple[str, ...] = tuple(sorted(_LANGUAGES))


def language(code: str | None) -> Language:
    """The language of `code`; English for one we do not have (a row written by an
    older version, a catalogue removed since)."""
    return _LANGUAGES.get(code or DEFAULT) or _LANGUAGES[DEFAULT]


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (RFC 9110 §12.5.4), by
    quality value, then order; `de-CH` is served `de`. English when none fits."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")[:_MAX_TAGS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0  # a malformed weight: not a preference we can rank
        if tag.strip() and tag.strip() != "*" and 0 < quality <= 1:
            weighted.append((-quality, position, tag.strip()))
    preferred = [tag for _, _, tag in sorted(weighted)]
    chosen = (negotiate_locale(preferred, LANGUAGES, sep="-", aliases={}) or DEFAULT).lower()
    return chosen if chosen in LANGUAGES else DEFAULT
