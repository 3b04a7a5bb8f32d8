"""Opaque string IDs in the API over integer keys in the database."""

from typing import Annotated

from pydantic import BeforeValidator

# Integer primary keys are rendered as strings: clients must treat them as opaque.
ID = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


def parse_id(value: str) -> int | None:
    """The integer key behind an ID from a URL, or None when it cannot be one."""
    if not value.isdigit() or len(value) > 18:
        return None
    return int(value)


__all__ = ["ID", "parse_id"]
