"""/metrics: Prometheus text that parses, and figures that move with traffic."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.core.logs import JSONFormatter
from server.ops.observability import RequestMetricsMiddleware
from server.push.models import PushSubscription
from tests.conftest import Accounts, place_order
from tests.pushservice import PushService


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def add_device(app: Any, user_id: str, n: int = 1) -> None:
    async with app.state.db.writer() as session:
        session.add(
            PushSubscription(
                user_id=int(user_id),
                endpoint=f"http://127.0.0.1:9/push/{user_id}-{n}",
                p256dh="BPx",
                auth="auth",
                vapid_key_id="test",
            )
        )
        await session.commit()


async def test_metrics_parse_and_count_requests_by_route_template(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    key = (
        "vendorbell_http_requests_total",
        (("route", "/api/orders/{order_id}"), ("status", "200")),
    )
    before = (await scrape(client)).get(key, 0.0)
    order = await place_order(client, customer, vendor)
    for _ in range(3):
        r = await client.get(f"/api/orders/{order['id']}", headers=vendor.headers)
        assert r.status_code == 200
    after = await scrape(client)
    assert after[key] == before + 3
    # Raw paths never become labels: the id is not in any series.
    raw = f"/api/orders/{order['id']}"
    assert not any(raw in dict(labels).get("route", "") for _, labels in after)


async def test_queue_depth_and_oldest_age_move_when_a_push_is_queued(
    app: Any, client: httpx.AsyncClient, accounts: Accounts
) -> None:
    vendor, customer = await accounts.vendor(), await accounts.customer()
    depth_key = ("vendorbell_push_queue_depth", ())
    before = (await scrape(client))[depth_key]
    await add_device(app, vendor.id, 1)
    await add_device(app, vendor.id, 2)
    await place_order(client, customer, vendor)
    after = await scrape(client)
    assert after[depth_key] == before + 2
    assert after[("vendorbell_push_queue_oldest_due_age_seconds", ())] >= 0


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    # No route matches them (the PWA's catch-all leaves /api alone): one label, whatever
    # the path, so a scan of made-up paths cannot grow the metric without bound.
    key = ("vendorbell_http_requests_total", (("route", "unmatched"), ("status", "404")))
    before = (await scrape(client)).get(key, 0.0)
    assert (await client.get("/api/no-such-thing-1")).status_code == 404
    assert (await client.get("/api/no-such-thing-2")).status_code == 404
    assert (await scrape(client))[key] == before + 2


async def test_every_response_carries_a_request_id_and_echoes_a_clean_one(
    client: httpx.AsyncClient,
) -> None:
    generated = await client.get("/api/vendors")
    assert len(generated.headers["x-request-id"]) == 32
    echoed = await client.get("/api/vendors", headers={"X-Request-ID": "edge-42.a"})
    assert echoed.headers["x-request-id"] == "edge-42.a"
    refused = await client.get("/api/vendors", headers={"X-Request-ID": "bad id\n{}"})
    assert refused.headers["x-request-id"] != "bad id\n{}"


async def test_log_lines_carry_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        logging.getLogger("vendorbell.test").info("test.event", extra={"n": 1})
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    caplog.set_level(logging.INFO, logger="vendorbell.test")
    transport = httpx.ASGITransport(app=RequestMetricsMiddleware(endpoint))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as tiny:
        response = await tiny.get("/", headers={"X-Request-ID": "req-abc"})
    assert response.headers["x-request-id"] == "req-abc"
    [record] = [r for r in caplog.records if r.name == "vendorbell.test"]
    line = json.loads(JSONFormatter().format(record))
    assert line["event"] == "test.event" and line["request_id"] == "req-abc"
    logging.getLogger("vendorbell.test").info("outside.request")
    assert not hasattr(caplog.records[-1], "request_id")


async def test_a_sent_push_moves_the_push_counters_and_latency(
    worker_client: httpx.AsyncClient, worker_accounts: Accounts, push_service: PushService
) -> None:
    vendor, customer = await worker_accounts.vendor(), await worker_accounts.customer()
    device = push_service.subscribe()
    r = await worker_client.post(
        "/api/push/subscriptions", json=device.to_json(), headers=vendor.headers
    )
    assert r.status_code == 201, r.text
    before = await scrape(worker_client)
    await place_order(worker_client, customer, vendor)
    await push_service.wait_for(1, timeout=15)
    depth = ("vendorbell_push_queue_depth", ())
    after = await scrape(worker_client)
    for _ in range(100):  # the worker commits the outcome just after the 201 arrives
        if _delivered(after) > _delivered(before) and after[depth] == 0:
            break
        await asyncio.sleep(0.05)
        after = await scrape(worker_client)
    assert _delivered(after) == _delivered(before) + 1
    assert after[depth] == 0
    count = ("vendorbell_push_delivery_seconds_count", ())
    assert after[count] == before.get(count, 0.0) + 1


def _delivered(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    return sum(
        v
        for (name, labels), v in samples.items()
        if name == "vendorbell_pushes_total" and dict(labels).get("outcome") == "delivered"
    )
