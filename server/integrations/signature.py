"""`Vendorbell-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.

The same scheme as Stripe's webhook signatures: the timestamp is signed with the
body, so a captured request cannot be replayed later than TOLERANCE, and several
`v1=` values may be sent while a shop rolls over to a new key.
"""

from __future__ import annotations

import hashlib
import hmac

from server.core.errors import AppError
from server.core.ids import is_ascii_digits

SIGNATURE_HEADER = "Vendorbell-Signature"
KEY_HEADER = "Vendorbell-Key"
TOLERANCE = 300  # seconds


class BadSignature(AppError):
    status, code = 401, "invalid_signature"


def compute(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """What a shop sends (used by the tests and shown in docs/integrations.md)."""
    return f"t={timestamp},v1={compute(secret, timestamp, body)}"


def _parse(value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t" and is_ascii_digits(item) and len(item) <= 12:
            timestamp = int(item)
        elif name == "v1" and item:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise BadSignature(
            f"{SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>.",
            code="malformed_signature",
        )
    return timestamp, signatures


def verify(value: str, secret: str, body: bytes, now: float) -> None:
    """Raise unless one v1 signature matches and the timestamp is within TOLERANCE."""
    timestamp, signatures = _parse(value)
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise BadSignature("The signature does not match the body.")
    if abs(now - timestamp) > TOLERANCE:
        raise BadSignature(
            f"The signature's timestamp is more than {TOLERANCE} s from now: refused as a replay.",
            code="stale_timestamp",
        )
