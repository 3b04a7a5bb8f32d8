"""Links in notifications (`url`): a path of this app, never a way off-site.

A notification's url opens in the PWA and, made absolute with PUBLIC_URL, on a lock
screen. Browsers parse it by the WHATWG URL Standard, which drops tabs and newlines
and reads "\\" as "/": "/\\t/evil.example/x" opens http://evil.example/x. So it is
parsed the same way (ada, a WHATWG-conformant parser) and kept only when it stays on
our origin, in its normalised form.
"""

from __future__ import annotations

import re
from typing import Annotated

from ada_url import URL
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Any base works: only whether the link leaves it matters. .invalid never resolves.
_BASE = "https://vendorbell.invalid"
_BASE_ORIGIN = URL(_BASE).origin
_REFUSED = re.compile(r"[\x00-\x20\x7f-\x9f\\]")  # controls, spaces, backslashes


def same_origin_path(value: str) -> str:
    """`value` as a normalised path (with query and fragment) of this app, or an error."""
    if _REFUSED.search(value):
        raise PydanticCustomError(
            "link_characters", "must not contain spaces, control characters or backslashes"
        )
    if not value.startswith("/") or value.startswith("//"):
        raise PydanticCustomError("link_not_a_path", "must be a path of this app, like /orders")
    try:
        url = URL(value, _BASE)
    except ValueError as exc:
        raise PydanticCustomError("link_invalid", "is not a valid link") from exc
    path = f"{url.pathname}{url.search}{url.hash}"
    if url.origin != _BASE_ORIGIN or path.startswith("//"):
        raise PydanticCustomError("link_not_a_path", "must be a path of this app, like /orders")
    return path


AppPath = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(same_origin_path)]
