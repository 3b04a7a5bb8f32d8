"""The error answers of every operation in the OpenAPI document, decided in one place.

Routes declare only their successful answers. The errors they can give follow from
what they depend on, so they are derived here rather than repeated in each route:

- 401 and 403: the route needs a signed-in caller (`CurrentUser` and the role checks in
  server.accounts.deps). 403 is for a caller of the wrong role, a cookie-signed write from
  another origin, or an embedded session used from another origin than its page's
  (`origin_mismatch`, any method).
- 404: the path names something (`/api/orders/{order_id}`) that may not exist, or
  not be the caller's.
- 413: a method that carries a body; the body-size limit (server.core.http) comes first.
- 422 (`ValidationErrorOut`, replacing FastAPI's `HTTPValidationError`): the route
  takes a body or parameters.
- 503 (`unavailable` or `shutting_down`, with Retry-After): every operation; the
  database, Redis or the disk failing is answered so, whatever the route
  (server.core.outages), and so is a request reaching a process that is shutting down
  (server.ops.drain).
- Answers that only a service knows of (a 409 for a conflicting change, the 429s of the
  sign-up and sign-in limiters, a signed event's 401) are listed in SERVICE_ANSWERS.

tests/api/test_openapi_errors.py checks these against what the app really answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from server.accounts.deps import (
    SESSION_COOKIE,
    dependency_calls,
    get_current_user,
)
from server.core.errors import ErrorOut, ValidationErrorOut
from server.integrations import signature
from server.integrations.schemas import BulkVendorsIn, VendorIn
from server.integrations.schemas import EventIn as IntegrationEventIn

REF = "#/components/schemas/{model}"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# (method, path) -> error statuses a service raises beyond what the route's shape implies.
SERVICE_ANSWERS: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/auth/register"): (409, 429),  # email_taken, register_rate_limited
    ("POST", "/api/auth/login"): (401, 429),  # invalid_credentials, login_rate_limited
    ("POST", "/api/me/password"): (429,),  # password_rate_limited
    # HMAC-signed, the body read raw: missing/invalid signature, reused event id, bad event.
    ("POST", "/api/events"): (401, 409, 422),
    ("POST", "/api/orders"): (409,),  # idempotency_key_reused
    # The body read raw (text/plain); a receipt token that does not verify is a 404.
    ("POST", "/api/notifications/receipts"): (404, 422),
    # renewal_refused (a token not, or no longer, the device's); endpoint_in_use.
    ("POST", "/api/push/renewals"): (403, 409),
    ("POST", "/api/orders/{order_id}/accept"): (409,),  # illegal_transition
    ("POST", "/api/orders/{order_id}/reject"): (409,),
    ("POST", "/api/orders/{order_id}/status"): (409,),
    ("POST", "/api/orders/{order_id}/payments"): (409,),  # order_closed, overpayment
    ("POST", "/api/orders/{order_id}/cash-payments"): (409,),
    ("POST", "/api/orders/{order_id}/refunds"): (409,),  # refund_exceeds_paid
    # token_invalid, token_expired, token_replayed, token_lifetime, unknown_key,
    # wrong_audience; origin_not_allowed, vendor_disabled.
    ("POST", "/api/embed/session"): (401, 403),
    # A marketplace's calls: bad signature; a key of no integration; a refused value.
    ("PUT", "/api/integrations/vendors/{sub}"): (401, 403, 422),
    ("POST", "/api/integrations/vendors/bulk"): (401, 403, 422),
    ("DELETE", "/api/integrations/vendors/{sub}"): (401, 403),
    ("POST", "/api/integrations/vendors/{sub}/sign-out"): (401, 403),
    # too_many_keys (two are active), kid_taken.
    ("POST", "/api/admin/integrations/{integration_id}/embed-keys"): (409,),
    ("POST", "/api/admin/broadcasts/{broadcast_id}/cancel"): (409,),  # broadcast_finished
    # user_not_found, notification_not_found, order_not_found.
    ("GET", "/api/admin/activity"): (404,),
    # delivery_queued (being sent or retried already), webhook_url_missing.
    (
        "POST",
        "/api/admin/integrations/{integration_id}/webhook-deliveries/{delivery_id}/redeliver",
    ): (409,),
}

# How a caller signs in, for the operations that need one (either will do).
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The `token` of /api/auth/register or /api/auth/login.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The cookie /api/auth/register and /api/auth/login set; writes must "
        "come from our Origin.",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session": []}]
MARKETPLACE_SCHEME = "marketplace_jwt"
SECURITY_SCHEMES[MARKETPLACE_SCHEME] = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A JWT the marketplace signs for its vendor (ES256, EdDSA or RS256; "
    "see docs/embedding.md), sent from a registered Origin.",
}

# Operations that read their body raw, to check an HMAC over its bytes: what they parse
# and the headers that sign it (see docs/integrations.md), which FastAPI cannot see.
SIGNED_BODIES: dict[tuple[str, str], tuple[type[Any], str]] = {
    ("POST", "/api/events"): (IntegrationEventIn, "IntegrationEventIn"),
    ("PUT", "/api/integrations/vendors/{sub}"): (VendorIn, "VendorIn"),
    ("POST", "/api/integrations/vendors/bulk"): (BulkVendorsIn, "BulkVendorsIn"),
}
# Signed operations without a body: the signature covers `<t>.` and nothing after.
SIGNED_EMPTY = frozenset(
    {
        ("DELETE", "/api/integrations/vendors/{sub}"),
        ("POST", "/api/integrations/vendors/{sub}/sign-out"),
    }
)
SIGNATURE_HEADERS = [
    {
        "name": signature.KEY_HEADER,
        "in": "header",
        "required": True,
        "description": "The integration key's public id.",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": signature.SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>`.",
        "schema": {"type": "string", "maxLength": 1000},
    },
]

DESCRIPTIONS = {
    401: "Not authenticated: no valid token (for a signed event: no valid signature)",
    403: "Not allowed: wrong role, a cookie-signed write from another origin, an embedded "
    "session from another origin than its page's (`origin_mismatch`), or a page origin no "
    "integration registered (`origin_not_allowed`)",
    404: "No such resource, or not the caller's",
    409: "Conflicts with the resource's current state",
    413: "The request body is larger than the server accepts (MAX_BODY_BYTES)",
    422: "The request was refused: its body is not JSON, or a parameter or value is invalid",
    429: "Too many attempts; retry after `Retry-After` seconds",
    503: "Unavailable: the database, Redis or the disk fails for now (`unavailable`), or "
    "this process is shutting down (`shutting_down`); retry after `Retry-After` seconds",
}
RETRY_AFTER_STATUSES = (429, 503)


def _error_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(ErrorOut, "validation"), (ValidationErrorOut, "validation")], ref_template=REF
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def _declare_signed_body(operation: dict[str, Any], model: type[Any], name: str) -> dict[str, Any]:
    """The operation's JSON body and signature headers; returns the schemas to add."""
    _, top = models_json_schema([(model, "validation")], ref_template=REF)
    schemas: dict[str, Any] = top["$defs"]
    schemas[name] = schemas.pop(model.__name__)  # a name of its own (EventIn is taken)
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": REF.format(model=name)}}},
    }
    operation["parameters"] = [*operation.get("parameters", []), *SIGNATURE_HEADERS]
    return schemas


def _answer(status: int) -> dict[str, Any]:
    model = ValidationErrorOut if status == 422 else ErrorOut
    answer: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
    }
    if status in RETRY_AFTER_STATUSES:
        answer["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        }
    return answer


def error_statuses(route: Any, method: str) -> set[int]:
    """The error statuses one operation (an APIRoute, or FastAPI's context of an
    included one) can answer with."""
    calls = dependency_calls(route.dependant)
    statuses: set[int] = set(SERVICE_ANSWERS.get((method, route.path_format), ()))
    statuses.add(503)  # any operation may meet an outage
    if get_current_user in calls:
        statuses.add(401)
        statuses.add(403)  # an embedded session used from another origin, whatever the method
    if route.param_convertors:
        statuses.add(404)
    if method in BODY_METHODS:
        statuses.add(413)
    if route.body_field is not None or get_flat_params(route.dependant):
        statuses.add(422)
    return statuses


def declare_errors(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    """Add every operation's error answers to a document FastAPI generated."""
    paths: dict[str, Any] = schema.get("paths", {})
    added: dict[str, Any] = _error_schemas()
    for route in iter_route_contexts(list(routes)):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format or "", {}).get(method.lower())
            if operation is None:
                continue
            if get_current_user in dependency_calls(route.dependant):
                operation["security"] = SIGNED_IN
            if signed := SIGNED_BODIES.get((method, route.path_format or "")):
                added |= _declare_signed_body(operation, *signed)
            if (method, route.path_format) in SIGNED_EMPTY:
                operation["parameters"] = [*operation.get("parameters", []), *SIGNATURE_HEADERS]
            if (method, route.path_format) == ("POST", "/api/embed/session"):
                operation["security"] = [{MARKETPLACE_SCHEME: []}]
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(route, method)):
                if status == 422 or str(status) not in responses:
                    responses[str(status)] = _answer(status)
    # Any 422 FastAPI declared on its own has our shape, not its HTTPValidationError.
    for operations in paths.values():
        for operation in operations.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "HTTPValidationError" in str(responses.get("422", "")):
                responses["422"] = _answer(422)
    components = schema.setdefault("components", {})
    for fastapi_model in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(fastapi_model, None)
    components.setdefault("schemas", {}).update(added)
    components["securitySchemes"] = SECURITY_SCHEMES


def install_openapi(app: FastAPI) -> None:
    """Generate /openapi.json with the error answers declared (once, on first use)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            declare_errors(generate(), app.routes)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
