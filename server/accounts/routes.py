"""Register, log in and out, who am I, and the public vendor list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from server.accounts import service
from server.accounts.schemas import LoginIn, RegisterIn, SessionOut, UserOut, VendorOut
from server.accounts.security import LoginLimiter
from server.deps import SESSION_COOKIE, CurrentUser, SessionDep, SettingsDep
from server.errors import TooMany

router = APIRouter(tags=["accounts"])


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/api/auth/register", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def register(body: RegisterIn, request: Request, session: SessionDep) -> SessionOut:
    user = await service.register(
        session, email=body.email, password=body.password, name=body.name, role=body.role
    )
    token = await service.issue_token(session, user, request.app.state.secret_key)
    return SessionOut(user=UserOut.model_validate(user), token=token)


@router.post("/api/auth/login", response_model=SessionOut)
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> SessionOut:
    limiter: LoginLimiter = request.app.state.login_limiter
    keys = [f"account:{service.normalize_email(body.email)}", f"address:{_client_address(request)}"]
    if wait := limiter.retry_after(keys):
        raise TooMany(
            "Too many failed sign-in attempts. Try again later.",
            code="login_rate_limited",
            headers={"Retry-After": str(wait)},
        )
    try:
        user = await service.authenticate(session, email=body.email, password=body.password)
    except service.InvalidCredentials:
        limiter.failed(keys)
        raise
    limiter.succeeded(keys[0])
    token = await service.issue_token(session, user, request.app.state.secret_key)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=30 * 24 * 3600,
        path="/",
    )
    return SessionOut(user=UserOut.model_validate(user), token=token)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    await service.revoke_token(session, user, request.state.token, request.app.state.secret_key)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.get("/api/vendors", response_model=list[VendorOut])
async def vendors(session: SessionDep) -> list[VendorOut]:
    return [VendorOut.model_validate(v) for v in await service.list_vendors(session)]
