"""Log lines are JSON and never carry a secret."""

from __future__ import annotations

import json
import logging

from server.core.logs import JSONFormatter


def _line(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord(
        {"name": "uvicorn.access", "msg": message, "args": args, "levelno": 20, **extra}
    )
    result: dict[str, object] = json.loads(JSONFormatter().format(record))
    return result


def test_websocket_token_in_the_access_line_is_redacted() -> None:
    line = _line(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/ws/notifications?token=s3cr3t&since=4"
    )
    assert "s3cr3t" not in json.dumps(line)
    assert (
        line["event"]
        == '127.0.0.1:5 - "WebSocket /ws/notifications?token=[redacted]&since=4" [accepted]'
    )


def test_secret_extras_are_redacted_and_colour_duplicates_dropped() -> None:
    line = _line("login", password="hunter2", token="abc", color_message="\x1b[1mlogin")
    assert line["password"] == "[redacted]" and line["token"] == "[redacted]"
    assert "color_message" not in line
