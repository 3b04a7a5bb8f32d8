"""Opaque string IDs in the API over integer keys in the database."""

from typing import Annotated

from pydantic import BeforeValidator

# Integer primary keys are rendered as strings: clients must treat them as opaque.
ID = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


def is_ascii_digits(value: str) -> bool:
    """Only 0-9: str.isdigit() also takes '²' (which int() refuses) and '٣' (read as 3)."""
    return value.isascii() and value.isdigit()


def parse_id(value: str) -> int | None:
    """The integer key behind an ID from a URL, or None when it cannot be one."""
    if not is_ascii_digits(value) or len(value) > 18:
        return None
    return int(value)


__all__ = ["ID", "is_ascii_digits", "parse_id"]
