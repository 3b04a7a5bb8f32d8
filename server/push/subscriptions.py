"""Saving, listing and deleting a user's push subscriptions (one per browser/device)."""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.config import Settings
from server.core.errors import Conflict, Forbidden, Invalid, NotFound
from server.core.hooks import Hook
from server.core.ids import parse_id
from server.core.unit_of_work import UnitOfWork
from server.push import receipts
from server.push.crypto import b64url_decode
from server.push.endpoints import UnsafeEndpoint, check_endpoint
from server.push.models import PushDelivery, PushSubscription
from server.push.schemas import RenewalIn, SubscriptionIn


def check_keys(p256dh: str, auth: str) -> None:
    """p256dh must be an uncompressed P-256 point on the curve, auth a 16-byte secret."""
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("The subscription keys are not base64url.", code="invalid_keys") from exc
    if len(point) != 65 or point[0] != 4:
        raise Invalid("keys.p256dh is not an uncompressed P-256 point.", code="invalid_p256dh")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise Invalid("keys.p256dh is not a point on P-256.", code="invalid_p256dh") from exc
    if len(secret) != 16:
        raise Invalid("keys.auth must be a 16-byte secret.", code="invalid_auth")


def _expiration(milliseconds: int | None) -> datetime | None:
    """`expirationTime` is epoch milliseconds (or null); a nonsense value is a 422."""
    if milliseconds is None:
        return None
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise Invalid("expirationTime is not a valid time.", code="invalid_expiration") from exc


# A device added to or removed from a user, in the transaction that did it: "added" or
# "removed" with (user id, subscription id) pairs (the marketplace webhooks: server.background).
DEVICES_CHANGED: Hook[Callable[[AsyncSession, str, Sequence[tuple[int, int]]], Awaitable[None]]] = (
    Hook("push.devices_changed")
)


async def save(
    uow: UnitOfWork, user_id: int, body: SubscriptionIn, *, key_id: str
) -> tuple[PushSubscription, bool]:
    """`upsert`, and the `DEVICES_CHANGED` hooks told of a new device."""
    sub, created = await upsert(uow.session, user_id, body, key_id=key_id, settings=uow.settings)
    if created:
        for hook in uow.hooks.each(DEVICES_CHANGED):
            await hook(uow.session, "added", [(user_id, sub.id)])
    return sub, created


async def upsert(
    session: AsyncSession, user_id: int, body: SubscriptionIn, *, key_id: str, settings: Settings
) -> tuple[PushSubscription, bool]:
    """Save the subscription by endpoint; returns it and whether it is new."""
    expires = await _checked(body, settings)
    values = {
        "user_id": user_id,
        "p256dh": body.keys.p256dh,
        "auth": body.keys.auth,
        "vapid_key_id": key_id,
        "expiration_time": expires,
    }
    by_endpoint = select(PushSubscription).where(PushSubscription.endpoint == body.endpoint)
    sub = await session.scalar(by_endpoint)
    if sub is None:
        try:
            # A savepoint: the same browser subscribing twice at once must not be a 500.
            async with session.begin_nested():
                sub = PushSubscription(
                    endpoint=body.endpoint, label=body.label, muted=False, **values
                )
                session.add(sub)
            await _make_room(session, user_id, sub.id, settings.max_devices_per_user)
            return sub, True
        except IntegrityError:
            sub = await session.scalar(by_endpoint.execution_options(populate_existing=True))
            if sub is None:
                raise
    # A device changing hands becomes the caller's; the keys may have been renewed.
    for name, value in values.items():
        setattr(sub, name, value)
    if body.label is not None:
        sub.label = body.label
    await session.flush()
    await _make_room(session, user_id, sub.id, settings.max_devices_per_user)
    return sub, False


async def _checked(body: SubscriptionIn | RenewalIn, settings: Settings) -> datetime | None:
    """Keys and endpoint as a push may use them (422 otherwise); the expiration time."""
    check_keys(body.keys.p256dh, body.keys.auth)
    try:
        await check_endpoint(body.endpoint, settings)
    except UnsafeEndpoint as exc:
        raise Invalid(exc.detail, code=exc.code) from exc
    return _expiration(body.expirationTime)


class RenewalRefused(Forbidden):
    code = "renewal_refused"


class EndpointInUse(Conflict):
    code = "endpoint_in_use"


async def renew(uow: UnitOfWork, body: RenewalIn, *, secret: str, key_id: str) -> PushSubscription:
    """Give the device named by `body.renewal_token` its browser's new subscription.

    The device keeps its id, owner, label and mute; its failures are forgotten (a new
    endpoint has none). Refused (403) unless the token is the device's for its current
    endpoint: a token is spent by the renewal it makes.
    """
    session = uow.session
    device = receipts.token_device(body.renewal_token)
    sub = await session.get(PushSubscription, device) if device is not None else None
    if sub is None or not receipts.renewal_valid(secret, body.renewal_token, sub.id, sub.endpoint):
        raise RenewalRefused("This renewal token is not valid for any device (or was used).")
    expires = await _checked(body, uow.settings)
    if body.endpoint != sub.endpoint:
        holder = await session.scalar(
            select(PushSubscription).where(PushSubscription.endpoint == body.endpoint)
        )
        if holder is not None and holder.user_id != sub.user_id:
            raise EndpointInUse("This endpoint belongs to another account's device.")
        if holder is not None:  # the same browser subscribed again meanwhile: one device
            await session.delete(holder)
            await session.flush()
            for hook in uow.hooks.each(DEVICES_CHANGED):
                await hook(session, "removed", [(holder.user_id, holder.id)])
    sub.endpoint, sub.p256dh, sub.auth = body.endpoint, body.keys.p256dh, body.keys.auth
    sub.vapid_key_id, sub.expiration_time = key_id, expires
    sub.last_failure_at = sub.last_failure_reason = None
    await session.flush()
    return sub


async def _make_room(session: AsyncSession, user_id: int, keep: int, limit: int) -> None:
    """Keep a user at `limit` devices: the least recently used ones give way.

    Browsers make a new subscription whenever theirs is renewed or the site's data is
    cleared, and an old one is only pruned when a push to it fails; refusing the new
    device (409) would leave the vendor's phone silent because of a laptop long gone."""
    last_used = func.coalesce(PushSubscription.last_success_at, PushSubscription.created_at)
    surplus = (
        select(PushSubscription.id)
        .where(PushSubscription.user_id == user_id, PushSubscription.id != keep)
        .order_by(last_used.desc(), PushSubscription.id.desc())
        .offset(limit - 1)
    )
    doomed = list(await session.scalars(surplus))
    if doomed:
        await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(doomed)))


async def list_for(session: AsyncSession, user_id: int) -> list[PushSubscription]:
    rows = await session.scalars(
        select(PushSubscription)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.id)
    )
    return list(rows)


async def remove(uow: UnitOfWork, user_id: int, subscription_id: str) -> None:
    """Delete the caller's subscription (404 for anyone else's)."""
    key = parse_id(subscription_id)
    result = await uow.session.execute(
        delete(PushSubscription).where(
            PushSubscription.id == key, PushSubscription.user_id == user_id
        )
    )
    if key is None or result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("No such subscription.", code="subscription_not_found")
    for hook in uow.hooks.each(DEVICES_CHANGED):
        await hook(uow.session, "removed", [(user_id, key)])


# Writes the test notification for a user (queueing its pushes) and gives its id: a
# notification is the notifications feature's to write (server.background registers it).
TEST_NOTICE: Hook[Callable[[UnitOfWork, int], Awaitable[int]]] = Hook("push.test_notice")


async def send_test(uow: UnitOfWork, user_id: int) -> int:
    """Queue a test notification to each of the user's devices; how many were queued."""
    queued = 0
    for write in uow.hooks.each(TEST_NOTICE):
        notification_id = await write(uow, user_id)
        count = await uow.session.scalar(
            select(func.count()).where(PushDelivery.notification_id == notification_id)
        )
        queued += int(count or 0)
    return queued


async def key_usage(session: AsyncSession) -> dict[str, int]:
    """Subscriptions per VAPID key id (pushes to them must be signed with that key)."""
    rows = await session.execute(
        select(PushSubscription.vapid_key_id, func.count()).group_by(PushSubscription.vapid_key_id)
    )
    return {kid: int(n) for kid, n in rows}


async def key_ids_in_use(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(PushSubscription.vapid_key_id).distinct())
    return set(rows)


async def set_device_muted(
    session: AsyncSession, user_id: int, subscription_id: str, muted: bool
) -> int:
    """Mute or unmute one of the user's devices (404 for anyone else's)."""
    key = parse_id(subscription_id)
    found = await session.scalar(
        select(PushSubscription.id).where(
            PushSubscription.id == key, PushSubscription.user_id == user_id
        )
    )
    if key is None or found is None:
        raise NotFound("No such subscription.", code="subscription_not_found")
    await session.execute(
        update(PushSubscription).where(PushSubscription.id == key).values(muted=muted)
    )
    return key
