"""The sender against a mocked push service (respx): every answer class, and JWT caching."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx

from server.core.config import Settings
from server.push.keys import KeyStore
from server.push.sender import JWT_LIFETIME, Job, Sender
from tests.conftest import make_settings
from tests.push.httpx_client import HttpxClient
from tests.pushservice import BrowserSubscription, make_browser_subscription, verify_vapid

FCM = "https://fcm.googleapis.com"
MOZ = "https://updates.push.services.mozilla.com"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sender_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, "sqlite+aiosqlite:///unused.db", push_allowed_hosts=[
        "fcm.googleapis.com", "*.push.services.mozilla.com"])  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sender(sender_settings: Settings, clock: Clock) -> AsyncIterator[Sender]:
    keys = KeyStore.load_or_create(sender_settings)
    result = Sender(sender_settings, keys, client=HttpxClient(httpx.AsyncClient()), clock=clock)
    yield result
    await result.close()


def job_for(device: BrowserSubscription, key_id: str, *, ttl: int = 3600) -> Job:
    keys = device.to_json()["keys"]
    now = datetime.now(UTC)
    return Job(
        id=7, payload='{"web_push":8030,"notification":{"title":"Hi","navigate":"https://x/"}}',
        urgency="high", topic="badge", created_at=now, expires_at=now + timedelta(seconds=ttl),
        attempts=1, subscription_id=3, endpoint=device.endpoint, p256dh=keys["p256dh"],
        auth=keys["auth"], key_id=key_id,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (201, "delivered"),
        (404, "gone"),
        (410, "gone"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (400, "failed"),
        (401, "failed"),
        (403, "failed"),
        (413, "failed"),
        (301, "failed"),
    ],
)
@respx.mock
async def test_each_answer_class_has_its_outcome(sender: Sender, status: int, kind: str) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    route = respx.post(device.endpoint).mock(
        return_value=httpx.Response(status, headers={"Location": "https://10.0.0.1/"})
    )

    outcome = await sender.send(job_for(device, sender.keys.current.kid))

    assert outcome.kind == kind
    assert outcome.status == status
    assert route.call_count == 1  # never retried inline, redirects never followed
    if kind == "failed":
        assert str(status) in (outcome.reason or "")


@respx.mock
async def test_the_request_is_one_a_browser_could_read(sender: Sender) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    route = respx.post(device.endpoint).mock(return_value=httpx.Response(201))

    await sender.send(job_for(device, sender.keys.current.kid, ttl=600))

    request = route.calls.last.request
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert 590 <= int(request.headers["TTL"]) <= 600
    assert request.headers["Urgency"] == "high"
    assert request.headers["Topic"] == "badge"
    claims = verify_vapid(request.headers["Authorization"], FCM, now=sender.signer.clock())
    assert claims["sub"] == sender.settings.vapid_subject
    assert device.decrypt(request.content).startswith(b'{"web_push":8030')


@respx.mock
async def test_retry_after_is_read_from_429(sender: Sender) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    respx.post(device.endpoint).mock(return_value=httpx.Response(429, headers={"Retry-After": "7"}))
    outcome = await sender.send(job_for(device, sender.keys.current.kid))
    assert (outcome.kind, outcome.retry_after) == ("retry", 7.0)


@respx.mock
async def test_timeouts_are_retried(sender: Sender) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    respx.post(device.endpoint).mock(side_effect=httpx.ConnectTimeout("slow"))
    outcome = await sender.send(job_for(device, sender.keys.current.kid))
    assert outcome.kind == "retry"


@respx.mock
async def test_jwt_is_signed_once_per_origin_and_reused(sender: Sender, clock: Clock) -> None:
    devices = [make_browser_subscription(f"{FCM}/fcm/send/{n}") for n in range(3)]
    devices.append(make_browser_subscription(f"{MOZ}/wpush/v2/xyz"))
    route_fcm = respx.post(url__startswith=FCM).mock(return_value=httpx.Response(201))
    route_moz = respx.post(url__startswith=MOZ).mock(return_value=httpx.Response(201))

    for device in devices:
        await sender.send(job_for(device, sender.keys.current.kid))

    assert sender.signer.signed == 2
    fcm_tokens = {c.request.headers["Authorization"] for c in route_fcm.calls}
    assert len(fcm_tokens) == 1
    # Each origin gets its own `aud` (a shared claims dict would leak FCM's to Mozilla).
    verify_vapid(route_moz.calls.last.request.headers["Authorization"], MOZ, now=clock.now)


@respx.mock
async def test_jwt_is_renewed_shortly_before_it_expires(sender: Sender, clock: Clock) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    route = respx.post(device.endpoint).mock(return_value=httpx.Response(201))
    kid = sender.keys.current.kid

    await sender.send(job_for(device, kid))
    clock.now += JWT_LIFETIME - 3600  # an hour left: still reused
    await sender.send(job_for(device, kid))
    clock.now += 3600 - 60  # a minute left: renewed
    await sender.send(job_for(device, kid))

    tokens = [c.request.headers["Authorization"] for c in route.calls]
    assert tokens[0] == tokens[1] != tokens[2]
    assert sender.signer.signed == 2
    verify_vapid(tokens[2], FCM, now=clock.now)


@respx.mock
async def test_each_subscription_is_signed_with_its_own_key(sender: Sender, clock: Clock) -> None:
    device_old = make_browser_subscription(f"{FCM}/fcm/send/old")
    old = sender.keys.current
    new = sender.keys.rotate()
    device_new = make_browser_subscription(f"{FCM}/fcm/send/new")
    route = respx.post(url__startswith=FCM).mock(return_value=httpx.Response(201))

    await sender.send(job_for(device_old, old.kid))
    await sender.send(job_for(device_new, new.kid))

    keys_used = [c.request.headers["Authorization"].rsplit("k=", 1)[1] for c in route.calls]
    assert keys_used == [old.public_key, new.public_key]


@respx.mock
async def test_expired_message_is_not_sent(sender: Sender) -> None:
    device = make_browser_subscription(f"{FCM}/fcm/send/abc")
    route = respx.post(device.endpoint).mock(return_value=httpx.Response(201))
    outcome = await sender.send(job_for(device, sender.keys.current.kid, ttl=-1))
    assert outcome.kind == "expired"
    assert route.call_count == 0
