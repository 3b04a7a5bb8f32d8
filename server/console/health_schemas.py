"""The console's answers: push services, queues and workers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

CircuitState = Literal["closed", "half_open", "open"]
QueueName = Literal["push", "email", "webhooks"]


class PushWindow(BaseModel):
    """What one push service answered over one window (every POST, retries included)."""

    sent: int = Field(description="POSTs made to the service")
    delivered: int = Field(description="POSTs it accepted (2xx)")
    delivered_percent: float | None = Field(description="100 * delivered / sent; null: none sent")
    p50_ms: float | None = Field(description="median time from POST to answer; null: none sent")
    p99_ms: float | None = Field(description="99th percentile of the same")
    rate_limited: int = Field(description="429 answers")
    server_errors: int = Field(description="5xx answers")
    timeouts: int = Field(description="no answer: a timeout or a lost connection")


class PushServiceOut(BaseModel):
    service: str = Field(description="the push service's host[:port]")
    last_hour: PushWindow
    last_day: PushWindow
    circuit: CircuitState = Field(
        description="the breaker, the worst of the live delivery workers': open (sending "
        "nothing until next_try_at), half_open (one probe may go), closed"
    )
    next_try_at: datetime | None = Field(description="when an open breaker lets a probe through")


class PushServicesOut(BaseModel):
    generated_at: datetime
    retention_days: int = Field(description="answers older than this are deleted")
    oldest_kept_at: datetime | None = Field(description="the oldest answer still kept")
    services: list[PushServiceOut]


class QueueOut(BaseModel):
    name: QueueName
    pending: int = Field(description="due now and not being sent")
    in_flight: int = Field(description="claimed by a worker right now")
    delayed: int = Field(description="waiting to be due later (a retry's backoff, a pause)")
    oldest_pending_seconds: float | None = Field(
        description="how long the oldest pending item has been due"
    )
    stuck: bool = Field(description="the oldest pending item is older than stuck_after_seconds")
    oldest_kept_at: datetime | None = Field(description="the oldest row still kept, any status")


class WorkerOut(BaseModel):
    name: str = Field(description="host:pid")
    role: str
    loops: list[str]
    started_at: datetime
    beat_at: datetime
    beat_age_seconds: float
    alive: bool


class QueuesOut(BaseModel):
    generated_at: datetime
    retention_days: int = Field(description="finished rows older than this are deleted")
    stuck_after_seconds: float
    queues: list[QueueOut]
    workers: list[WorkerOut]
