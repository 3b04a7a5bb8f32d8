"""Device tokens: how a service worker without a session reports `shown` and `clicked`
(receipt tokens, one per push) and replaces its own endpoint (renewal tokens).

vendorbell's own worker reports with the PWA's cookie; a worker on a marketplace's origin
(the embed snippet) has no session and must send no cookie. So each push carries a token
of its own, added per device as the push is sent: `<device id>.<HMAC over the
notification, the device and the purpose>`. It proves only "vendorbell sent this
notification to this device", which is all a receipt needs; it cannot read or change
anything else, and a receipt for another notification does not verify.

When a browser renews a subscription (`pushsubscriptionchange`), that worker must tell
vendorbell the new endpoint, still without a session. The device was handed a renewal
token when it subscribed: `<device id>.<HMAC over the device and its current endpoint>`.
It can only replace that one device's endpoint, and only once: the new endpoint makes
it stale, and the answer carries the next one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = "receipt"  # shown/clicked reports
RENEWAL = "renew"  # a new endpoint for the device
_MAC_CHARS = 32  # 192 bits of the HMAC, base64url


def _mac(secret: str, subject: int | str, device_id: int, purpose: str) -> str:
    message = f"vendorbell.{purpose}.{subject}.{device_id}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_MAC_CHARS]


def receipt_token(secret: str, notification_id: int, device_id: int) -> str:
    return f"{device_id}.{_mac(secret, notification_id, device_id, PURPOSE)}"


def token_device(token: str) -> int | None:
    """The device a token names (not yet verified), or None if it names none."""
    device, _, _mac_part = token.partition(".")
    if not device.isascii() or not device.isdigit() or len(device) > 19:
        return None
    return int(device)


def receipt_device(secret: str, notification_id: int, token: str) -> int | None:
    """The device a valid token for `notification_id` was sent to, else None."""
    device = token_device(token)
    if device is None:
        return None
    expected = _mac(secret, notification_id, device, PURPOSE)
    return device if hmac.compare_digest(expected, token.partition(".")[2]) else None


def _endpoint_digest(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def renewal_token(secret: str, device_id: int, endpoint: str) -> str:
    return f"{device_id}.{_mac(secret, _endpoint_digest(endpoint), device_id, RENEWAL)}"


def renewal_valid(secret: str, token: str, device_id: int, endpoint: str) -> bool:
    """Whether `token` is the renewal token of `device_id` while it has `endpoint`."""
    return hmac.compare_digest(renewal_token(secret, device_id, endpoint), token)


# `,"receipt":"<19 digits>.<32 chars>"` at most: build_message keeps this room free.
ROOM = len(',"receipt":""') + 19 + 1 + _MAC_CHARS


def with_receipt(payload: str, token: str) -> str:
    """The push document (a JSON object) with its top-level `receipt`."""
    if not payload.endswith("}"):
        return payload
    return f'{payload[:-1]},"receipt":"{token}"}}'
