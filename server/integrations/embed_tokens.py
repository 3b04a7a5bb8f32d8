"""Verifying the sign-in token a marketplace signs for one of its vendors (a JWT).

Refused before any signature is checked: a header naming `none`, HS256 or any algorithm
but ES256, EdDSA and RS256; no `kid`; a header that brings its own key or asks for
extensions (`jku`, `jwk`, `x5u`, `x5c`, `crit`). The key is then found by (`iss`,
`kid`) among the integration's active keys, and PyJWT verifies with only that key's
algorithm and that key object (whose type was asserted when it was stored and is again
here). Claims: `aud` must be PUBLIC_URL, `iat`, `exp` and `jti` are required, a token
may live 600 s at most (`exp - iat`), clocks may differ by 30 s.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.errors import AppError
from server.core.languages import negotiate
from server.core.text import check_line
from server.integrations import embed_keys
from server.integrations.models import EmbedKey

MAX_LIFETIME = 600  # seconds between iat and exp
LEEWAY = 30  # seconds of clock difference
MAX_TOKEN = 8192  # characters
REFUSED_HEADERS: Final = frozenset({"jku", "jwk", "x5u", "x5c", "crit"})
REQUIRED: Final = ["iss", "sub", "aud", "iat", "exp", "jti"]
PRINTABLE: Final = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")


class TokenRefused(AppError):
    status, code = 401, "token_invalid"


@dataclass(frozen=True)
class Profile:
    """What a marketplace says about its vendor (None: not said, left as it is)."""

    name: str | None = None
    email: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    shop_name: str | None = None


@dataclass(frozen=True)
class SignIn:
    integration_id: str
    sub: str
    jti: str
    expires_at: datetime
    key: EmbedKey
    profile: Profile


def refused(detail: str, code: str = "token_invalid") -> TokenRefused:
    return TokenRefused(detail, code=code)


def _header(token: str) -> tuple[str, str]:
    """(kid, alg) of a header we accept, or TokenRefused."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise refused("The token is not a JWT.") from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in embed_keys.ALGORITHMS:
        raise refused("The token's alg is not ES256, EdDSA or RS256.")
    if REFUSED_HEADERS & set(header):
        raise refused("The token's header may not carry jku, jwk, x5u, x5c or crit.")
    if not isinstance(kid, str) or not embed_keys.KID.fullmatch(kid):
        raise refused("The token's header must name its key (kid).")
    return kid, alg


def _unverified_issuer(token: str) -> str:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise refused("The token's claims are not JSON.") from None
    iss = claims.get("iss")
    if not isinstance(iss, str) or not 0 < len(iss) <= 40:
        raise refused("The token names no integration (iss).")
    return iss


def _verified_claims(token: str, key: EmbedKey, audience: str) -> dict[str, Any]:
    public_key, alg = embed_keys.load_public_key(key.public_key_pem)
    if alg != key.alg:  # the stored key changed type: never verify with another algorithm
        raise refused("The key's algorithm does not match its type.", "unknown_key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=[key.alg],
            audience=audience,
            issuer=key.integration_id,
            leeway=LEEWAY,
            options={"require": REQUIRED, "strict_aud": True},
        )
    except jwt.ExpiredSignatureError:
        raise refused("The token has expired.", "token_expired") from None
    except jwt.InvalidAudienceError:
        raise refused(
            "The token's aud is not this server's PUBLIC_URL.", "wrong_audience"
        ) from None
    except jwt.PyJWTError as exc:
        raise refused(f"The token was refused: {_reason(exc)}") from None
    return claims


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not match."
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the {exc.claim} claim is missing."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "it was issued in the future."
    return "it is malformed."


def _text(claims: dict[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise refused(f"The {name} claim must be text of at most {limit} characters.")
    try:
        return check_line(value.strip())
    except ValueError:
        raise refused(f"The {name} claim holds characters it may not.") from None


def _time_zone(claims: dict[str, Any]) -> str | None:
    value = _text(claims, "zoneinfo", 64)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise refused("The zoneinfo claim is not an IANA time zone (e.g. Europe/Berlin).") from None
    return value


def _email(claims: dict[str, Any]) -> str | None:
    value = _text(claims, "email", 320)
    if value is not None and ("@" not in value or " " in value):
        raise refused("The email claim is not an address.")
    return value.lower() if value else None


def profile_of(claims: dict[str, Any]) -> Profile:
    locale = _text(claims, "locale", 35)
    return Profile(
        name=_text(claims, "name", 120),
        email=_email(claims),
        locale=negotiate(locale) if locale else None,
        time_zone=_time_zone(claims),
        shop_name=_text(claims, "vb_shop", 120),
    )


def check_sub(sub: object) -> str:
    if not isinstance(sub, str) or not 0 < len(sub) <= 128 or not set(sub) <= PRINTABLE:
        raise refused("The sub claim must be 1-128 printable ASCII characters.")
    return sub


async def verify(session: AsyncSession, token: str, audience: str) -> SignIn:
    """The sign-in a marketplace vouches for, or TokenRefused (401) with the reason."""
    if not token or len(token) > MAX_TOKEN:
        raise refused("Send the marketplace's token as Authorization: Bearer <token>.")
    kid, alg = _header(token)
    key = await embed_keys.active_key(session, _unverified_issuer(token), kid)
    if key is None:
        raise refused("No active key of this integration has this kid.", "unknown_key")
    if alg != key.alg:
        raise refused(f"This key signs with {key.alg} only.")
    claims = _verified_claims(token, key, audience)
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int | float) or exp - iat > MAX_LIFETIME:
        raise refused(f"A token may live {MAX_LIFETIME} s at most (exp - iat).", "token_lifetime")
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 128:
        raise refused("The jti claim must be 1-128 characters.")
    return SignIn(
        integration_id=key.integration_id,
        sub=check_sub(claims["sub"]),
        jti=jti,
        expires_at=datetime.fromtimestamp(exp + LEEWAY, UTC),
        key=key,
        profile=profile_of(claims),
    )
