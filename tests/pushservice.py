"""A loopback test push service that behaves like a strict real one (RFC 8030/8291/8292).

It verifies the VAPID JWT (ES256 against `k=`, `aud` = its own origin, `exp` in
the future and at most 24 h ahead, `sub` mailto:/https:), requires `TTL`, checks
`Urgency`/`Topic` and the 4096-byte limit, then decrypts the body with the
subscription's private key — exactly what a browser could read — and records it.

Usage (async tests)::

    async with PushService() as service:
        device = service.subscribe()          # a browser-made subscription
        body = device.to_json()               # what PushSubscription.toJSON() gives
        ...
        message = await service.next_message(device)

`ThreadedPushService` runs the same server in a thread for synchronous callers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

URGENCIES = {"very-low", "low", "normal", "high"}
B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class BrowserSubscription:
    """What a browser holds: a P-256 key pair, a 16-byte auth secret, an endpoint."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def token(self) -> str:
        return self.endpoint.rstrip("/").rsplit("/", 1)[-1]

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """`PushSubscription.toJSON()`: the body the PWA posts to /api/push/subscriptions."""
        body: dict[str, Any] = {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }
        body.update(extra)
        return body

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return plain


def make_browser_subscription(endpoint: str) -> BrowserSubscription:
    """A subscription made the way a browser makes one (new key pair and auth secret)."""
    return BrowserSubscription(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


@dataclass
class Received:
    token: str
    plaintext: bytes
    headers: dict[str, str]
    claims: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.plaintext)


class PushServiceError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def verify_vapid(authorization: str, origin: str, now: float | None = None) -> dict[str, Any]:
    """RFC 8292: `vapid t=<JWT>, k=<public key>`; returns the verified claims."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise PushServiceError(401, f"authorization scheme {scheme!r} is not vapid")
    parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
    if "t" not in parts or "k" not in parts:
        raise PushServiceError(401, "vapid needs t= and k=")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        header_b64, claims_b64, signature_b64 = parts["t"].split(".")
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
    except (ValueError, json.JSONDecodeError) as exc:
        raise PushServiceError(401, f"malformed VAPID token: {exc}") from exc
    if header.get("alg") != "ES256" or len(signature) != 64:
        raise PushServiceError(401, "VAPID JWT must be ES256 with a 64-byte signature")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise PushServiceError(403, "VAPID signature does not verify against k=") from exc
    now = time.time() if now is None else now
    if claims.get("aud") != origin:
        raise PushServiceError(403, f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        raise PushServiceError(403, f"exp {exp!r} must be in the future and within 24 h")
    sub = str(claims.get("sub", ""))
    if not (sub.startswith("mailto:") or sub.startswith("https://")):
        raise PushServiceError(403, f"sub {sub!r} must be a mailto: or https: URL")
    return dict(claims)


def check_headers(request: web.Request) -> None:
    ttl = request.headers.get("TTL")
    if ttl is None or not ttl.isdigit():
        raise PushServiceError(400, "TTL header missing or not a number")
    urgency = request.headers.get("Urgency")
    if urgency is not None and urgency not in URGENCIES:
        raise PushServiceError(400, f"bad Urgency {urgency!r}")
    topic = request.headers.get("Topic")
    if topic is not None and (len(topic) > 32 or not topic or set(topic) - B64URL):
        raise PushServiceError(400, f"bad Topic {topic!r}")
    if request.headers.get("Content-Encoding") != "aes128gcm":
        raise PushServiceError(415, "Content-Encoding must be aes128gcm")


class PushService:
    """The loopback push service; `answer()` scripts replies per subscription."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.devices: dict[str, BrowserSubscription] = {}
        self.received: list[Received] = []
        self.rejected: list[tuple[str, int, str]] = []
        self.requests: dict[str, int] = defaultdict(int)
        self.arrivals: list[tuple[str, float]] = []  # (token, time.time()) of every push
        self._scripts: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self._count = 0
        # When set to an unset Event, every push waits for it before being answered.
        self.gate: asyncio.Event | None = None
        # Seconds each push waits before its answer: real push services answer in tens
        # of milliseconds, which is what bounds a worker's throughput in production.
        self.delay = 0.0
        # A blackholed service: while set, pushes are accepted and never answered (nor
        # recorded as received), until the service stops.
        self.hang = False
        self._stopping = asyncio.Event()
        self.in_flight = 0  # pushes received and not yet answered
        self.most_in_flight = 0

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> PushService:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/push/{token}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._changed = asyncio.Condition()
        return self

    async def stop(self) -> None:
        self._stopping.set()  # hung pushes end unanswered (the client gave up on them)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> PushService:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def subscribe(self) -> BrowserSubscription:
        """A new browser subscription whose endpoint is on this service."""
        self._count += 1
        token = f"dev{self._count}-{b64url(os.urandom(6))}"
        device = make_browser_subscription(f"{self.origin}/push/{token}")
        self.devices[token] = device
        return device

    def answer(
        self, device: BrowserSubscription, *statuses: int, retry_after: int | None = None
    ) -> None:
        """Reply with `statuses` (in turn) to the next pushes to `device`, then 201 again.
        A status repeated forever: pass it and call again, or use `always()`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._scripts.setdefault(device.token, []).extend((s, headers) for s in statuses)

    def always(self, device: BrowserSubscription, status: int) -> None:
        self._scripts[device.token] = [(status, {})] * 1_000_000

    def messages_for(self, device: BrowserSubscription) -> list[Received]:
        return [r for r in self.received if r.token == device.token]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until `count` messages in total have been received."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.received) >= count), timeout
            )
        return self.received

    async def _handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        self.requests[token] += 1
        self.arrivals.append((token, time.time()))
        if self.hang:
            await self._stopping.wait()
            return web.Response(status=503, text="hung")
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            status, headers = self._reply_for(token)
            if status != 201:
                return web.Response(status=status, headers=headers, text="scripted")
            received = await self._verify(request, token)
        except PushServiceError as exc:
            self.rejected.append((token, exc.status, exc.reason))
            return web.Response(status=exc.status, text=exc.reason)
        assert self._changed is not None
        async with self._changed:
            self.received.append(received)
            self._changed.notify_all()
        return web.Response(status=201, headers={"Location": f"{self.origin}/m/{token}"})

    def _reply_for(self, token: str) -> tuple[int, dict[str, str]]:
        if token not in self.devices:
            return 404, {}
        script = self._scripts.get(token)
        return script.pop(0) if script else (201, {})

    async def _verify(self, request: web.Request, token: str) -> Received:
        claims = verify_vapid(request.headers.get("Authorization", ""), self.origin)
        check_headers(request)
        body = await request.read()
        if len(body) > 4096:
            raise PushServiceError(413, f"payload of {len(body)} bytes exceeds 4096")
        try:
            plaintext = self.devices[token].decrypt(body)
        except Exception as exc:
            raise PushServiceError(400, f"cannot decrypt: {exc!r}") from exc
        return Received(token, plaintext, dict(request.headers), claims)


class ThreadedPushService:
    """The same service on its own event loop in a thread (for synchronous callers)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.service = PushService()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> PushService:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self.loop).result(10)
        return self.service

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def plaintexts(received: Iterable[Received]) -> list[Any]:
    return [r.json for r in received]
