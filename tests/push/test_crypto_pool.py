"""Encryption in child processes: what they produce decrypts like a browser would,
a child that dies loses no message, and a fan-out through a worker with (or
without) encryption processes reaches every device exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from server.core.db import make_database
from server.push import crypto_pool
from server.push.crypto_pool import MIN_POOLED, EncryptionPool
from server.push.keys import KeyStore
from server.push.worker import DeliveryWorker
from tests.conftest import make_settings
from tests.push.rows import queue_deliveries, statuses
from tests.pushservice import BrowserSubscription, PushService, make_browser_subscription


def browsers(n: int) -> list[BrowserSubscription]:
    return [make_browser_subscription(f"https://push.example/{i}") for i in range(n)]


def items_for(devices: list[BrowserSubscription], tag: str) -> list[tuple[str, str, str]]:
    return [
        (json.dumps({"to": i, "tag": tag}), d.p256dh, d.to_json()["keys"]["auth"])
        for i, d in enumerate(devices)
    ]


def opened(devices: list[BrowserSubscription], bodies: list[bytes | None]) -> list[object]:
    return [
        json.loads(d.decrypt(b)) if b is not None else None
        for d, b in zip(devices, bodies, strict=True)
    ]


async def test_a_batch_encrypted_in_a_child_decrypts_for_each_browser() -> None:
    devices = browsers(12)
    items = items_for(devices, "pooled")
    items[5] = (items[5][0], "not-a-key", items[5][2])  # one unusable subscription
    pool = EncryptionPool(1)
    try:
        bodies = await pool.encrypt(items)
    finally:
        await pool.close()
    assert pool.pooled_batches == 1
    expected: list[object] = [{"to": i, "tag": "pooled"} for i in range(12)]
    expected[5] = None
    assert opened(devices, bodies) == expected


async def test_a_small_batch_is_encrypted_inline_without_starting_a_process() -> None:
    devices = browsers(MIN_POOLED - 1)
    pool = EncryptionPool(2)
    bodies = await pool.encrypt(items_for(devices, "inline"))
    assert pool.pooled_batches == 0 and pool.started == 0
    assert opened(devices, bodies) == [{"to": i, "tag": "inline"} for i in range(len(devices))]
    await pool.close()


async def test_a_child_killed_mid_batch_loses_no_message_and_is_replaced() -> None:
    few, many = browsers(10), browsers(1000)
    pool = EncryptionPool(1)
    try:
        await pool.encrypt(items_for(few, "first"))
        [child] = pool.children
        batch = asyncio.create_task(pool.encrypt(items_for(many, "in-flight")))
        await asyncio.sleep(0.02)  # written to the child, which needs ~0.3 s for it
        os.kill(child.process.pid, signal.SIGKILL)

        bodies = await batch
        assert pool.lost == 1
        assert opened(many, bodies) == [{"to": i, "tag": "in-flight"} for i in range(1000)]

        bodies = await pool.encrypt(items_for(few, "replaced"))
        assert opened(few, bodies) == [{"to": i, "tag": "replaced"} for i in range(10)]
        [replacement] = pool.children
        assert replacement.process.pid != child.process.pid
        assert (pool.started, pool.pooled_batches) == (2, 2)
    finally:
        await pool.close()
    assert pool.children == []


@pytest.mark.parametrize("processes", [0, 2])
async def test_a_fan_out_reaches_every_device_once_with_any_number_of_processes(
    tmp_path: Path, database_url: str, push_service: PushService, processes: int
) -> None:
    settings = make_settings(tmp_path, database_url, push_encrypt_processes=processes)
    keys = KeyStore.load_or_create(settings)
    await queue_deliveries(settings, push_service, keys.current.kid, total=300, devices=30)
    database = make_database(settings)
    worker = DeliveryWorker(database, settings, keys, poll_seconds=0.05)
    await worker.start()
    try:
        await push_service.wait_for(300, timeout=60)
    finally:
        await worker.stop()
        await database.dispose()
    assert await statuses(settings) == {"delivered": 300}
    seqs = Counter(r.json["seq"] for r in push_service.received)
    assert len(seqs) == 300 and max(seqs.values()) == 1
    assert (worker.pool.pooled_batches > 0) == (processes > 0)


async def test_when_no_process_can_start_batches_are_encrypted_inline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crypto_pool.sys, "executable", "/nonexistent/python")
    devices = browsers(10)
    pool = EncryptionPool(2)
    try:
        bodies = await pool.encrypt(items_for(devices, "no-process"))
    finally:
        await pool.close()
    assert opened(devices, bodies) == [{"to": i, "tag": "no-process"} for i in range(10)]
    assert (pool.started, pool.pooled_batches) == (0, 0)
