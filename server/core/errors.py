"""One error type carrying HTTP status and a stable code, and the handlers that render it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("vendorbell.errors")


class ErrorOut(BaseModel):
    """Every error answer: a sentence for people and a stable code for programs."""

    # English only: clients show their own words for `code`, in their user's language
    # (docs/languages.md); a translated `detail` could only be partial.
    detail: str = Field(description="What went wrong, in English, for developers; may change.")
    code: str = Field(description="What went wrong, for programs; stable (e.g. `order_not_found`).")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # the field is absent, never null


class FieldError(BaseModel):
    """One refused part of the request (never echoing what was sent)."""

    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then field names and indexes."
    )
    msg: str
    type: str = Field(description="pydantic's error type, e.g. `missing`, `json_invalid`.")


class ValidationErrorOut(ErrorOut):
    """422: the request's syntax or values were refused.

    `code` is `validation_error` (values), `malformed_json` (the body is not JSON) or a
    service's own code (e.g. `unknown_vendor`); `errors` lists each refused part when the
    request itself did not validate, and is absent for the services' own refusals.
    """

    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None,
        description="Each refused part; absent when a service refused a value.",
        json_schema_extra=_no_default,
    )


class AppError(Exception):
    """A client-facing error: `{"detail": ..., "code": ...}` with `status`."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers


class NotAuthenticated(AppError):
    status, code = 401, "not_authenticated"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class Invalid(AppError):
    status, code = 422, "invalid"


class TooMany(AppError):
    status, code = 429, "too_many_requests"


# How long a client should wait before retrying an answer `unavailable`: a database
# restart, a failover or an operator freeing disk space takes seconds, not milliseconds.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = (
    "A service this server depends on (database, Redis or disk) is unavailable; "
    "retry after Retry-After seconds."
)
INTERNAL_DETAIL = "Internal server error: the fault is ours and has been logged."


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}


def error_response(
    status: int, detail: Any, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def _printable(value: object) -> str | int:
    """A location part or message as JSON can carry it: a lone surrogate (a key such as
    "\\ud800" in the body) cannot be encoded as UTF-8, so it is escaped."""
    if isinstance(value, int):
        return value
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _describe_validation(exc: RequestValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    # Never the rejected `input` or `ctx`: they echo what the client sent (a password,
    # NaN, a lone surrogate) and some of it cannot even be written as JSON.
    errors: list[dict[str, Any]] = [
        {
            "loc": [_printable(part) for part in e.get("loc", ())],
            "msg": _printable(e.get("msg", "")),
            "type": _printable(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return "The request body is not valid JSON.", "malformed_json", errors
    first = errors[0] if errors else {"loc": [], "msg": "Invalid request"}
    where = ".".join(str(p) for p in first["loc"] if p != "body")
    message = str(first["msg"])
    detail = f"{where}: {message}" if where else message
    return detail, "validation_error", errors


def _malformed_body() -> RequestValidationError:
    """The framework could not parse the body (bytes that are not UTF-8, JSON nested too
    deeply for the parser): the same 422 as any other body that is not JSON."""
    return RequestValidationError(
        [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
    )


CallerCheck = Callable[[Request], Awaitable[None]]


async def _refusal_before_body(request: Request, check_caller: CallerCheck) -> AppError | None:
    """A request whose body is not even JSON is still refused for who sent it first:
    FastAPI parses the body before it runs any dependency, so the authentication and role
    checks of the route are run here (server.accounts.deps), as they are before a body is
    validated."""
    try:
        await check_caller(request)
    except AppError as exc:
        return exc
    return None


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path (for `Allow`)."""
    scope = {**request.scope, "method": ""}
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        route_methods = route.methods
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= route_methods
    return sorted(methods)


def install_error_handlers(app: FastAPI, check_caller: CallerCheck) -> None:
    """Every client mistake becomes `{"detail", "code"}`; anything else is logged once.

    `check_caller` runs a route's authentication and role checks on their own
    (server.accounts.deps.check_caller), for a body refused before any dependency ran."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status, exc.detail, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, code, errors = _describe_validation(exc)
        if code == "malformed_json" and (
            refusal := await _refusal_before_body(request, check_caller)
        ):
            return await _app_error(request, refusal)
        response = error_response(422, detail, code)
        response.body = response.render({"detail": detail, "code": code, "errors": errors})
        response.headers["content-length"] = str(len(response.body))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
            return await _validation(request, _malformed_body())
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, exc.detail, code, headers)
