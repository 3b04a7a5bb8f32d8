"""What a push service would check of each push the benchmark's sink received over TLS.

Every recorded message is decrypted with its subscription's private key (`http_ece`,
a reference RFC 8291 implementation, not vendorbell's own code) and its plaintext read
as a Declarative Web Push document with the expected title; its VAPID JWT (RFC 8292)
must verify against the expected application server key, name the sink's origin as
`aud` and expire within 24 h. A peer that sends garbage counts failures, not speed.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

TITLE = "Scheduled maintenance tonight"  # of every push the benchmark sends


class Refused(Exception):
    """Why one message would be refused or unreadable (a short, countable reason)."""


def unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class Message:
    """One POST as the sink received it: the subscription's index (last path segment),
    the headers that matter and the encrypted body."""

    index: str
    authorization: str
    encoding: str
    ttl: str
    body: bytes


@dataclass
class Checker:
    """Checks messages for subscriptions given as (private scalar, auth secret) per index."""

    vapid_key: str  # the application server key every JWT must carry as k=
    secrets: list[tuple[str, str]]  # base64url private scalar d, auth secret
    origin: str = ""  # the TLS listener's origin: every JWT's aud
    _signed: dict[str, None] = field(default_factory=dict)  # JWTs already verified

    @classmethod
    def from_file(cls, path: str) -> Checker:
        spec = json.loads(Path(path).read_text("utf-8"))
        return cls(spec["vapid_key"], [(d, auth) for d, auth in spec["secrets"]])

    def summary(self, messages: list[Message]) -> dict[str, Any]:
        """{'checked', 'verified', 'failed', 'reasons': {reason: count}}."""
        reasons: Counter[str] = Counter()
        for message in messages:
            try:
                self.check(message)
            except Refused as exc:
                reasons[str(exc)] += 1
        failed = sum(reasons.values())
        return {
            "checked": len(messages),
            "verified": len(messages) - failed,
            "failed": failed,
            "reasons": dict(reasons),
        }

    def check(self, message: Message) -> None:
        if message.encoding.lower() != "aes128gcm":
            raise Refused(f"Content-Encoding {message.encoding!r}")
        if not message.ttl.isdigit():
            raise Refused("no TTL")
        self.check_vapid(message.authorization)
        try:
            d, auth = self.secrets[int(message.index)]
            private_key = ec.derive_private_key(int.from_bytes(unb64(d), "big"), ec.SECP256R1())
        except (ValueError, IndexError) as exc:
            raise Refused("unknown subscription") from exc
        try:
            plain = http_ece.decrypt(
                message.body, private_key=private_key, auth_secret=unb64(auth), version="aes128gcm"
            )
        except Exception as exc:  # http_ece raises its own and cryptography's errors
            raise Refused("does not decrypt") from exc
        try:
            title = json.loads(plain)["notification"]["title"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused("plaintext is not a Declarative Web Push document") from exc
        if title != TITLE:
            raise Refused("unexpected plaintext")

    def check_vapid(self, authorization: str) -> None:
        """RFC 8292 `vapid t=<JWT>, k=<key>`; a JWT verified once is not verified again
        (vendorbell reuses one per origin; pywebpush and web-push sign one per push)."""
        scheme, _, params = authorization.partition(" ")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme.lower() != "vapid" or "t" not in parts or "k" not in parts:
            raise Refused("Authorization is not vapid t=, k=")
        if parts["k"].rstrip("=") != self.vapid_key:
            raise Refused("k= is not the application server key")
        token = parts["t"]
        if token in self._signed:
            claims: dict[str, Any] = json.loads(unb64(token.split(".")[1]))
        else:
            claims = self.verify_jwt(token, parts["k"])
            self._signed[token] = None
        now = time.time()
        if claims.get("aud") != self.origin:
            raise Refused("aud is not the push service's origin")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
            raise Refused("exp is not within 24 h")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
            raise Refused("sub is not mailto: or https:")

    @staticmethod
    def verify_jwt(token: str, key: str) -> dict[str, Any]:
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(unb64(header_b64))
            signature = unb64(signature_b64)
        except ValueError as exc:
            raise Refused("malformed VAPID JWT") from exc
        if header.get("alg") != "ES256" or len(signature) != 64:
            raise Refused("VAPID JWT is not ES256")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise Refused("VAPID signature does not verify") from exc
        claims: dict[str, Any] = json.loads(unb64(claims_b64))
        return claims
