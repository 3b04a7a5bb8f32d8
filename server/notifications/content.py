"""What a notification says and where it leads: the keywords `notify` and `notify_many`
(server.notifications.service, .fanout) both take."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Content(TypedDict):
    type: str
    event: str
    title: str  # cut at 200 characters when written
    body: str
    url: str
    data: NotRequired[dict[str, Any] | None]
    lang: NotRequired[str]  # the language title and body are in; English when left out
