"""The vendor API a marketplace's backend calls (signed with its integration key):
parse what it sent, call server.integrations.vendors, answer in the API's shapes."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from server.accounts.models import User
from server.core.errors import AppError, Forbidden, Invalid
from server.core.unit_of_work import UnitOfWork
from server.integrations import vendors
from server.integrations.models import IntegrationKey
from server.integrations.schemas import BulkItemOut, BulkOut, BulkVendorIn, VendorIn, VendorOut

MAX_BULK = 1000
M = TypeVar("M", bound=BaseModel)


class BulkIn(BaseModel):
    vendors: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BULK)


def integration_of(key: IntegrationKey) -> str:
    if key.integration_id is None:
        raise Forbidden(
            "This key belongs to no integration: make one with --integration.",
            code="integration_key_required",
        )
    return key.integration_id


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def parse(model: type[M], body: bytes | dict[str, Any], code: str = "invalid_vendor") -> M:
    try:
        data = body if isinstance(body, dict) else json.loads(body)
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(_first_error(exc), code=code) from exc
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise Invalid("The body is not valid JSON.", code="malformed_json") from exc


def vendor_out(user: User) -> VendorOut:
    return VendorOut(
        id=user.id,
        sub=user.external_sub or "",
        name=user.name,
        email=user.email or None,
        locale=user.locale,
        zoneinfo=user.time_zone,
        shop_name=user.shop_name,
        disabled=user.disabled_at is not None,
        created_at=user.created_at,
    )


async def _upsert(
    uow: UnitOfWork, integration_id: str, sub: str, body: VendorIn
) -> tuple[User, bool]:
    return await vendors.upsert(uow, integration_id, sub, vendors.profile_of(body), body.disabled)


async def put(
    uow: UnitOfWork, integration_id: str, sub: str, body: bytes
) -> tuple[VendorOut, bool]:
    user, created = await _upsert(uow, integration_id, sub, parse(VendorIn, body))
    return vendor_out(user), created


async def bulk(uow: UnitOfWork, integration_id: str, body: bytes) -> BulkOut:
    """Each item on its own savepoint: one refused item leaves the others done."""
    items = parse(BulkIn, body, "invalid_bulk").vendors
    results: list[BulkItemOut] = []
    for item in items:
        sub = item.get("sub") if isinstance(item.get("sub"), str) else None
        try:
            async with uow.session.begin_nested():
                parsed = parse(BulkVendorIn, item)
                user, created = await _upsert(uow, integration_id, parsed.sub, parsed)
        except AppError as exc:
            results.append(BulkItemOut(sub=sub, status="failed", code=exc.code, detail=exc.detail))
            continue
        status = "created" if created else "updated"
        results.append(BulkItemOut(sub=parsed.sub, status=status, id=user.id))
    return BulkOut(results=results)


async def delete(uow: UnitOfWork, integration_id: str, sub: str) -> None:
    await vendors.remove(uow, integration_id, sub)


async def sign_out(uow: UnitOfWork, integration_id: str, sub: str) -> None:
    await vendors.sign_out(uow, await vendors.get(uow, integration_id, sub))
