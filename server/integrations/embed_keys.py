"""The public keys a marketplace signs its vendors' sign-in tokens with.

Each key is pinned to one algorithm, decided by its type: an EC P-256 key is ES256,
an Ed25519 key EdDSA, an RSA key (2048 bits or more) RS256; nothing else is taken. Two
keys may be active at once (the old and the new while a marketplace rotates); a
retired key signs no one in. A key's `kid` is its RFC 7638 thumbprint unless the
operator names it. `generate` makes a pair for a trial: the private key is returned
once and only the public key is stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.db import utcnow
from server.core.errors import Conflict, Invalid, NotFound
from server.integrations.models import EmbedKey

ALGORITHMS: Final = ("ES256", "EdDSA", "RS256")
MAX_ACTIVE = 2
MIN_RSA_BITS = 2048
KID = re.compile(r"[A-Za-z0-9._~-]{1,128}")

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey


class InvalidPublicKey(Invalid):
    code = "invalid_public_key"


class EmbedKeyNotFound(NotFound):
    code = "embed_key_not_found"


def load_public_key(pem: str) -> tuple[PublicKey, str]:
    """The key in `pem` and the one algorithm it verifies, or InvalidPublicKey."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InvalidPublicKey(
            "Not a PEM public key (-----BEGIN PUBLIC KEY-----); never send a private key."
        ) from exc
    return key_algorithm(key)


def key_algorithm(key: object) -> tuple[PublicKey, str]:
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "EdDSA"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
        return key, "RS256"
    raise InvalidPublicKey(
        f"Take an EC P-256 (ES256), Ed25519 (EdDSA) or RSA ≥ {MIN_RSA_BITS} bits (RS256) key."
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int, size: int | None = None) -> str:
    return _b64(value.to_bytes(size or (value.bit_length() + 7) // 8, "big"))


def thumbprint(key: PublicKey) -> str:
    """RFC 7638: SHA-256 of the required JWK members, sorted, without whitespace."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        jwk = {"crv": "P-256", "kty": "EC", "x": _int(numbers.x, 32), "y": _int(numbers.y, 32)}
    elif isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    else:
        rsa_numbers = key.public_numbers()
        jwk = {"e": _int(rsa_numbers.e), "kty": "RSA", "n": _int(rsa_numbers.n)}
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest())


async def add(
    session: AsyncSession, integration_id: str, pem: str, kid: str | None = None
) -> EmbedKey:
    """Store a public key for the integration; at most MAX_ACTIVE stay active."""
    key, alg = load_public_key(pem)
    kid = kid or thumbprint(key)
    if not KID.fullmatch(kid):
        raise Invalid("A kid is 1-128 characters of A-Z a-z 0-9 . _ ~ -.", code="invalid_kid")
    active = await session.scalar(
        select(func.count())
        .select_from(EmbedKey)
        .where(EmbedKey.integration_id == integration_id, EmbedKey.retired_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE:
        raise Conflict(
            f"The integration has {MAX_ACTIVE} active keys: retire one first.",
            code="too_many_keys",
        )
    public_pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    row = EmbedKey(integration_id=integration_id, kid=kid, alg=alg, public_key_pem=public_pem)
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("The integration has a key with this kid.", code="kid_taken") from exc
    return row


def new_private_key(
    alg: str,
) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise Invalid(f"alg must be one of {', '.join(ALGORITHMS)}.", code="unsupported_alg")


async def generate(session: AsyncSession, integration_id: str, alg: str) -> tuple[EmbedKey, str]:
    """A new pair: the public key stored, the private key's PKCS#8 PEM returned once."""
    private = new_private_key(alg)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    row = await add(session, integration_id, public_pem.decode())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return row, private_pem


async def retire(session: AsyncSession, integration_id: str, kid: str) -> EmbedKey:
    row = await session.scalar(
        select(EmbedKey).where(EmbedKey.integration_id == integration_id, EmbedKey.kid == kid)
    )
    if row is None:
        raise EmbedKeyNotFound("The integration has no key with this kid.")
    row.retired_at = row.retired_at or utcnow()
    await session.flush()
    return row


async def list_keys(session: AsyncSession, integration_id: str) -> Sequence[EmbedKey]:
    return (
        await session.scalars(
            select(EmbedKey).where(EmbedKey.integration_id == integration_id).order_by(EmbedKey.id)
        )
    ).all()


async def active_key(session: AsyncSession, integration_id: str, kid: str) -> EmbedKey | None:
    return await session.scalar(
        select(EmbedKey).where(
            EmbedKey.integration_id == integration_id,
            EmbedKey.kid == kid,
            EmbedKey.retired_at.is_(None),
        )
    )
