"""What the person who typed `make run` reads: one plain line saying where to go, and a
warning when PUBLIC_URL (the links in emails and pushes) points somewhere else."""

from __future__ import annotations

from pathlib import Path

from server.__main__ import public_url_mismatch
from server.core.config import Settings
from tests.ops.test_drain import exit_code, spawn, wait_ready
from tests.realtime.conftest import free_socket


async def test_run_says_where_to_open_it_and_warns_about_a_public_url_on_another_port(
    settings: Settings, tmp_path: Path
) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    log = tmp_path / "run.log"
    process = spawn(
        settings,
        log,
        "run",
        "--port",
        str(port),
        PUBLIC_URL="http://127.0.0.1:8000",
        LOG_LEVEL="INFO",
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        await exit_code(process)
    said = log.read_text()
    assert f"vendorbell is serving on http://127.0.0.1:{port} — open it and sign up" in said
    assert (
        f"warning: PUBLIC_URL is http://127.0.0.1:8000 but the server listens on port {port}"
        in said
    )
    assert f"set PUBLIC_URL=http://127.0.0.1:{port}" in said


def test_a_public_url_that_leads_here_or_names_a_proxy_is_not_questioned() -> None:
    assert public_url_mismatch("http://127.0.0.1:8000", "127.0.0.1", 8000) is None
    assert public_url_mismatch("http://localhost:8000", "0.0.0.0", 8000) is None
    assert public_url_mismatch("https://bell.shop.example", "127.0.0.1", 8000) is None


def test_a_loopback_public_url_on_a_server_other_devices_reach_is_questioned() -> None:
    said = public_url_mismatch("http://127.0.0.1:8000", "192.168.1.20", 8000)
    assert said is not None and "192.168.1.20" in said
    assert public_url_mismatch("http://localhost", "127.0.0.1", 8000) is not None
