"""A marketplace's vendors: found by (integration, sub), created on first sight, their
profile set by the marketplace (the source of truth), disabled, signed out, deleted.

Such a vendor has no password and is never matched to an existing account by email
(that would hand a marketplace any vendorbell account whose address it knows).
"""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from server.accounts import sessions, tokens
from server.accounts.models import ApiToken, User
from server.core.db import utcnow
from server.core.errors import Forbidden, Invalid, NotFound
from server.core.languages import negotiate
from server.core.unit_of_work import UnitOfWork
from server.integrations.embed_tokens import PRINTABLE, Profile
from server.push.models import PushSubscription


class VendorNotFound(NotFound):
    code = "vendor_not_found"


class VendorDisabled(Forbidden):
    code = "vendor_disabled"


async def find(uow: UnitOfWork, integration_id: str, sub: str) -> User | None:
    return await uow.session.scalar(
        select(User).where(User.integration_id == integration_id, User.external_sub == sub)
    )


async def get(uow: UnitOfWork, integration_id: str, sub: str) -> User:
    user = await find(uow, integration_id, sub)
    if user is None:
        raise VendorNotFound("The integration has no vendor with this sub.")
    return user


async def find_or_create(uow: UnitOfWork, integration_id: str, sub: str) -> tuple[User, bool]:
    """The vendor, created (named after its sub until told otherwise) if never seen."""
    user = await find(uow, integration_id, sub)
    if user is not None:
        return user, False
    user = User(
        email="",
        name=sub[:120],
        role="vendor",
        password_hash=None,
        integration_id=integration_id,
        external_sub=sub,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(user)
            await uow.session.flush()
    except IntegrityError:  # the same vendor's first sign-in raced in on another connection
        return await get(uow, integration_id, sub), False
    return user, True


async def apply_profile(uow: UnitOfWork, user: User, profile: Profile) -> None:
    """Set what the marketplace said; cached sessions of the vendor read it anew."""
    changed = False
    for field, value in (
        ("name", profile.name),
        ("email", profile.email),
        ("locale", profile.locale),
        ("time_zone", profile.time_zone),
        ("shop_name", profile.shop_name),
    ):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed = True
    await uow.session.flush()
    if changed:
        await _forget_cached_sessions(uow, user.id)


async def _forget_cached_sessions(uow: UnitOfWork, user_id: int) -> None:
    if uow.caches is None:
        return
    digests = list(
        await uow.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user_id))
    )
    for digest in digests:
        uow.caches[tokens.TOKENS].invalidate(digest)
    uow.invalidate_after_commit(uow.caches[tokens.TOKENS], *digests)


async def sign_out(uow: UnitOfWork, user: User) -> int:
    """End every session of the vendor; their sockets close in every process."""
    digests = list(
        await uow.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id))
    )
    await sessions.end_tokens(uow, user.id, digests)
    return len(digests)


async def set_disabled(uow: UnitOfWork, user: User, disabled: bool) -> None:
    """A disabled vendor is signed out and cannot sign in until enabled again."""
    if disabled and user.disabled_at is None:
        user.disabled_at = utcnow()
        await sign_out(uow, user)
    elif not disabled:
        user.disabled_at = None
    await uow.session.flush()


async def remove(uow: UnitOfWork, integration_id: str, sub: str) -> None:
    """Delete the vendor and what is theirs: devices, sessions (sockets closed), inbox."""
    user = await get(uow, integration_id, sub)
    await sign_out(uow, user)
    await uow.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user.id))
    await uow.session.delete(user)
    await uow.session.flush()


def checked_sub(sub: str) -> str:
    """A marketplace's vendor id as a URL names it: 1-128 printable ASCII characters."""
    if not 0 < len(sub) <= 128 or not set(sub) <= PRINTABLE:
        raise Invalid("A sub is 1-128 printable ASCII characters.", code="invalid_sub")
    return sub


class SentProfile(Protocol):
    """A vendor's profile as a marketplace sends it: to the vendor API (VendorIn) or
    with an event (EventVendor)."""

    @property
    def name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def locale(self) -> str | None: ...
    @property
    def zoneinfo(self) -> str | None: ...
    @property
    def shop_name(self) -> str | None: ...


def profile_of(sent: SentProfile) -> Profile:
    """The profile a marketplace sent, its time zone and language checked."""
    if sent.zoneinfo is not None:
        try:
            ZoneInfo(sent.zoneinfo)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "zoneinfo is not an IANA time zone (e.g. Europe/Berlin).", code="invalid_time_zone"
            ) from None
    return Profile(
        name=sent.name,
        email=sent.email.lower() if sent.email else None,
        locale=negotiate(sent.locale) if sent.locale else None,
        time_zone=sent.zoneinfo,
        shop_name=sent.shop_name,
    )


async def upsert(
    uow: UnitOfWork, integration_id: str, sub: str, profile: Profile, disabled: bool | None
) -> tuple[User, bool]:
    """Create or update the vendor; (vendor, created?)."""
    user, created = await find_or_create(uow, integration_id, checked_sub(sub))
    await apply_profile(uow, user, profile)
    if disabled is not None:
        await set_disabled(uow, user, disabled)
    return user, created
