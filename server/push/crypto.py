"""RFC 8291 message encryption (aes128gcm, RFC 8188) with `cryptography` directly.

Same construction as http_ece's `encrypt(..., version="aes128gcm")`, which
pywebpush uses; written out because the HKDF steps here are plain HMACs (the
fixed-length, single-block case) and skip http_ece's generic record loop.
bench/bench_push.py measures both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

RECORD_SIZE = 4096
_P256 = ec.SECP256R1()
_CEK_INFO = b"Content-Encoding: aes128gcm\x00\x01"
_NONCE_INFO = b"Content-Encoding: nonce\x00\x01"
_RS = struct.pack("!I", RECORD_SIZE)


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, hashlib.sha256)


def encrypt_payload(plaintext: bytes, ua_public: bytes, auth_secret: bytes) -> bytes:
    """Encrypt one push message for the browser key `ua_public` (65 bytes) and `auth_secret`."""
    receiver = ec.EllipticCurvePublicKey.from_encoded_point(_P256, ua_public)
    # RFC 8291 §3.1: a fresh ECDH key pair for every message.
    ephemeral = ec.generate_private_key(_P256)
    as_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = ephemeral.exchange(ec.ECDH(), receiver)
    # §3.3-3.4: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || ua || as, 32)
    prk_key = _hmac(auth_secret, shared)
    ikm = _hmac(prk_key, b"WebPush: info\x00" + ua_public + as_public + b"\x01")
    salt = os.urandom(16)
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, _CEK_INFO)[:16]
    nonce = _hmac(prk, _NONCE_INFO)[:12]
    # RFC 8188 §2: one record, the last, so the padding delimiter is 0x02.
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    return salt + _RS + bytes((len(as_public),)) + as_public + ciphertext


def b64url_decode(value: str) -> bytes:
    """Web Push keys as browsers send them: base64url, padding optional."""
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def encrypt_batch(items: list[tuple[str, str, str]]) -> list[bytes | None]:
    """Encrypt (payload, p256dh, auth) triples, keys as stored (base64url); None for a
    subscription whose keys cannot be used. Runs in the encryption processes too, so it
    takes and returns plain data that pickles cheaply."""
    bodies: list[bytes | None] = []
    for payload, p256dh, auth in items:
        try:
            bodies.append(
                encrypt_payload(payload.encode(), b64url_decode(p256dh), b64url_decode(auth))
            )
        except ValueError:  # not a P-256 point, bad base64 (binascii.Error): this row fails
            bodies.append(None)
    return bodies
