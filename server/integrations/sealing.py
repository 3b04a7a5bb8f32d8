"""Sealing integration secrets at rest: AES-256-GCM under a key derived from SECRET_KEY.

Why not a hash, as for API tokens: verifying an HMAC signature needs the secret
itself. Why not derive the secret from SECRET_KEY and the key id: then SECRET_KEY
alone would reproduce every shop's secret; sealed random secrets need both the
database row and SECRET_KEY. Rotating SECRET_KEY therefore means re-issuing keys.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"vendorbell integration secrets v1"


class UnsealError(Exception):
    """The sealed secret does not open with this SECRET_KEY."""


def _aead(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return AESGCM(key)


def seal(secret_key: str, key_id: str, secret: str) -> str:
    """`key_id` is bound as associated data, so a sealed secret cannot move to another row."""
    nonce = os.urandom(12)
    sealed = _aead(secret_key).encrypt(nonce, secret.encode(), key_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(secret_key: str, key_id: str, sealed: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return _aead(secret_key).decrypt(raw[:12], raw[12:], key_id.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise UnsealError(key_id) from exc
