"""A notification's answer on the wire, in two parts: what never changes, rendered once.

`render_wire` renders the immutable part (type … created_at) when the row is written;
`item_json` joins it with the id and the parts that change (seen, read, push outcome)
when a page is served. Both go through `NotificationOut`'s own serializer or mirror it
exactly, so a page built here is byte for byte what pydantic would have answered
(tests/notifications/test_inbox_wire.py compares the two).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from server.notifications.schemas import NotificationOut, PushOutcome

# The fields of NotificationOut between `id` and the mutable tail, in its order.
WIRE_FIELDS = ("type", "event", "title", "body", "url", "data", "lang", "created_at")
MUTABLE_FIELDS = ("seen_at", "read_at", "push")
_INCLUDE = set(WIRE_FIELDS)


def render_wire(
    *,
    type: str,
    event: str,
    title: str,
    body: str,
    url: str,
    data: dict[str, Any],
    lang: str,
    created_at: datetime,
) -> str:
    """The immutable fields as the JSON object NotificationOut renders them.

    `data` goes through JSON first, as the database stores and returns it (a tuple
    comes back a list), and `created_at` in UTC, as UTCDateTime returns it."""
    out = NotificationOut.model_construct(
        id="",
        type=type,
        event=event,
        title=title,
        body=body,
        url=url,
        data=json.loads(json.dumps(data)),
        lang=lang,
        created_at=created_at.astimezone(UTC),
        seen_at=None,
        read_at=None,
        push=PushOutcome(),
    )
    return out.model_dump_json(include=_INCLUDE)


def wire_of(row: Any) -> str:
    """`render_wire` of a row (or ORM object) that carries the fields: the read path's
    fallback for rows written before the column existed."""
    return render_wire(**{field: getattr(row, field) for field in WIRE_FIELDS})


def stamp(value: datetime | None) -> str:
    """A UTC datetime as pydantic writes it (`…T…[.ffffff]Z`), or null."""
    if value is None:
        return "null"
    return '"' + value.astimezone(UTC).replace(tzinfo=None).isoformat() + 'Z"'


def item_json(
    notification_id: int,
    wire: str,
    seen_at: datetime | None,
    read_at: datetime | None,
    push: tuple[int, int, int, int],
) -> str:
    """One item of a page: the stored object opened up, the id before, the rest after.
    `push` is (queued, delivered, failed, expired), PushOutcome's order."""
    queued, delivered, failed, expired = push
    return (
        f'{{"id":"{notification_id}",{wire[1:-1]},'
        f'"seen_at":{stamp(seen_at)},"read_at":{stamp(read_at)},'
        f'"push":{{"queued":{queued},"delivered":{delivered},'
        f'"failed":{failed},"expired":{expired}}}}}'
    )


def page_json(items: list[str], next_cursor: str | None) -> str:
    """NotificationPage's JSON (a cursor is base64url: nothing in it needs escaping)."""
    cursor = "null" if next_cursor is None else f'"{next_cursor}"'
    return f'{{"items":[{",".join(items)}],"next_cursor":{cursor}}}'
