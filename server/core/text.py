"""Free text from people (names, items, notes, messages): plain text, never a spoofing tool.

Names and notes are copied into notification titles, lock screens and emails, so a
control character (NUL, a terminal escape), a direction override (U+202E turns
"txt.exe" into "exe.txt"), a line separator that fakes a second line, hidden tag
characters or a string of invisible characters only must not get in.
Every script, emoji and ZWJ sequence is fine.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Unicode Cc (C0, DEL, C1), the bidi embedding/override/isolate controls (UAX #9) and
# lone surrogates (JSON "\ud800" decodes to one; no database can store it as UTF-8).
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
# Characters that fake a line or hide text, refused in lines and paragraphs alike:
# the line and paragraph separators U+2028/U+2029 (a lock screen breaks the line there:
# "Eve<U+2028>New order #999 from Trusted Bank"), the deprecated format controls
# U+206A-206F (they switch digit shapes and mirroring), the interlinear annotation
# marks U+FFF9-FFFB (text between them may be shown above the line, or not at all) and
# the tag characters U+E0000-E007F (invisible ASCII: "smuggled" text), except inside a
# flag of a subdivision (England, Scotland, Wales: U+1F3F4, 3-6 tag letters or digits
# naming it, CANCEL TAG; UTS #51).
_FAKE_LINES = "\u2028\u2029\u206a-\u206f\ufff9-\ufffb\U000e0000-\U000e007f"
_OTHER = f"{_BIDI}{_SURROGATES}{_FAKE_LINES}"
_REFUSED_LINE = re.compile(f"[{_CONTROLS}{_OTHER}]")
_REFUSED_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_OTHER}]")  # \t \n kept
_SUBDIVISION_FLAG = re.compile(
    "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{3,6}\U000e007f"
)
# Whitespace and the Default_Ignorable_Code_Point characters, plus the blank-looking
# Hangul fillers and the Braille blank: a text made only of these shows as nothing.
_VISIBLE = re.compile(
    "[^\\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _refuse(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _plain(value: str, refused: re.Pattern[str]) -> str:
    if refused.search(_SUBDIVISION_FLAG.sub("", value)):
        raise _refuse(
            "text_control_character",
            "must not contain control characters, line or paragraph separators, "
            "text-direction overrides or invisible tag characters",
        )
    value = value.strip()
    if not _VISIBLE.search(value):
        raise _refuse("text_blank", "must not be blank")
    return value


def check_line(value: str) -> str:
    """One line: no control or direction-override character, something visible."""
    return _plain(value, _REFUSED_LINE)


def check_text(value: str) -> str:
    """Paragraphs: as a line, but tabs and line breaks (CRLF becomes LF) are fine."""
    return _plain(value.replace("\r\n", "\n"), _REFUSED_TEXT)


def check_optional_text(value: str) -> str:
    """As check_text, but an empty or blank value means "none given" and becomes ""."""
    if not _VISIBLE.search(value) and not _REFUSED_TEXT.search(_SUBDIVISION_FLAG.sub("", value)):
        return ""
    return check_text(value)


Name = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(check_line)]
Line64 = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_line)]
Line200 = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_line)]
Text1000 = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(check_text)]
Text2000 = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(check_text)]
# An optional note or reason: may be empty, else plain text.
Note1000 = Annotated[str, Field(max_length=1000), AfterValidator(check_optional_text)]
