"""Prometheus metrics shared by every feature (exposed at /metrics).

Defined in one place so that the push worker, the WebSocket hub and the HTTP
middleware all write to the same registry without importing each other.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PUSHES = Counter(
    "vendorbell_pushes_total",
    "Push messages sent to push services, by outcome and push service host",
    ["outcome", "service"],
)
PUSH_LATENCY = Histogram(
    "vendorbell_push_delivery_seconds",
    "From the notification's commit to the push service's 201",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
WS_CONNECTIONS = Gauge(
    "vendorbell_websocket_connections", "Open WebSocket connections in this process"
)
HTTP_REQUESTS = Counter(
    "vendorbell_http_requests_total",
    "HTTP requests by route template and status",
    ["route", "status"],
)
QUEUE_DEPTH = Gauge(
    "vendorbell_push_queue_depth", "Push deliveries waiting to be sent (status queued)"
)
QUEUE_OLDEST_DUE_AGE = Gauge(
    "vendorbell_push_queue_oldest_due_age_seconds",
    "How long the oldest due queued push delivery has been waiting (0 when none is due)",
)
WORKER_HEARTBEAT_AGE = Gauge(
    "vendorbell_worker_heartbeat_age_seconds",
    "Seconds since each worker process (role all or worker, `host:pid`) last recorded that "
    "it is alive; read from the database when scraped, so any process reports every worker",
    ["worker"],
)
WORKERS_ALIVE = Gauge(
    "vendorbell_workers_alive",
    "Worker processes whose last heartbeat is recent (within 3 heartbeat intervals)",
)
CACHE_INVALIDATIONS = Counter(
    "vendorbell_cache_invalidations_received_total",
    "Cache invalidations this process applied from Redis (its own writes included)",
)
PUSH_SERVICE_STATE = Gauge(
    "vendorbell_push_service_state",
    "Circuit breaker of each push service in this worker: 0 closed, 1 half-open (one probe), "
    "2 open (nothing sent before its not-before time; half-open with the next push after it)",
    ["service"],
)
PUSH_SERVICE_NOT_BEFORE = Gauge(
    "vendorbell_push_service_not_before_timestamp_seconds",
    "Unix time before which this worker sends nothing to the push service (Retry-After or "
    "the breaker's pause); in the past when it is not paused",
    ["service"],
)
PUSH_SERVICE_SLOTS = Gauge(
    "vendorbell_push_service_slots",
    "Pushes this worker may have in flight to the push service while its breaker is closed: "
    "PUSH_SERVICE_CONCURRENCY, grown up to PUSH_SERVICE_MAX_CONCURRENCY while it answers quickly",
    ["service"],
)
PUSH_DEFERRED = Counter(
    "vendorbell_push_deferred_total",
    "Claimed pushes handed back to the outbox unsent, due when their push service may be "
    "tried again (paused, open, or too backed up to send them soon)",
    ["service"],
)
