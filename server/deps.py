"""Dependencies every route uses: settings, a database session, the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.service import user_for_token
from server.config import Settings
from server.db import Database, commit, discard_after_commit
from server.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "vb_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent.

    Reads get a plain session; writes get one that starts with BEGIN IMMEDIATE on
    SQLite (see server.db), so concurrent writers queue instead of failing.
    """
    database = get_database(request)
    factory = database.reader if request.method in SAFE_METHODS else database.writer
    async with factory() as session:
        try:
            yield session
        except BaseException:
            discard_after_commit(session)
            await session.rollback()
            raise
        await commit(session)


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def request_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"


def check_csrf(request: Request, settings: Settings) -> None:
    """Cookie-authenticated writes must come from one of our own origins.

    SameSite=Lax already keeps the cookie off cross-site POSTs in modern browsers;
    the Origin check covers older ones and same-site-but-cross-origin pages.
    """
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin") or _referer_origin(request)
    if origin is None or (origin not in settings.origins and origin != request_origin(request)):
        raise Forbidden(
            "Cross-origin request refused: cookie-authenticated writes need our Origin.",
            code="csrf_origin_mismatch",
        )


def _referer_origin(request: Request) -> str | None:
    referer = request.headers.get("referer")
    if not referer:
        return None
    scheme, _, rest = referer.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else None


async def get_current_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    token = bearer_token(request)
    from_cookie = token is None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Sign in first.")
    user = await user_for_token(session, token, request.app.state.secret_key)
    if user is None:
        raise NotAuthenticated("Your session has expired or the token is invalid.")
    if from_cookie:
        check_csrf(request, settings)
    request.state.token = token
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_vendor(user: CurrentUser) -> User:
    if user.role != "vendor":
        raise Forbidden("Only vendors can do this.", code="vendor_only")
    return user


async def get_current_customer(user: CurrentUser) -> User:
    if user.role != "customer":
        raise Forbidden("Only customers can do this.", code="customer_only")
    return user


async def get_current_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise Forbidden("Only administrators can do this.", code="admin_only")
    return user


CurrentVendor = Annotated[User, Depends(get_current_vendor)]
CurrentCustomer = Annotated[User, Depends(get_current_customer)]
CurrentAdmin = Annotated[User, Depends(get_current_admin)]


ROLE_CHECKS = (get_current_vendor, get_current_customer, get_current_admin)


def dependency_calls(dependant: Dependant) -> set[Callable[..., Any]]:
    """Every function a route depends on, however deep (used to tell which routes need
    a signed-in caller, here and for the OpenAPI document in server.openapi)."""
    calls: set[Callable[..., Any]] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        if current.call is not None:
            calls.add(current.call)
        pending.extend(current.dependencies)
    return calls


async def check_caller(request: Request) -> None:
    """Run the matched route's authentication and role checks on their own.

    FastAPI parses a JSON body before it runs any dependency, so a body that is not JSON
    would be refused (422) before an anonymous caller (401); server.errors calls this
    first, so the order is the same as for any other refused body: who, then what.
    """
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if not isinstance(dependant, Dependant):
        return
    calls = dependency_calls(dependant)
    if get_current_user not in calls:
        return
    async with get_database(request).reader() as session:
        user = await get_current_user(request, session, request.app.state.settings)
    for check in ROLE_CHECKS:
        if check in calls:
            await check(user)
