"""`POST /api/events` and `/api/integrations/vendors` for shops and marketplaces (HMAC
signed), `/api/embed/session` for a marketplace's pages, and `/api/admin/integrations`
and `/api/admin/integration-keys` for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from server.accounts.deps import CurrentAdmin, CurrentUser, SessionDep, UnitOfWorkDep, bearer_token
from server.accounts.service import revoke_token
from server.core.http import answered, created_or_known
from server.integrations import embed, embed_keys, events, keys, registry, signature, vendor_api
from server.integrations.schemas import (
    BulkOut,
    EmbedCountsOut,
    EmbedKeyIn,
    EmbedKeyOut,
    EmbedSessionOut,
    EmbedUserOut,
    EventOut,
    GeneratedKeyOut,
    IntegrationDetailOut,
    IntegrationIn,
    IntegrationOut,
    KeyIn,
    KeyOut,
    NewKeyOut,
    VendorOut,
)

router = APIRouter(tags=["integrations"])
embed_router = APIRouter(prefix="/api/embed", tags=["embed"])
admin_router = APIRouter(prefix="/api/admin/integrations", tags=["admin"])


class VendorSub(StringConvertor):
    """A marketplace's vendor id in a path; `bulk` alone is the bulk operation's, so that
    `/api/integrations/vendors/bulk` is one resource (POST) and never a vendor's too."""

    regex = r"(?!bulk$)[^/]+"


register_url_convertor("vendor_sub", VendorSub())


@router.post("/api/events", **created_or_known(EventOut, "already received (same id and body)"))
async def receive_event(request: Request, response: Response, uow: UnitOfWorkDep) -> EventOut:
    """Signed with the key's secret over `<timestamp>.<raw body>` (see docs/integrations.md)."""
    body = await request.body()
    key = await events.authenticate(
        uow.session,
        request.app.state.secret_key,
        request.headers.get(signature.KEY_HEADER),
        request.headers.get(signature.SIGNATURE_HEADER),
        body,
    )
    answer, created = await events.receive(uow, key, body)
    answered(response, created)
    return answer


@router.post(
    "/api/admin/integration-keys", response_model=NewKeyOut, status_code=status.HTTP_201_CREATED
)
async def create_key(
    body: KeyIn, request: Request, session: SessionDep, admin: CurrentAdmin
) -> NewKeyOut:
    key, secret = await keys.issue(
        session, request.app.state.secret_key, body.name, body.integration_id
    )
    return NewKeyOut(**KeyOut.model_validate(key).model_dump(), secret=secret)


@router.get("/api/admin/integration-keys", response_model=list[KeyOut])
async def list_keys(session: SessionDep, admin: CurrentAdmin) -> list[KeyOut]:
    return [KeyOut.model_validate(k) for k in await keys.list_keys(session)]


@router.delete("/api/admin/integration-keys/{key_ref}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_ref: str, session: SessionDep, admin: CurrentAdmin) -> Response:
    await keys.revoke(session, key_ref)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _signed_integration(request: Request, uow: UnitOfWorkDep) -> str:
    """The integration whose key signed the request (a marketplace's key only)."""
    key = await events.authenticate(
        uow.session,
        request.app.state.secret_key,
        request.headers.get(signature.KEY_HEADER),
        request.headers.get(signature.SIGNATURE_HEADER),
        await request.body(),
    )
    return vendor_api.integration_of(key)


@router.put(
    "/api/integrations/vendors/{sub:vendor_sub}",
    **created_or_known(VendorOut, "known vendor, updated"),
)
async def put_vendor(
    sub: str, request: Request, response: Response, uow: UnitOfWorkDep
) -> VendorOut:
    """Create or update one of the marketplace's vendors (signed as /api/events)."""
    integration_id = await _signed_integration(request, uow)
    answer, created = await vendor_api.put(uow, integration_id, sub, await request.body())
    answered(response, created)
    return answer


@router.post("/api/integrations/vendors/bulk", response_model=BulkOut)
async def put_vendors(request: Request, uow: UnitOfWorkDep) -> BulkOut:
    """Up to 1,000 vendors at once; each item says created, updated or failed (and why)."""
    integration_id = await _signed_integration(request, uow)
    return await vendor_api.bulk(uow, integration_id, await request.body())


@router.delete("/api/integrations/vendors/{sub:vendor_sub}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_vendor(sub: str, request: Request, uow: UnitOfWorkDep) -> Response:
    """Delete the vendor: devices removed, sessions ended, live sockets closed everywhere."""
    integration_id = await _signed_integration(request, uow)
    await vendor_api.delete(uow, integration_id, sub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/integrations/vendors/{sub:vendor_sub}/sign-out", status_code=status.HTTP_204_NO_CONTENT
)
async def sign_out_vendor(sub: str, request: Request, uow: UnitOfWorkDep) -> Response:
    """End every session of the vendor (the page must get a new token from the marketplace)."""
    integration_id = await _signed_integration(request, uow)
    await vendor_api.sign_out(uow, integration_id, sub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- a marketplace's page ---------------------------------------------------------


@embed_router.post("/session", response_model=EmbedSessionOut, status_code=status.HTTP_201_CREATED)
async def start_session(request: Request, uow: UnitOfWorkDep) -> EmbedSessionOut:
    """Send `Authorization: Bearer <the marketplace's JWT>` from a registered Origin
    (docs/embedding.md). The answer's token is a bearer token bound to that Origin."""
    started = await embed.start_session(
        uow,
        request.app.state.secret_key,
        bearer_token(request) or "",
        request.headers.get("origin"),
        user_agent=request.headers.get("user-agent"),
        client_address=request.client.host if request.client else None,
    )
    user = started.user
    return EmbedSessionOut(
        token=started.token,
        expires_at=started.expires_at,
        user=EmbedUserOut(id=user.id, name=user.name, locale=user.locale),
        counts=EmbedCountsOut(unread=started.counts.unread, unseen=started.counts.unseen),
        vapid_public_key=request.app.state.keys.current.public_key,
    )


@embed_router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(request: Request, uow: UnitOfWorkDep, user: CurrentUser) -> Response:
    """End the session whose token is sent (its live sockets close)."""
    await revoke_token(uow, user, request.state.token, request.app.state.secret_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- admins -----------------------------------------------------------------------


@admin_router.get("", response_model=list[IntegrationOut])
async def list_integrations(session: SessionDep, admin: CurrentAdmin) -> list[IntegrationOut]:
    return [IntegrationOut.model_validate(i) for i in await registry.list_all(session)]


@admin_router.post("", response_model=IntegrationOut, status_code=status.HTTP_201_CREATED)
async def create_integration(
    body: IntegrationIn, uow: UnitOfWorkDep, admin: CurrentAdmin
) -> IntegrationOut:
    integration = await registry.create(
        uow,
        name=body.name,
        origins=body.allowed_origins,
        link_base=body.link_base,
        webhook_url=body.webhook_url,
        webhook_events=body.webhook_events,
    )
    return IntegrationOut.model_validate(integration)


@admin_router.get("/{integration_id}", response_model=IntegrationDetailOut)
async def get_integration(
    integration_id: str, session: SessionDep, admin: CurrentAdmin
) -> IntegrationDetailOut:
    integration = await registry.get(session, integration_id)
    keys = await embed_keys.list_keys(session, integration.id)
    return IntegrationDetailOut(
        **IntegrationOut.model_validate(integration).model_dump(),
        embed_keys=[EmbedKeyOut.model_validate(k) for k in keys],
    )


@admin_router.post(
    "/{integration_id}/embed-keys",
    response_model=GeneratedKeyOut,
    status_code=status.HTTP_201_CREATED,
)
async def add_embed_key(
    integration_id: str, body: EmbedKeyIn, session: SessionDep, admin: CurrentAdmin
) -> GeneratedKeyOut:
    """Store the marketplace's public key (`public_key_pem`), or make a pair (`generate`:
    the algorithm) whose private key is in this answer only."""
    integration = await registry.get(session, integration_id)
    private_pem = None
    if body.generate is not None:
        key, private_pem = await embed_keys.generate(session, integration.id, body.generate)
    else:
        key = await embed_keys.add(session, integration.id, body.public_key_pem or "", body.kid)
    return GeneratedKeyOut(
        **EmbedKeyOut.model_validate(key).model_dump(), private_key_pem=private_pem
    )


@admin_router.delete("/{integration_id}/embed-keys/{kid}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_embed_key(
    integration_id: str, kid: str, session: SessionDep, admin: CurrentAdmin
) -> Response:
    """Retire the key: tokens it signed sign no one in from now on."""
    integration = await registry.get(session, integration_id)
    await embed_keys.retire(session, integration.id, kid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
