"""An order rings the vendor's devices: real app, real worker, real loopback push service."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Accounts, place_order
from tests.pushservice import PushService


async def subscribe(client: httpx.AsyncClient, headers: dict[str, str], body: dict) -> dict:
    response = await client.post("/api/push/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def settled_notification(client: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    for _ in range(200):
        [item] = (await client.get("/api/notifications", headers=headers)).json()["items"]
        if item["push"]["queued"] == 0:
            return item
        await asyncio.sleep(0.02)
    raise AssertionError(f"push outcomes not recorded: {item['push']}")


async def test_order_reaches_every_device_gone_one_is_deleted_busy_one_retried(
    worker_client: httpx.AsyncClient, worker_accounts: Accounts, push_service: PushService
) -> None:
    vendor = await worker_accounts.vendor()
    customer = await worker_accounts.customer()
    phone, laptop, gone, busy = (push_service.subscribe() for _ in range(4))
    push_service.answer(gone, 410)
    push_service.answer(busy, 429, retry_after=1)
    for label, device in (("phone", phone), ("laptop", laptop), ("old", gone), ("busy", busy)):
        await subscribe(worker_client, vendor.headers, device.to_json(label=label))

    order = await place_order(worker_client, customer, vendor)

    await push_service.wait_for(3, timeout=15)
    for device in (phone, laptop, busy):
        [message] = push_service.messages_for(device)
        doc = message.json
        assert doc["web_push"] == 8030
        assert doc["notification"]["navigate"] == f"http://testserver/orders/{order['id']}"
        assert order["number"] in doc["notification"]["title"] + doc["notification"]["body"]
        assert message.headers["Urgency"] == "high"
    assert push_service.requests[busy.token] == 2
    assert push_service.messages_for(gone) == []

    # The worker records outcomes just after the push service answers.
    item = await settled_notification(worker_client, vendor.headers)
    assert item["push"] == {"queued": 0, "delivered": 3, "failed": 1, "expired": 0}
    devices = await worker_client.get("/api/push/subscriptions", headers=vendor.headers)
    labels = {d["label"]: d for d in devices.json()}
    assert set(labels) == {"phone", "laptop", "busy"}
    assert labels["phone"]["last_success_at"] is not None
    assert labels["busy"]["last_failure_reason"] == "push service answered 429"


async def test_test_push_reaches_each_device(
    worker_client: httpx.AsyncClient, worker_accounts: Accounts, push_service: PushService
) -> None:
    vendor = await worker_accounts.vendor()
    devices = [push_service.subscribe() for _ in range(2)]
    for device in devices:
        await subscribe(worker_client, vendor.headers, device.to_json())

    response = await worker_client.post("/api/push/test", headers=vendor.headers)

    assert response.status_code == 202
    assert response.json() == {"queued": 2}
    received = await push_service.wait_for(2)
    assert {r.json["notification"]["title"] for r in received} == {"Test notification"}
    assert received[0].headers["Urgency"] == "low"
    assert received[0].headers["Topic"] == "system-notice"
