"""The notification types, each declared once as a `Kind`: the one list.

What a type is lives here and nowhere else: how long and how urgently its pushes travel
(told to server.push.payload), whether the fallback email is on until the user says
otherwise (server.notifications.preferences.rules), how the quiet-hours digest words a
batch of them, and which names the API accepts (`KindName`, for the inbox filter and the
preferences' channels per type). A new type is one `declare(Kind(...))` (and its
catalogue strings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from server.core.languages import Language
from server.push.payload import PushType, declare_push_type

DigestWording = Callable[[Language, int], str]


@dataclass(frozen=True)
class Kind:
    name: str
    ttl_seconds: int  # RFC 8030 §5.2: how long a push service keeps trying
    urgency: str  # RFC 8030 §5.3 (a new order and its reminders are `high` whatever this says)
    # The type has a fallback email (on until the user says otherwise); a type without
    # one offers no email switch at all: a switch that does nothing is not shown.
    email: bool
    digest: DigestWording  # "{count} new orders while you were away", not yet formatted


KINDS: dict[str, Kind] = {}


def declare(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    declare_push_type(kind.name, PushType(ttl=kind.ttl_seconds, urgency=kind.urgency))
    return kind


# An order is worth ringing for a day later, and the only type whose email is on by
# default (the one kind a vendor must not miss); a system notice is stale within the hour.
ORDER = declare(
    Kind("order", 24 * 3600, "normal", email=True, digest=lambda lang, n: lang.ngettext(
        "{count} new order while you were away", "{count} new orders while you were away", n
    ))
)  # fmt: skip
PAYMENT = declare(
    Kind("payment", 24 * 3600, "normal", email=False, digest=lambda lang, n: lang.ngettext(
        "{count} payment while you were away", "{count} payments while you were away", n
    ))
)  # fmt: skip
MESSAGE = declare(
    Kind("message", 6 * 3600, "normal", email=False, digest=lambda lang, n: lang.ngettext(
        "{count} new message while you were away", "{count} new messages while you were away", n
    ))
)  # fmt: skip
SYSTEM = declare(
    Kind("system", 3600, "low", email=False, digest=lambda lang, n: lang.ngettext(
        "{count} notice while you were away", "{count} notices while you were away", n
    ))
)  # fmt: skip


class _Declared:
    """Checks a name against `KINDS` when a request is read, and lists them as an enum
    in the OpenAPI document, so a type declared later (a test, a new feature) is accepted
    and documented like the others."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_known, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"enum": list(KINDS), "type": "string"}


# A declared type's name in a request (the inbox filter, the preferences' types).
KindName = Annotated[str, _Declared()]


def _known(name: str) -> str:
    if name not in KINDS:
        names = [f"'{known}'" for known in KINDS]
        expected = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise PydanticCustomError(
            "literal_error", "Input should be {expected}", {"expected": expected}
        )
    return name
