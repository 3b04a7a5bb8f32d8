"""Registering, signing in and out, and resolving tokens to users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers

from server.accounts import sessions, tokens
from server.accounts.models import ApiToken, User
from server.accounts.passwords import check_new_password
from server.accounts.security import hash_password, new_token, token_digest, verify_password
from server.core.db import utcnow
from server.core.errors import AppError, Conflict, Forbidden, Invalid, NotAuthenticated
from server.core.unit_of_work import UnitOfWork


class InvalidCredentials(AppError):
    status, code = 401, "invalid_credentials"


class SessionExpired(NotAuthenticated):
    code = "session_expired"


class OriginMismatch(Forbidden):
    # An embedded session (bound to the page that started it) used from another origin.
    code = "origin_mismatch"


class WrongPassword(Invalid):
    # 422, not 401: the caller is signed in, and a client must not take it for a sign-out.
    code = "wrong_password"


def normalize_email(email: str) -> str:
    return email.strip().lower()


# vendorbell's own accounts: a marketplace's vendors (server.integrations) carry an email
# their marketplace set, which signs no one in and claims no account.
OWN_ACCOUNT = User.integration_id.is_(None)


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    name: str,
    role: str,
    locale: str = "en",
) -> User:
    email = normalize_email(email)
    check_new_password(password, email=email, name=name)
    if await session.scalar(select(User.id).where(User.email == email, OWN_ACCOUNT)):
        raise Conflict("An account with this email already exists.", code="email_taken")
    password_hash = await hash_password(password)
    user = User(email=email, name=name, role=role, locale=locale, password_hash=password_hash)
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await session.scalar(
        select(User).where(User.email == normalize_email(email), OWN_ACCOUNT)
    )
    if not await verify_password(user.password_hash if user else None, password) or not user:
        raise InvalidCredentials("Email or password is wrong.")
    return user


async def issue_token(
    session: AsyncSession,
    user: User,
    secret_key: str,
    *,
    user_agent: str | None = None,
    client_address: str | None = None,
    origin: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new session token; where it was asked from is kept for the list of sessions.
    An embedded session is bound to `origin` and ends at `expires_at` at the latest."""
    token = new_token()
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_digest(secret_key, token),
            user_agent=user_agent[:300] if user_agent else None,
            client_address=client_address[:64] if client_address else None,
            origin=origin,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return token


async def change_password(
    uow: UnitOfWork, user_id: int, *, current: str, new: str, keep_digest: str
) -> int:
    """Set a new password once the current one is given; every other session of the
    account ends (the one with `keep_digest` stays). Returns how many ended."""
    user = await uow.session.get(User, user_id)
    if user is None:  # deleted since the token was read
        raise NotAuthenticated("Your session has expired or the token is invalid.")
    if not await verify_password(user.password_hash, current):
        raise WrongPassword("The current password is wrong.")
    check_new_password(new, email=user.email, name=user.name)
    user.password_hash = await hash_password(new)
    await uow.session.flush()
    return await sessions.end_other_sessions(uow, user_id, keep_digest)


async def forget_expired_tokens(
    session: AsyncSession, user: User, lifetime: tokens.Lifetime
) -> None:
    """Delete the user's tokens that have expired (they could no longer sign anyone in)."""
    expired = lifetime.expired(utcnow())
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, expired))


async def revoke_token(uow: UnitOfWork, user: User, token: str, secret_key: str) -> None:
    """Delete the token; once that is committed, its live sockets close in every process."""
    digest = token_digest(secret_key, token)
    await uow.session.execute(delete(ApiToken).where(ApiToken.token_hash == digest))
    if uow.caches is not None:
        # Until commit no lookup here may keep the token; after it, none anywhere.
        uow.caches[tokens.TOKENS].invalidate(digest)
        uow.invalidate_after_commit(uow.caches[tokens.TOKENS], digest)
    user_id, hub = user.id, uow.hub

    async def end_sessions() -> None:
        await hub.end_sessions(user_id, digest)

    uow.after_commit(end_sessions)


async def update_account(
    uow: UnitOfWork, user_id: int, *, locale: str | None, name: str | None
) -> User:
    """Change what the user gave (locale, name); the rest stays."""
    session = uow.session
    user = await session.get(User, user_id)
    if user is None:  # deleted since the token was read
        raise NotAuthenticated("Your session has expired or the token is invalid.")
    if locale is not None:
        user.locale = locale
    if name is not None:
        user.name = name
    await session.flush()
    if uow.caches is not None:
        # Every signed-in session of the user caches both (token → user), here and in
        # the other processes: until commit none is served, after it all are read anew.
        digests = list(
            await session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user_id))
        )
        for digest in digests:
            uow.caches[tokens.TOKENS].invalidate(digest)
        uow.invalidate_after_commit(uow.caches[tokens.TOKENS], *digests)
    return user


async def locale_of(session: AsyncSession, user_id: int) -> str:
    """The language the user reads: from the session when their row is loaded already
    (an order's vendor and customer are), else one primary-key read."""
    user = await session.get(User, user_id)
    return user.locale if user is not None else "en"


@dataclass(frozen=True)
class TokenSession:
    """A live session: its user, and for an embedded one the origin it is bound to."""

    user: User
    digest: str
    origin: str | None  # None: usable from anywhere (the PWA's, an API client's)
    expires_at: datetime

    def allows(self, origin: str | None) -> bool:
        return self.origin is None or origin == self.origin


async def session_for_token(
    uow: UnitOfWork,
    token: str,
    secret_key: str,
    activity: tokens.TokenActivity | None,
    origin: str | None = None,
) -> TokenSession:
    """The live session of a token used from `origin` (the request's Origin header): a
    401 `session_expired` for a token past its lifetime, a 401 `not_authenticated` for
    any other unknown one, a 403 `origin_mismatch` for an embedded session used from
    another origin than the one it was issued to. The live channel checks its first
    message's token with this too.

    The lookup is by digest, so no timing leak of the token. A use is recorded through
    `activity` (the process's batched `last_used_at` writer), when there is one."""
    found = await _resolve_token(uow, token, secret_key, activity)
    if found == "expired":
        raise SessionExpired("Your session has expired. Sign in again.")
    if not isinstance(found, TokenSession):
        raise NotAuthenticated("Your session has expired or the token is invalid.")
    if not found.allows(origin):
        raise OriginMismatch("This session belongs to another origin.")
    return found


_USER_MAPPER = inspect(User)


async def _resolve_token(
    uow: UnitOfWork, token: str, secret_key: str, activity: tokens.TokenActivity | None
) -> TokenSession | Literal["expired"] | None:
    if not token or len(token) > 200:
        return None
    digest = token_digest(secret_key, token)
    caches, session = uow.caches, uow.session
    if caches and (hit := caches[tokens.TOKENS].get(digest)):
        # A detached copy: callers read id/email/name/role/locale, never persist it.
        user_id, email, name, role, locale, origin, until = hit
        if not _USER_MAPPER.configured:  # as User(...) would, before the first use
            configure_mappers()
        user = _USER_MAPPER.class_manager.new_instance()
        # Set as loaded values, not through User(...), whose init events cost four times
        # as much; like its fields unset there, the others read as None.
        user.__dict__.update(id=user_id, email=email, name=name, role=role, locale=locale)
        return TokenSession(user, digest, origin, datetime.fromtimestamp(until, UTC))
    generation = caches[tokens.TOKENS].generation(digest) if caches else 0
    row = (
        await session.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest)
        )
    ).first()
    if row is None:
        return None
    user, api_token = row
    now = utcnow()
    expires_at = tokens.Lifetime.of(uow.settings).expires_at(
        api_token.created_at, api_token.last_used_at
    )
    if api_token.expires_at is not None:
        expires_at = min(expires_at, api_token.expires_at)
    if now >= expires_at:
        return "expired"
    if activity is not None and now - api_token.last_used_at >= tokens.TOUCH_EVERY:
        activity.touch(api_token.id)
    # Cached only while the cache entry (60 s) cannot outlive the token.
    if caches and expires_at - now > tokens.CACHE_MARGIN:
        entry = (user.id, user.email, user.name, user.role, user.locale)
        caches[tokens.TOKENS].put(
            digest, (*entry, api_token.origin, expires_at.timestamp()), generation
        )
    return TokenSession(user, digest, api_token.origin, expires_at)


async def list_vendors(session: AsyncSession) -> Sequence[User]:
    """vendorbell's own vendors: a marketplace's vendors are its own, not listed to
    vendorbell's customers."""
    return (
        await session.scalars(
            select(User).where(User.role == "vendor", OWN_ACCOUNT).order_by(User.name, User.id)
        )
    ).all()
