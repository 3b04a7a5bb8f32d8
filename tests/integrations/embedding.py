"""Helpers for the embedding tests: a registered marketplace and the tokens it signs."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.integrations import embed_keys, keys, registry

SHOP = "https://shop.example"
AUDIENCE = "http://testserver"  # the tests' PUBLIC_URL


@dataclass
class Marketplace:
    id: str
    kid: str
    private_key: Any
    origin: str = SHOP
    hmac: tuple[str, str] = ("", "")
    headers: dict[str, str] = field(default_factory=dict)

    def token(
        self, sub: str = "v_1", *, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.id,
            "sub": sub,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(
            payload,
            self.private_key,
            algorithm="ES256",
            headers={"kid": self.kid, **(header or {})},
        )


async def register(app: Any, origins: tuple[str, ...] = (SHOP,), name: str = "Shop") -> Marketplace:
    """An integration with one ES256 key and one HMAC key, made as the CLI makes them."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    async with app.state.units.writer() as uow:
        integration = await registry.create(uow, name=name, origins=origins, link_base=origins[0])
        key = await embed_keys.add(uow.session, integration.id, pem.decode())
        hmac_key, secret = await keys.issue(uow.session, app.state.secret_key, name, integration.id)
        market = Marketplace(integration.id, key.kid, private, origins[0])
        market.hmac = (hmac_key.key_id, secret)
        await uow.commit()
    return market


async def exchange(
    client: httpx.AsyncClient, token: str, origin: str | None = SHOP
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if origin is not None:
        headers["Origin"] = origin
    return await client.post("/api/embed/session", headers=headers)


async def signed_in(
    client: httpx.AsyncClient, market: Marketplace, sub: str = "v_1", **claims: Any
) -> dict[str, Any]:
    r = await exchange(client, market.token(sub, **claims), market.origin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(session: dict[str, Any], origin: str | None = SHOP) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {session['token']}"}
    if origin is not None:
        headers["Origin"] = origin
    return headers
