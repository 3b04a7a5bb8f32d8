"""One error type carrying HTTP status and a stable code, and the handlers that render it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("vendorbell.errors")


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


def install_error_handlers(app: FastAPI) -> None:
    """Every client mistake becomes `{"detail", "code"}`; anything else is logged once."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status, exc.detail, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail, code, errors = _describe_validation(exc)
        response = error_response(422, detail, code)
        response.body = response.render({"detail": detail, "code": code, "errors": errors})
        response.headers["content-length"] = str(len(response.body))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, exc.detail, code, dict(exc.headers or {}))
