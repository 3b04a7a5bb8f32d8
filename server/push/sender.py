"""Sends one push message: encrypt, sign (cached VAPID JWT), POST, classify the answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple, Protocol

from server.core.config import Settings
from server.push.crypto import encrypt_batch
from server.push.endpoints import (
    EndpointTarget,
    PushURL,
    RefusedAddress,
    UnsafeEndpoint,
    check_url,
    parse_push_url,
)
from server.push.http1 import Http1Client, UnsafeRequest
from server.push.keys import KeyStore, VapidKey
from server.push.receipts import receipt_token, with_receipt

log = logging.getLogger("vendorbell.push")

# RFC 8292 §2: exp at most 24 h ahead. 12 h like pywebpush; re-signed 10 min early
# so a token never expires in flight or against a push service's clock skew.
JWT_LIFETIME = 12 * 3600
JWT_MARGIN = 600
SEND_TIMEOUT = 15.0  # the default of PUSH_SEND_TIMEOUT
MAX_RETRY_AFTER = 24 * 3600


class Job(NamedTuple):
    """One claimed delivery row joined with its subscription (a tuple: built per row
    of a claim, where a frozen dataclass's __init__ was a visible cost)."""

    id: int
    payload: str
    urgency: str
    topic: str | None
    created_at: datetime
    expires_at: datetime
    attempts: int
    subscription_id: int | None
    endpoint: str | None
    p256dh: str | None
    auth: str | None
    key_id: str | None
    notification_id: int | None = None  # for the push's receipt token


@dataclass(frozen=True)
class Outcome:
    """delivered | gone | retry | failed | expired | deferred (not sent: its push service
    was paused; `retry_after` says when it is due again), with what the service said."""

    kind: str
    status: int | None = None
    reason: str | None = None
    retry_after: float | None = None
    service: str = ""
    seconds: float | None = None  # from the POST to its answer; None when never sent


class PushClient(Protocol):
    """POSTs one push. Raises RefusedAddress (the address is refused: failed),
    UnsafeRequest (a header that is not one plain line: failed), or TimeoutError /
    OSError for anything on the way (retried). The service uses Http1Client; the tests
    and benchmarks bring their own clients to compare with."""

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Mapping[str, str], str]: ...

    async def close(self) -> None: ...


class VapidSigner:
    """VAPID Authorization headers, signed once per (push-service origin, key)."""

    def __init__(self, subject: str, clock: Callable[[], float] = time.time) -> None:
        self.subject = subject
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self.signed = 0

    def header(self, origin: str, key: VapidKey) -> str:
        now = self.clock()
        cached = self._cache.get((origin, key.kid))
        if cached is not None and cached[1] - JWT_MARGIN > now:
            return cached[0]
        exp = int(now) + JWT_LIFETIME
        # A fresh claims dict for every origin: a shared one would carry a stale `aud`.
        claims = {"aud": origin, "exp": exp, "sub": self.subject}
        value: str = key.vapid.sign(claims)["Authorization"]
        self._cache[(origin, key.kid)] = (value, exp)
        self.signed += 1
        return value


def retry_after_seconds(value: str | None) -> float | None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), MAX_RETRY_AFTER)


def classify(status: int, headers: Mapping[str, str], text: str, service: str) -> Outcome:
    """RFC 8030 answers: 201 delivered, 404/410 gone, 429/5xx retry, other 4xx failed."""
    if 200 <= status < 300:
        return Outcome("delivered", status, service=service)
    if status in (404, 410):
        return Outcome("gone", status, f"subscription gone ({status})", service=service)
    if status == 429 or status >= 500:
        wait = retry_after_seconds(headers.get("Retry-After"))
        reason = f"push service answered {status}"
        return Outcome("retry", status, reason, retry_after=wait, service=service)
    if 300 <= status < 400:
        return Outcome("failed", status, f"redirect ({status}) not followed", service=service)
    detail = f": {text.strip()}" if text.strip() else ""
    return Outcome("failed", status, f"push service refused ({status}){detail}", service=service)


UNUSABLE_KEYS = "subscription keys are not a usable P-256 key and auth secret"
TARGET_CACHE = 4096  # origins whose check_url answer is remembered


@dataclass(slots=True)
class Request:
    """An encrypted, signed push for one job, ready to POST."""

    job: Job
    target: EndpointTarget
    headers: dict[str, str]
    body: bytes
    url: PushURL | None = None  # the endpoint as parsed when the job was screened


class Sender:
    """Encrypts and sends deliveries through one pooled client.

    The worker drives the steps itself (`screen`, encrypt in batches, `request`,
    `post`) so that encryption can run in other processes, and limits what is in
    flight per push service (server.push.services); `send` does all the steps for
    one job.
    """

    def __init__(
        self,
        settings: Settings,
        keys: KeyStore,
        client: PushClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.keys = keys
        self.client: PushClient = client or Http1Client(
            settings, timeout=settings.push_send_timeout
        )
        self.signer = VapidSigner(settings.vapid_subject, clock)
        self._receipt_secret = settings.resolved_secret_key()
        self._targets: dict[str, EndpointTarget | UnsafeEndpoint] = {}
        # The own client takes the endpoint as screened; any other gets the URL text.
        self._post_url = self.client.post_url if isinstance(self.client, Http1Client) else None

    def _target(self, url: PushURL) -> EndpointTarget:
        """check_url, remembered per origin: once the URL parses as plain, the rest of
        the check reads only its scheme, host and port and the fixed settings, and a
        fan-out's endpoints all differ (a full check each was ~5% of a push's CPU).
        The addresses are checked again on every new connection."""
        origin = url.origin
        found = self._targets.get(origin)
        if found is None:
            try:
                found = check_url(origin + "/", self.settings)
            except UnsafeEndpoint as exc:
                found = exc
            if len(self._targets) >= TARGET_CACHE:
                self._targets.clear()
            self._targets[origin] = found
        if isinstance(found, UnsafeEndpoint):
            raise found
        return found

    def screen(self, job: Job, now: float) -> tuple[EndpointTarget, VapidKey, PushURL] | Outcome:
        """Where `job` goes (its push service, its endpoint parsed: the send uses it
        rather than parse it again) and which key signs it, or why it will not be sent."""
        if job.endpoint is None or job.p256dh is None or job.auth is None or job.key_id is None:
            return Outcome("failed", reason="subscription deleted")
        if job.expires_at.timestamp() <= now:
            return Outcome("expired", reason="TTL ran out before delivery")
        try:
            url = parse_push_url(job.endpoint)
            target = self._target(url)
        except UnsafeEndpoint as exc:
            return Outcome("failed", reason=f"endpoint refused: {exc.code}")
        key = self.keys.get(job.key_id)
        if key is None:
            return Outcome("failed", reason=f"VAPID key {job.key_id} is missing")
        return target, key, url

    def request(
        self,
        job: Job,
        target: EndpointTarget,
        key: VapidKey,
        body: bytes,
        url: PushURL | None = None,
    ) -> Request:
        """The headers for an encrypted `body`: TTL left, Urgency, Topic, VAPID."""
        ttl = max(0, int(job.expires_at.timestamp() - time.time()))
        headers = {
            "TTL": str(ttl),
            "Urgency": job.urgency,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": self.signer.header(target.origin, key),
        }
        if job.topic:
            headers["Topic"] = job.topic
        return Request(job, target, headers, body, url)

    def payload(self, job: Job) -> str:
        """The job's document with this device's receipt token (server.push.receipts)."""
        if job.notification_id is None or job.subscription_id is None:
            return job.payload
        token = receipt_token(self._receipt_secret, job.notification_id, job.subscription_id)
        return with_receipt(job.payload, token)

    async def send(self, job: Job) -> Outcome:
        """Deliver one message, encrypted inline; never raises."""
        checked = self.screen(job, time.time())
        if isinstance(checked, Outcome):
            return checked
        assert job.payload and job.p256dh and job.auth
        body = encrypt_batch([(self.payload(job), job.p256dh, job.auth)])[0]
        if body is None:
            return Outcome("failed", reason=UNUSABLE_KEYS)
        target, key, url = checked
        return await self.post(self.request(job, target, key, body, url))

    async def post(self, request: Request) -> Outcome:
        """POST one prepared push and classify the answer; never raises."""
        origin = request.target.origin
        service = origin.split("://", 1)[1]
        assert request.job.endpoint is not None
        try:
            if request.url is not None and self._post_url is not None:
                status, answer_headers, text = await self._post_url(
                    request.url, request.headers, request.body
                )
            else:
                status, answer_headers, text = await self.client.post(
                    request.job.endpoint, request.headers, request.body
                )
        except RefusedAddress as exc:
            return Outcome("failed", reason=f"endpoint refused: {exc.code}")
        except UnsafeRequest as exc:
            return Outcome("failed", reason=f"request refused: {exc}")
        except (TimeoutError, OSError) as exc:
            return Outcome("retry", reason=f"network error: {type(exc).__name__}", service=service)
        except Exception:
            # A sender task must outlive any answer: an unforeseen error is retried.
            log.exception("push.send.unexpected_error")
            return Outcome("retry", reason="unexpected error while sending", service=service)
        return classify(status, answer_headers, text, service)

    async def close(self) -> None:
        await self.client.close()
