"""Web Push routes: the VAPID public key and the caller's device subscriptions."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from server.accounts.deps import CurrentUser, SessionDep, UnitOfWorkDep
from server.core.http import answered, created_or_known
from server.push import subscriptions
from server.push.keys import KeyStore
from server.push.models import PushSubscription
from server.push.receipts import renewal_token
from server.push.schemas import (
    DeviceMuteIn,
    DeviceMuteOut,
    DeviceOut,
    PublicKeyOut,
    QueuedOut,
    RenewalIn,
    SubscribedOut,
    SubscriptionIn,
    SubscriptionOut,
)

router = APIRouter(prefix="/api/push", tags=["push"])


def key_store(request: Request) -> KeyStore:
    keys: KeyStore = request.app.state.keys
    return keys


@router.get("/vapid-public-key", response_model=PublicKeyOut)
async def vapid_public_key(request: Request) -> PublicKeyOut:
    return PublicKeyOut(public_key=key_store(request).current.public_key)


def subscribed(request: Request, sub: PushSubscription) -> SubscribedOut:
    secret: str = request.app.state.secret_key
    saved = SubscriptionOut.model_validate(sub)
    token = renewal_token(secret, sub.id, sub.endpoint)
    return SubscribedOut(**saved.model_dump(), renewal_token=token)


@router.post("/subscriptions", **created_or_known(SubscribedOut, "Known endpoint, updated"))
async def subscribe(
    body: SubscriptionIn,
    request: Request,
    response: Response,
    uow: UnitOfWorkDep,
    user: CurrentUser,
) -> SubscribedOut:
    # The browser subscribed with the key we serve now, so it must be signed with it.
    kid = key_store(request).current.kid
    sub, created = await subscriptions.save(uow, user.id, body, key_id=kid)
    answered(response, created)
    return subscribed(request, sub)


@router.post("/renewals", response_model=SubscribedOut)
async def renew_subscription(
    body: RenewalIn, request: Request, uow: UnitOfWorkDep
) -> SubscribedOut:
    """A service worker's `pushsubscriptionchange`, without a session: the renewal token
    the device was given replaces that device's endpoint, once. For workers on a
    marketplace's origin (the embed snippet), which hold no session."""
    kid = key_store(request).current.kid
    secret: str = request.app.state.secret_key
    sub = await subscriptions.renew(uow, body, secret=secret, key_id=kid)
    return subscribed(request, sub)


@router.get("/subscriptions", response_model=list[DeviceOut])
async def list_subscriptions(session: SessionDep, user: CurrentUser) -> list[DeviceOut]:
    return [DeviceOut.model_validate(s) for s in await subscriptions.list_for(session, user.id)]


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unsubscribe(subscription_id: str, uow: UnitOfWorkDep, user: CurrentUser) -> Response:
    await subscriptions.remove(uow, user.id, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/test", response_model=QueuedOut, status_code=status.HTTP_202_ACCEPTED)
async def test_push(uow: UnitOfWorkDep, user: CurrentUser) -> QueuedOut:
    return QueuedOut(queued=await subscriptions.send_test(uow, user.id))


@router.patch("/subscriptions/{subscription_id}", response_model=DeviceMuteOut)
async def mute_device(
    subscription_id: str, body: DeviceMuteIn, session: SessionDep, user: CurrentUser
) -> DeviceMuteOut:
    """A muted device gets no pushes (the outbox skips it); the others still do."""
    key = await subscriptions.set_device_muted(session, user.id, subscription_id, body.muted)
    return DeviceMuteOut(id=str(key), muted=body.muted)
