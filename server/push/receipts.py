"""Receipt tokens: how a service worker without a session reports `shown` and `clicked`.

vendorbell's own worker reports with the PWA's cookie; a worker on a marketplace's origin
(the embed snippet) has no session and must send no cookie. So each push carries a token
of its own, added per device as the push is sent: `<device id>.<HMAC over the
notification, the device and the purpose>`. It proves only "vendorbell sent this
notification to this device", which is all a receipt needs; it cannot read or change
anything else, and a receipt for another notification does not verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = "receipt"  # the one purpose today: shown/clicked reports
_MAC_CHARS = 32  # 192 bits of the HMAC, base64url


def _mac(secret: str, notification_id: int, device_id: int, purpose: str) -> str:
    message = f"vendorbell.{purpose}.{notification_id}.{device_id}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]


def receipt_token(secret: str, notification_id: int, device_id: int) -> str:
    return f"{device_id}.{_mac(secret, notification_id, device_id, PURPOSE)}"


def receipt_device(secret: str, notification_id: int, token: str) -> int | None:
    """The device a valid token for `notification_id` was sent to, else None."""
    device, _, mac = token.partition(".")
    if not device.isascii() or not device.isdigit() or len(device) > 19:
        return None
    expected = _mac(secret, notification_id, int(device), PURPOSE)
    return int(device) if hmac.compare_digest(expected, mac) else None


# `,"receipt":"<19 digits>.<32 chars>"` at most: build_message keeps this room free.
ROOM = len(',"receipt":""') + 19 + 1 + _MAC_CHARS


def with_receipt(payload: str, token: str) -> str:
    """The push document (a JSON object) with its top-level `receipt`."""
    if not payload.endswith("}"):
        return payload
    return f'{payload[:-1]},"receipt":"{token}"}}'
