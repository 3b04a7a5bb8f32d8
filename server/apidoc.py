"""docs/API.md, written from the served OpenAPI document so the two cannot drift apart.

`python -m server api-doc > docs/API.md` regenerates it; a test compares the file with
what this module makes of the app's /openapi.json.
"""

from __future__ import annotations

from typing import Any

HEADER = """# vendorbell HTTP reference

Generated from `/openapi.json` by `python -m server api-doc` (a test keeps this file
equal to it); the live document, with every schema, is at `/openapi.json` and `/docs`.

Sign in with `Authorization: Bearer <token>` (REST clients) or the session cookie set
by `POST /api/auth/register` and `POST /api/auth/login` (the PWA, its service worker,
the WebSocket). Every error is
`{"detail": "...", "code": "..."}` (`ErrorOut`); a refused body adds
`errors: [{loc, msg, type}]` (`ValidationErrorOut`). IDs are strings of ASCII digits;
times are ISO 8601 UTC; money is integer cents with a `currency`.

Live channel (not in OpenAPI): `WS /ws/notifications` (session cookie or `?token=`;
`?since=<last notification id>` replays what was missed). Server messages:
`{"type": "notification", "notification": {...}, "unread", "unseen"}`,
`{"type": "counts", "unread", "unseen"}` and `{"type": "ping"}` (answer with any
message). Close codes: 4400 bad `since`, 4401 not signed in or signed out, 4403 a
cookie from another site, 4429 too many sockets for the account, 1001 server going
away, 1011 no answer to pings (or a server fault), 1012 resync needed, 1013 client too
slow or the database unavailable (both: reconnect a few seconds later).
"""


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "items" in schema:
        return f"[{_schema_name(schema['items'])}]"
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    return str(schema.get("type", "object"))


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        return _schema_name(media.get("schema", {}))
    return ""


def _answers(operation: dict[str, Any]) -> str:
    parts = []
    for status, answer in sorted(operation.get("responses", {}).items()):
        content: dict[str, Any] = answer.get("content", {})
        media: dict[str, Any] = next(iter(content.values()), {})
        schema = media.get("schema")
        parts.append(f"{status} {_schema_name(schema)}" if schema else status)
    return ", ".join(parts)


def _parameters(operation: dict[str, Any]) -> str:
    return ", ".join(
        f"`{p['name']}`" for p in operation.get("parameters", []) if p.get("in") == "query"
    )


def render(document: dict[str, Any]) -> str:
    """The reference as Markdown: one table per tag, then the schemas' fields."""
    by_tag: dict[str, list[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            tag = (operation.get("tags") or ["other"])[0]
            signed_in = "yes" if operation.get("security") else ""
            summary = operation.get("summary", "")
            row = (
                f"| `{method.upper()} {path}` | {summary} | {signed_in} | {_parameters(operation)}"
                f" | {_body(operation)} | {_answers(operation)} |"
            )
            by_tag.setdefault(tag, []).append(row)
    lines = [HEADER]
    for tag in sorted(by_tag):
        lines += [
            f"## {tag}",
            "",
            "| operation | summary | signed in | query | body | answers |",
            "|---|---|---|---|---|---|",
            *by_tag[tag],
            "",
        ]
    lines += ["## Schemas", ""]
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            f"`{field}`{'' if field in required else '?'}: {_schema_name(spec)}"
            for field, spec in schema.get("properties", {}).items()
        ]
        lines.append(f"- **{name}**: {', '.join(fields) if fields else _schema_name(schema)}")
    return "\n".join(lines).rstrip() + "\n"
