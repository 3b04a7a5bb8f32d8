"""The console's Integrations and keys (admin only): each integration's keys and
webhook health, one webhook event sent again, and the VAPID keys rotated or retired."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.accounts.deps import CurrentAdmin, SessionDep, UnitOfWorkDep
from server.console import integrations, vapid
from server.console.keys_schemas import (
    IntegrationOverviewOut,
    RetiredOut,
    VapidKeysOut,
    WebhookDeliveryOut,
)
from server.integrations.webhooks.redeliver import redeliver
from server.push.keys import KeyStore

router = APIRouter(prefix="/api/admin", tags=["admin"])


def _keys(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.keys
    return store


@router.get("/integrations-overview", response_model=list[IntegrationOverviewOut])
async def integrations_overview(
    session: SessionDep, admin: CurrentAdmin
) -> list[IntegrationOverviewOut]:
    """Every integration: origins, link base, embed keys, HMAC keys (never their
    secrets), and its webhook: URL, last answer, queued, failures of the last day and
    the newest deliveries."""
    return await integrations.overview(session)


@router.post(
    "/integrations/{integration_id}/webhook-deliveries/{delivery_id}/redeliver",
    response_model=WebhookDeliveryOut,
)
async def redeliver_webhook(
    integration_id: str, delivery_id: str, uow: UnitOfWorkDep, admin: CurrentAdmin
) -> WebhookDeliveryOut:
    """Queue a delivered or failed event again, due now, with the same event id and body
    (receivers dedupe by it), and wake the webhook workers.

    404 `integration_not_found` or `delivery_not_found`; 409 `delivery_queued` (it is
    being sent or retried already) or `webhook_url_missing`."""
    return WebhookDeliveryOut.model_validate(await redeliver(uow, integration_id, delivery_id))


@router.get("/vapid-keys", response_model=VapidKeysOut)
async def vapid_keys(request: Request, session: SessionDep, admin: CurrentAdmin) -> VapidKeysOut:
    """The VAPID keys on disk (public parts only), the current one first, each with the
    number of subscriptions made with it."""
    return await vapid.listing(session, _keys(request))


@router.post("/vapid-keys/rotate", response_model=VapidKeysOut)
async def rotate_vapid_key(
    request: Request, session: SessionDep, admin: CurrentAdmin
) -> VapidKeysOut:
    """Make a new current key: new subscriptions use it, in every process sharing
    KEYS_DIR from their next request on; existing ones keep theirs."""
    return await vapid.rotate(session, _keys(request))


@router.post("/vapid-keys/retire", response_model=RetiredOut)
async def retire_vapid_keys(
    request: Request, session: SessionDep, admin: CurrentAdmin
) -> RetiredOut:
    """Delete the keys no subscription uses any more; never the current one."""
    return await vapid.retire(session, _keys(request))
