"""`/api/admin/integrations`: what `python -m server integration|embed-key` does, for admins."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from server.accounts.deps import CurrentAdmin, SessionDep, UnitOfWorkDep
from server.integrations import embed_keys, registry
from server.integrations.schemas import (
    EmbedKeyIn,
    EmbedKeyOut,
    GeneratedKeyOut,
    IntegrationDetailOut,
    IntegrationIn,
    IntegrationOut,
)

router = APIRouter(prefix="/api/admin/integrations", tags=["admin"])


@router.get("", response_model=list[IntegrationOut])
async def list_integrations(session: SessionDep, admin: CurrentAdmin) -> list[IntegrationOut]:
    return [IntegrationOut.model_validate(i) for i in await registry.list_all(session)]


@router.post("", response_model=IntegrationOut, status_code=status.HTTP_201_CREATED)
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


@router.get("/{integration_id}", response_model=IntegrationDetailOut)
async def get_integration(
    integration_id: str, session: SessionDep, admin: CurrentAdmin
) -> IntegrationDetailOut:
    integration = await registry.get(session, integration_id)
    keys = await embed_keys.list_keys(session, integration.id)
    return IntegrationDetailOut(
        **IntegrationOut.model_validate(integration).model_dump(),
        embed_keys=[EmbedKeyOut.model_validate(k) for k in keys],
    )


@router.post(
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


@router.delete("/{integration_id}/embed-keys/{kid}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_embed_key(
    integration_id: str, kid: str, session: SessionDep, admin: CurrentAdmin
) -> Response:
    """Retire the key: tokens it signed sign no one in from now on."""
    integration = await registry.get(session, integration_id)
    await embed_keys.retire(session, integration.id, kid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
