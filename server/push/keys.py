"""VAPID key pairs (RFC 8292) kept on disk: the current key plus older ones still in use.

Apple's and Google's push services reject a push signed with any key other than
the one the subscription was made with, so a rotation keeps old keys until no
subscription refers to them any more (`retire`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from server.core.config import Settings

log = logging.getLogger("vendorbell.push")

CURRENT_FILE = "current"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKey:
    """One VAPID key pair; `kid` is a short hash of the public key."""

    kid: str
    vapid: Vapid02 = field(repr=False)
    public_key: str  # base64url uncompressed P-256 point: the applicationServerKey

    @classmethod
    def from_private(cls, private_key: ec.EllipticCurvePrivateKey) -> VapidKey:
        vapid = Vapid02()
        vapid.private_key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        kid = hashlib.sha256(raw).hexdigest()[:16]
        return cls(kid=kid, vapid=vapid, public_key=b64url(raw))

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        key: ec.EllipticCurvePrivateKey = self.vapid.private_key
        return key


class KeyStore:
    """The VAPID keys in `keys_dir`: `vapid-<kid>.pem` files (0600) and a `current` pointer."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.keys: dict[str, VapidKey] = {}
        self.current_kid = ""
        self._stamp = 0.0

    @classmethod
    def load_or_create(cls, settings: Settings) -> KeyStore:
        """Load the keys, generating the first pair when there is none."""
        store = cls(settings.keys_dir)
        store.reload()
        if not store.current_kid:
            store.generate()
        return store

    @property
    def current(self) -> VapidKey:
        self.refresh()
        return self.keys[self.current_kid]

    def get(self, kid: str) -> VapidKey | None:
        """The key `kid` (looking on disk again: another process may have rotated)."""
        if kid not in self.keys:
            self.reload()
        return self.keys.get(kid)

    def refresh(self) -> None:
        """Pick up a rotation made by another process (cheap: one stat call)."""
        try:
            stamp = (self.directory / CURRENT_FILE).stat().st_mtime
        except FileNotFoundError:
            return
        if stamp != self._stamp:
            self.reload()

    def reload(self) -> None:
        keys: dict[str, VapidKey] = {}
        for path in sorted(self.directory.glob("vapid-*.pem")):
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if isinstance(loaded, ec.EllipticCurvePrivateKey):
                key = VapidKey.from_private(loaded)
                keys[key.kid] = key
        self.keys = keys
        pointer = self.directory / CURRENT_FILE
        if pointer.exists():
            self._stamp = pointer.stat().st_mtime
            kid = pointer.read_text().strip()
            self.current_kid = kid if kid in keys else ""
        if not self.current_kid and len(keys) == 1:
            self.current_kid = next(iter(keys))

    def generate(self) -> VapidKey:
        """Create a new key pair and make it current (new subscriptions use it)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = VapidKey.from_private(ec.generate_private_key(ec.SECP256R1()))
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.directory / f"vapid-{key.kid}.pem"
        # Created 0600 from the start: the private key is never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        pointer = self.directory / f".{CURRENT_FILE}.tmp"
        pointer.write_text(key.kid + "\n")
        pointer.replace(self.directory / CURRENT_FILE)
        self.keys[key.kid] = key
        self.current_kid = key.kid
        self._stamp = (self.directory / CURRENT_FILE).stat().st_mtime
        log.info("push.keys.generated", extra={"kid": key.kid})
        return key

    rotate = generate

    def created_at(self, kid: str) -> datetime | None:
        """When the key's file was written (it is never rewritten); None if it is gone."""
        try:
            stamp = (self.directory / f"vapid-{kid}.pem").stat().st_mtime
        except FileNotFoundError:
            return None
        return datetime.fromtimestamp(stamp, UTC)

    def retire(self, in_use: set[str]) -> list[str]:
        """Delete the old keys no subscription uses any more; return their ids."""
        self.reload()
        retired = [kid for kid in self.keys if kid != self.current_kid and kid not in in_use]
        for kid in retired:
            (self.directory / f"vapid-{kid}.pem").unlink(missing_ok=True)
            del self.keys[kid]
            log.info("push.keys.retired", extra={"kid": kid})
        return retired
