"""`POST /api/events` and `/api/integrations/vendors` for shops and marketplaces (HMAC
signed), and `/api/admin/integration-keys` for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from server.accounts.deps import CurrentAdmin, SessionDep, UnitOfWorkDep
from server.integrations import events, keys, signature, vendor_api
from server.integrations.schemas import BulkOut, EventOut, KeyIn, KeyOut, NewKeyOut, VendorOut

router = APIRouter(tags=["integrations"])


class VendorSub(StringConvertor):
    """A marketplace's vendor id in a path; `bulk` alone is the bulk operation's, so that
    `/api/integrations/vendors/bulk` is one resource (POST) and never a vendor's too."""

    regex = r"(?!bulk$)[^/]+"


register_url_convertor("vendor_sub", VendorSub())


@router.post(
    "/api/events",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EventOut, "description": "already received (same id and body)"}},
)
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
    if not created:
        response.status_code = status.HTTP_200_OK
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
    response_model=VendorOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": VendorOut, "description": "known vendor, updated"}},
)
async def put_vendor(
    sub: str, request: Request, response: Response, uow: UnitOfWorkDep
) -> VendorOut:
    """Create or update one of the marketplace's vendors (signed as /api/events)."""
    integration_id = await _signed_integration(request, uow)
    answer, created = await vendor_api.put(uow, integration_id, sub, await request.body())
    if not created:
        response.status_code = status.HTTP_200_OK
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
