"""Register, log in and out, who am I, password and sessions, and the public vendor list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts import service, sessions
from server.accounts.deps import SESSION_COOKIE, CurrentUser, SessionDep, SettingsDep, UnitOfWorkDep
from server.accounts.limits import Limits
from server.accounts.models import User
from server.accounts.schemas import (
    LoginIn,
    MeIn,
    PasswordIn,
    RegisterIn,
    SessionOut,
    SignedInSessionOut,
    UserOut,
    VendorOut,
)
from server.accounts.security import token_digest, try_again_in
from server.accounts.tokens import Lifetime
from server.core.config import Settings
from server.core.errors import TooMany
from server.core.ids import parse_id
from server.core.languages import negotiate

router = APIRouter(tags=["accounts"])


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _account_key(email: str) -> str:
    return f"account:{service.normalize_email(email)}"


async def _login_keys(limits: Limits, email: str, request: Request) -> tuple[str, list[str]]:
    """The account's key, and the keys a failed password counts against: the account
    and the address, but only the account for an account registered within the window
    (it answers for its own failures, not for what others tried from its address)."""
    account = _account_key(email)
    if await limits.is_new(account):
        return account, [account]
    return account, [account, f"address:{_client_address(request)}"]


async def _refuse_when_spent(limits: Limits, keys: list[str], *, sentence: str, code: str) -> None:
    """429 with Retry-After while the sign-in budget of `keys` is spent (sign-in and
    password change share it: both try a password)."""
    if wait := await limits.login.retry_after(keys):
        raise TooMany(
            f"{sentence} {try_again_in(wait)}", code=code, headers={"Retry-After": str(wait)}
        )


async def _issue_token(session: AsyncSession, user: User, request: Request) -> str:
    return await service.issue_token(
        session,
        user,
        request.app.state.secret_key,
        user_agent=request.headers.get("user-agent"),
        client_address=_client_address(request),
    )


def _current_digest(request: Request) -> str:
    token: str = request.state.token
    return token_digest(request.app.state.secret_key, token)


def _start_session(response: Response, token: str, settings: Settings) -> None:
    """The HttpOnly cookie the PWA signs in with (it never sees the token itself)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.token_absolute_days * 24 * 3600,
        path="/",
    )


@router.post("/api/auth/register", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def register(
    body: RegisterIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> SessionOut:
    """Create the account and sign it in (token and cookie): no second call that a
    sign-in limit could refuse halfway through a sign-up."""
    # Every attempt counts, refused ones too: each costs an argon2 hash or tells
    # whether an email has an account.
    limits: Limits = request.app.state.limits
    address = [f"address:{_client_address(request)}"]
    if wait := await limits.register.retry_after(address):
        raise TooMany(
            f"Too many accounts created from this address. {try_again_in(wait)}",
            code="register_rate_limited",
            headers={"Retry-After": str(wait)},
        )
    await limits.register.hit(address)
    locale = body.locale or negotiate(request.headers.get("accept-language"))
    user = await service.register(
        session,
        email=body.email,
        password=body.password,
        name=body.name,
        role=body.role,
        locale=locale,
    )
    token = await _issue_token(session, user, request)
    await limits.new_accounts.hit([_account_key(user.email)])
    _start_session(response, token, settings)
    return SessionOut(user=UserOut.model_validate(user), token=token)


@router.post("/api/auth/login", response_model=SessionOut)
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    limits: Limits = request.app.state.limits
    account, keys = await _login_keys(limits, body.email, request)
    await _refuse_when_spent(
        limits, keys, sentence="Too many failed sign-in attempts.", code="login_rate_limited"
    )
    try:
        user = await service.authenticate(session, email=body.email, password=body.password)
    except service.InvalidCredentials:
        await limits.login.hit(keys)
        raise
    await limits.login.clear(account)
    await service.forget_expired_tokens(session, user, Lifetime.of(settings))
    token = await _issue_token(session, user, request)
    _start_session(response, token, settings)
    return SessionOut(user=UserOut.model_validate(user), token=token)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, uow: UnitOfWorkDep, user: CurrentUser) -> Response:
    await service.revoke_token(uow, user, request.state.token, request.app.state.secret_key)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.patch("/api/me", response_model=UserOut)
async def update_me(body: MeIn, uow: UnitOfWorkDep, user: CurrentUser) -> UserOut:
    updated = await service.update_account(uow, user.id, locale=body.locale, name=body.name)
    return UserOut.model_validate(updated)


@router.post("/api/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordIn, request: Request, uow: UnitOfWorkDep, user: CurrentUser
) -> Response:
    """Set a new password (the sign-up rules apply); every other session ends, this one
    stays. Wrong current passwords count against the sign-in limit."""
    limits: Limits = request.app.state.limits
    account, keys = await _login_keys(limits, user.email, request)
    await _refuse_when_spent(
        limits, keys, sentence="Too many wrong passwords.", code="password_rate_limited"
    )
    try:
        await service.change_password(
            uow,
            user.id,
            current=body.current_password,
            new=body.new_password,
            keep_digest=_current_digest(request),
        )
    except service.WrongPassword:
        await limits.login.hit(keys)
        raise
    await limits.login.clear(account)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/me/sessions", response_model=list[SignedInSessionOut])
async def list_sessions(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
) -> list[SignedInSessionOut]:
    """The caller's sessions that can still sign in, most recently used first."""
    current = _current_digest(request)
    rows = await sessions.list_sessions(session, user.id, Lifetime.of(settings))
    return [
        SignedInSessionOut(
            id=str(row.id),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            user_agent=row.user_agent,
            client_address=row.client_address,
            current=row.token_hash == current,
        )
        for row in rows
    ]


@router.delete("/api/me/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def end_other_sessions(request: Request, uow: UnitOfWorkDep, user: CurrentUser) -> Response:
    """Sign out everywhere else: every session of the caller ends but this one."""
    await sessions.end_other_sessions(uow, user.id, _current_digest(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/api/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(
    session_id: str, request: Request, uow: UnitOfWorkDep, user: CurrentUser
) -> Response:
    """End one of the caller's sessions (this one too: that is a logout)."""
    key = parse_id(session_id)
    if key is None:
        raise sessions.SessionNotFound("No such session.")
    digest = await sessions.end_session(uow, user.id, key)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if digest == _current_digest(request):
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/vendors", response_model=list[VendorOut])
async def vendors(session: SessionDep) -> list[VendorOut]:
    return [VendorOut.model_validate(v) for v in await service.list_vendors(session)]
