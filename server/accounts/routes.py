"""Register, log in and out, who am I, and the public vendor list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from server.accounts import service
from server.accounts.schemas import LoginIn, MeIn, RegisterIn, SessionOut, UserOut, VendorOut
from server.accounts.security import LoginLimiter, SlidingWindowLimiter, try_again_in
from server.accounts.tokens import Lifetime
from server.core.config import Settings
from server.core.errors import TooMany
from server.core.languages import negotiate
from server.deps import SESSION_COOKIE, CurrentUser, SessionDep, SettingsDep, UnitOfWorkDep

router = APIRouter(tags=["accounts"])


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _account_key(email: str) -> str:
    return f"account:{service.normalize_email(email)}"


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
    limiter: SlidingWindowLimiter = request.app.state.register_limiter
    address = [f"address:{_client_address(request)}"]
    if wait := limiter.retry_after(address):
        raise TooMany(
            f"Too many accounts created from this address. {try_again_in(wait)}",
            code="register_rate_limited",
            headers={"Retry-After": str(wait)},
        )
    limiter.hit(address)
    locale = body.locale or negotiate(request.headers.get("accept-language"))
    user = await service.register(
        session,
        email=body.email,
        password=body.password,
        name=body.name,
        role=body.role,
        locale=locale,
    )
    token = await service.issue_token(session, user, request.app.state.secret_key)
    login_limiter: LoginLimiter = request.app.state.login_limiter
    login_limiter.registered(_account_key(user.email))
    _start_session(response, token, settings)
    return SessionOut(user=UserOut.model_validate(user), token=token)


@router.post("/api/auth/login", response_model=SessionOut)
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    limiter: LoginLimiter = request.app.state.login_limiter
    account = _account_key(body.email)
    keys = [account, f"address:{_client_address(request)}"]
    # A new account answers for its own failures only, not for its address's.
    checked = [account] if limiter.is_new(account) else keys
    if wait := limiter.retry_after(checked):
        raise TooMany(
            f"Too many failed sign-in attempts. {try_again_in(wait)}",
            code="login_rate_limited",
            headers={"Retry-After": str(wait)},
        )
    try:
        user = await service.authenticate(session, email=body.email, password=body.password)
    except service.InvalidCredentials:
        limiter.failed(keys)
        raise
    limiter.succeeded(account)
    await service.forget_expired_tokens(session, user, Lifetime.of(settings))
    token = await service.issue_token(session, user, request.app.state.secret_key)
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


@router.get("/api/vendors", response_model=list[VendorOut])
async def vendors(session: SessionDep) -> list[VendorOut]:
    return [VendorOut.model_validate(v) for v in await service.list_vendors(session)]
