"""Each push service (origin) as the worker sees it: its queue, concurrency, circuit
breaker and not-before time.

One push service that hangs or asks for a pause must not delay another's pushes, so
the delivery worker keeps this state per origin (per worker process):

- closed: up to `limit` pushes in flight: PUSH_SERVICE_CONCURRENCY, and more (up to
  PUSH_SERVICE_MAX_CONCURRENCY) while the service answers quickly and every slot it has
  is busy, one more per quick answer, so a broadcast to one fast service is not held to
  the base share. A failure, slow answers, or QUICK_SECONDS without any answer while
  pushes are in flight put it back to the base share at once: a service that starts to
  hang keeps only the slots it already holds and gets no new ones beyond the base.
  After `failures` timeouts or 429/5xx answers in a row the breaker opens.
- open: nothing is sent before `not_before` (a Retry-After, else the breaker's pause,
  doubling after each failed probe). Its claimed rows go back to the outbox, due then.
- half-open: the pause is over; one probe is in flight. An answer that is not a failure
  closes the breaker, a failure opens it again.

When the worker's backlog gets crowded, a slow service holds in memory only about
HOLD_SECONDS of its sending, judged from how fast it answers (or how long it has not):
rows beyond that go back to the outbox, so a service that hangs cannot fill the backlog
(and stop the claims for the others) before its breaker opens.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from server.core.config import Settings
from server.core.metrics import (
    PUSH_DEFERRED,
    PUSH_SERVICE_NOT_BEFORE,
    PUSH_SERVICE_SLOTS,
    PUSH_SERVICE_STATE,
)
from server.push.sender import Outcome, Request

CLOSED, HALF_OPEN, OPEN = 0, 1, 2
HOLD_SECONDS = 2.0  # a slow service keeps in memory about this much of its sending
SLOW_SECONDS = 2.0  # answers slower than this (or none for this long) make a service slow
# A service answering faster than this on average (and not silent this long) may grow its
# slots beyond the base share; real push services answer in tens of milliseconds.
QUICK_SECONDS = 0.5
UNLIMITED = 1 << 30
MAX_OPEN_SECONDS = 600.0  # the breaker's pause stops doubling here
LATENCY_WEIGHT = 0.2  # of the newest answer time in the running average
DEFER_MIN, DEFER_MAX = 1.0, 30.0  # when a backed-up service's extra rows are due again


@dataclass(frozen=True)
class ServiceRules:
    """The settings every push service's state follows."""

    concurrency: int  # the base share of slots
    failures: int
    open_seconds: float
    most: int = 0  # the slots a quickly answering service may grow to (≥ concurrency)


def service_rules(settings: Settings) -> ServiceRules:
    """PUSH_SERVICE_* settings; PER_ORIGIN_CONCURRENCY, when only it is set, is the
    older spelling of PUSH_SERVICE_CONCURRENCY (kept well below WORKER_CONCURRENCY, one
    service that hangs leaves the others room)."""
    concurrency = settings.push_service_concurrency
    given = settings.model_fields_set
    if "per_origin_concurrency" in given and "push_service_concurrency" not in given:
        concurrency = settings.per_origin_concurrency
    concurrency = max(1, concurrency)
    failures, pause = settings.push_service_failures, settings.push_service_open_seconds
    most = settings.push_service_max_concurrency
    if most is None:
        # A service that starts to hang holds at most its slots of the moment until they
        # time out: leave the others at least one base share of the worker's.
        most = settings.worker_concurrency - concurrency
    return ServiceRules(concurrency, failures, pause, max(concurrency, most))


def is_failure(outcome: Outcome) -> bool:
    """A timeout, a lost connection, or a 429/5xx: the service, not the message, failed."""
    return outcome.kind == "retry"


@dataclass(eq=False)
class ServiceState:
    """One push service: its waiting pushes, what is in flight, its breaker."""

    origin: str
    rules: ServiceRules
    ready: deque[Request] = field(default_factory=deque)  # encrypted, waiting for a slot
    queued: int = 0  # rows in memory not yet sent: being encrypted or in `ready`
    in_flight: int = 0
    state: int = CLOSED
    not_before: float = 0.0  # unix time
    failures: int = 0  # in a row
    opened: int = 0  # openings in a row without a good answer: doubles the pause
    latency: float = 0.0  # running average of an answer's seconds
    progress_at: float = 0.0  # the last answer, or the first send after an idle spell
    limit: int = 0  # slots while closed: the base share, grown while it answers quickly
    _metrics: tuple[Any, Any, Any, Any] | None = None

    def __post_init__(self) -> None:
        self._gauges()[0].set(CLOSED)  # listed in /metrics from its first push
        self._set_limit(self.rules.concurrency)

    @property
    def name(self) -> str:
        """host[:port], the `service` label of the metrics."""
        return self.origin.split("://", 1)[-1]

    def slots(self, now: float) -> int:
        """How many pushes may be in flight now."""
        if self.state == OPEN and now >= self.not_before:
            self._set_state(HALF_OPEN)
        if self.state == CLOSED:
            if self.limit > self.rules.concurrency and self._slowness(now) >= QUICK_SECONDS:
                self._set_limit(self.rules.concurrency)  # it stopped answering quickly
            return self.limit
        return 1 if self.state == HALF_OPEN else 0

    def may_wait(self, now: float, crowded: bool) -> int:
        """How many unsent rows this service may hold in memory now: none while open,
        a few behind a probe, and, when the worker's backlog is `crowded`, about
        HOLD_SECONDS of sending once it answers slowly or not at all (the lag of a busy
        event loop is far below SLOW_SECONDS)."""
        slots = self.slots(now)
        if self.state != CLOSED:
            return self.rules.concurrency if slots else 0
        slow = self._slowness(now)
        if not crowded or slow < SLOW_SECONDS:
            return UNLIMITED
        return slots + int(HOLD_SECONDS * slots / slow)

    def defer_seconds(self, now: float) -> float:
        """When rows this service cannot take now should be due again."""
        if self.state == OPEN and self.not_before > now:
            return self.not_before - now
        waited = self.queued * self._slowness(now) / max(1, self.limit)
        return min(DEFER_MAX, max(DEFER_MIN, waited))

    def _slowness(self, now: float) -> float:
        """Seconds an answer takes: the running average, or how long none has come."""
        return max(self.latency, now - self.progress_at if self.in_flight else 0.0)

    def sending(self, now: float) -> None:
        if not self.in_flight:
            self.progress_at = now
        self.in_flight += 1

    def answered(self, outcome: Outcome, now: float, seconds: float) -> bool:
        """Note one push's outcome; True when the service just became paused."""
        # Every slot it had was busy and more of its pushes wait: a candidate for one more.
        wanted_more = self.in_flight >= self.limit and self.queued > 0
        self.in_flight -= 1
        if outcome.status is not None or is_failure(outcome):
            self.progress_at = now
            self.latency += LATENCY_WEIGHT * (seconds - self.latency)
        if not is_failure(outcome):
            if outcome.status is not None and self.state != OPEN:
                # The service answered: a probe's success closes the breaker.
                self.failures = self.opened = 0
                self._set_state(CLOSED)
                self._adapt(wanted_more)
            return False
        self._set_limit(self.rules.concurrency)
        self.failures += 1
        if outcome.retry_after is not None:
            return self.pause(now, outcome.retry_after)  # RFC 9110 §10.2.3: asked to wait
        if self.state == HALF_OPEN or (
            self.state == CLOSED and self.failures >= self.rules.failures
        ):
            seconds = min(MAX_OPEN_SECONDS, self.rules.open_seconds * 2**self.opened)
            self.opened += 1
            return self.pause(now, seconds)
        return False

    def _adapt(self, wanted_more: bool) -> None:
        """One more slot per quick answer while all are busy (so the share doubles each
        round trip while that lasts); back to the base share once answers are slow."""
        if self.latency >= QUICK_SECONDS:
            self._set_limit(self.rules.concurrency)
        elif wanted_more and self.limit < self.rules.most:
            self._set_limit(self.limit + 1)

    def pause(self, now: float, seconds: float) -> bool:
        """Send nothing before now + seconds (a later pause already set stands)."""
        was_paused = self.state == OPEN and self.not_before > now
        self.not_before = max(self.not_before, now + seconds)
        self._set_state(OPEN)
        self._gauges()[1].set(self.not_before)
        return not was_paused

    def count_deferred(self, rows: int) -> None:
        self._gauges()[2].inc(rows)

    def _set_state(self, state: int) -> None:
        if state != self.state:
            self.state = state
            self._gauges()[0].set(state)

    def _set_limit(self, limit: int) -> None:
        if limit != self.limit:
            self.limit = limit
            self._gauges()[3].set(limit)

    def _gauges(self) -> tuple[Any, Any, Any, Any]:
        if self._metrics is None:
            name = self.name
            self._metrics = (
                PUSH_SERVICE_STATE.labels(service=name),
                PUSH_SERVICE_NOT_BEFORE.labels(service=name),
                PUSH_DEFERRED.labels(service=name),
                PUSH_SERVICE_SLOTS.labels(service=name),
            )
        return self._metrics
