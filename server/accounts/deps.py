"""Dependencies every route uses: settings, the unit of work (or its session), the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.accounts.service import session_for_token
from server.core.config import Settings
from server.core.db import Database
from server.core.errors import Forbidden, NotAuthenticated
from server.core.unit_of_work import UnitOfWork, UnitOfWorkFactory

SESSION_COOKIE = "vb_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


def get_units(request: Request) -> UnitOfWorkFactory:
    units: UnitOfWorkFactory = request.app.state.units
    return units


async def get_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request, committed before the response is sent.

    Reads get a read unit; writes one whose transaction starts with BEGIN IMMEDIATE on
    SQLite (see server.core.db), so concurrent writers queue instead of failing.
    """
    async with get_units(request).for_method(request.method) as uow:
        try:
            yield uow
        except BaseException:
            await uow.rollback()
            raise
        await uow.commit()


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


async def get_session(uow: UnitOfWorkDep) -> AsyncSession:
    """The request's unit's session, for routes whose services need nothing else."""
    return uow.session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


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


async def get_current_user(request: Request, uow: UnitOfWorkDep) -> User:
    # The settings come from the app, not as a dependency of their own: every route
    # asking for its caller would solve one more dependency per request.
    token = bearer_token(request)
    from_cookie = token is None
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Sign in first.")
    state = request.app.state
    # An embedded session answers only to the Origin it was issued to (server.integrations.embed).
    origin = request.headers.get("origin")
    found = await session_for_token(uow, token, state.secret_key, state.token_activity, origin)
    if from_cookie:
        check_csrf(request, state.settings)
    request.state.token = token
    return found.user


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
    would be refused (422) before an anonymous caller (401); server.core.errors calls this
    first, so the order is the same as for any other refused body: who, then what.
    """
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if not isinstance(dependant, Dependant):
        return
    calls = dependency_calls(dependant)
    if get_current_user not in calls:
        return
    async with get_units(request).reader() as uow:
        user = await get_current_user(request, uow)
    for check in ROLE_CHECKS:
        if check in calls:
            await check(user)
