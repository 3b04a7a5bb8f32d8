"""bench-push's TLS sink checks what it is sent, so a contender's speed counts only pushes
a browser could read: vendorbell's client and Node's web-push (where node and its install
are found) over TLS to the sink, every push decrypted and its VAPID JWT verified; a push
that is garbage counts as a failure. Behaviour only: the timings belong to bench/."""

from __future__ import annotations

import json
import multiprocessing
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.certs import make_certificate
from bench.node_peer import node_unavailable, run_node_peer, write_job
from bench.push_peers import PEER_DATA, browser_keys_with_secrets
from bench.push_sink import run_sink, sink_reset, sink_verify
from server.core.config import Settings
from server.push.endpoints import check_url
from server.push.http1 import Http1Client
from server.push.keys import KeyStore
from server.push.sender import Job, Sender
from tests.conftest import make_settings

N = 5
pytestmark = pytest.mark.timeout(90)


@dataclass
class Sink:
    port: int  # plain: control requests
    base: str  # the TLS listener's push endpoints: base/<subscription index>
    cert: Path
    keys: list[tuple[str, str]]
    settings: Settings
    store: KeyStore


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    store = KeyStore.load_or_create(settings)
    keys, secrets = browser_keys_with_secrets(N)
    cert, key = make_certificate(tmp_path)
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"vapid_key": store.current.public_key, "secrets": secrets}))
    context = multiprocessing.get_context("spawn")
    ready: Any = context.Queue()
    process = context.Process(
        target=run_sink, args=(ready, (str(cert), str(key)), str(secrets_file)), daemon=True
    )
    process.start()
    try:
        port, tls_port = ready.get(timeout=30)
        yield Sink(port, f"https://127.0.0.1:{tls_port}/t", cert, keys, settings, store)
    finally:
        process.terminate()
        process.join(5)


def job(sink: Sink, index: int) -> Job:
    p256dh, auth = sink.keys[index]
    now = datetime.now(UTC)
    return Job(
        id=index,
        payload=PEER_DATA,
        urgency="normal",
        topic=None,
        created_at=now,
        expires_at=now + timedelta(hours=1),
        attempts=0,
        subscription_id=None,
        endpoint=f"{sink.base}/{index}",
        p256dh=p256dh,
        auth=auth,
        key_id=sink.store.current.kid,
    )


async def test_vendorbell_pushes_over_tls_decrypt_and_verify(sink: Sink) -> None:
    trust = ssl.create_default_context(cafile=str(sink.cert))
    client = Http1Client(sink.settings, timeout=10.0, tls=trust)
    sender = Sender(sink.settings, sink.store, client)
    try:
        outcomes = [await sender.send(job(sink, i)) for i in range(N)]
    finally:
        await sender.close()
    assert [o.kind for o in outcomes] == ["delivered"] * N
    assert client.connections_made == 1  # one TLS handshake, then keep-alive
    summary = await sink_verify(sink.port)
    assert summary == {"checked": N, "verified": N, "failed": 0, "reasons": {}}


async def test_garbage_counts_as_failures_not_as_pushes(sink: Sink) -> None:
    trust = ssl.create_default_context(cafile=str(sink.cert))
    client = Http1Client(sink.settings, timeout=10.0, tls=trust)
    sender = Sender(sink.settings, sink.store, client)
    target = check_url(f"{sink.base}/0", sink.settings)
    good = sender.request(job(sink, 0), target, sink.store.current, b"")
    headers = good.headers
    try:
        await client.post(f"{sink.base}/0", headers, os.urandom(200))  # not aes128gcm
        forged = {**headers, "Authorization": headers["Authorization"].replace("t=", "t=x", 1)}
        await client.post(f"{sink.base}/1", forged, os.urandom(200))
    finally:
        await sender.close()
    summary = await sink_verify(sink.port)
    assert summary["checked"] == 2 and summary["verified"] == 0 and summary["failed"] == 2
    assert set(summary["reasons"]) == {"does not decrypt", "malformed VAPID JWT"}
    await sink_reset(sink.port)


async def test_node_web_push_over_tls_decrypts_and_verifies(sink: Sink, tmp_path: Path) -> None:
    reason = node_unavailable()
    if reason is not None:
        pytest.skip(f"the Node web-push bench peer cannot run: {reason}")
    job_file = tmp_path / "node-job.json"
    subject = sink.settings.vapid_subject
    write_job(job_file, sink.base, sink.keys, sink.store.current, subject, PEER_DATA)
    report = await run_node_peer(job_file, sink.cert, timeout=60)
    assert (report["sent"], report["ok"], report["failed"]) == (N, N, 0), report
    summary = await sink_verify(sink.port)
    assert summary == {"checked": N, "verified": N, "failed": 0, "reasons": {}}
