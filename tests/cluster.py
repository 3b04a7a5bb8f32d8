"""Real processes as an operator runs them: API processes and delivery workers on one
PostgreSQL and one Redis, started with the documented commands, plus bulk seeding.

Used by the multi-process tests (tests/scale) and by `make bench-scale`, so that what
the benchmark measures is what the tests prove correct.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from server.accounts.models import ApiToken, User
from server.accounts.security import token_digest
from server.core.config import Settings
from server.push.models import PushSubscription

ROOT = Path(__file__).resolve().parent.parent
SECRET = "cluster-secret-key-" + "x" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """Processes sharing one database, one Redis and one keys directory."""

    database_url: str
    redis_url: str | None
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api_urls: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET,
            "DATA_DIR": str(self.workdir / "data"),
            "KEYS_DIR": str(self.workdir / "keys"),
            "PUSH_ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_URL": "http://127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "REGISTER_MAX_PER_WINDOW": "1000000",
            **self.extra_env,
        }
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    @property
    def settings(self) -> Settings:
        """The settings every process of the cluster reads (for seeding and checks)."""
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=self.database_url,
            redis_url=self.redis_url,
            secret_key=SECRET,
            data_dir=self.workdir / "data",
            keys_dir=self.workdir / "keys",
            push_allowed_hosts=["127.0.0.1"],
        )

    def _spawn(self, name: str, args: Sequence[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "server", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[name] = process
        return process

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "server", "migrate"], cwd=ROOT, env=self.env, check=True
        )
        # One process makes the VAPID key; the others then find it in the shared folder.
        subprocess.run(
            [sys.executable, "-m", "server", "keys", "generate"],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start_api(self, name: str, *, workers: int = 1, role: str = "api") -> str:
        """`python -m server run --role api`; returns its base URL once it answers."""
        port = free_port()
        args = ["run", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        if role == "api":
            args += ["--role", "api"]
        process = self._spawn(name, args)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, self.workdir / f"{name}.log")
        self.api_urls.append(url)
        return url

    def start_worker(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """`python -m server worker`."""
        return self._spawn(name, ["worker", *args])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        process = self.processes.pop(name)
        process.send_signal(sig)
        return process.wait(timeout=30)

    def close(self) -> None:
        processes, self.processes = list(self.processes.values()), {}
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/api/push/vapid-public-key", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in 60 s")


@dataclass
class Seeded:
    user_ids: list[int]
    tokens: list[str]  # bearer tokens, in user order

    def headers(self, index: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[index]}"}


async def seed_users(session: Any, count: int, *, role: str = "vendor", tag: str = "u") -> Seeded:
    """`count` users with one session token each, written in bulk (registering them
    through the API would spend minutes hashing passwords)."""
    now = datetime.now(UTC)
    label = secrets.token_hex(3)
    user_ids = list(
        await session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"{tag}{n}-{label}@example.com",
                    "name": f"{role.title()} {n}",
                    "role": role,
                    "password_hash": "!",
                    "created_at": now,
                }
                for n in range(count)
            ],
        )
    )
    tokens = [secrets.token_urlsafe(32) for _ in user_ids]
    await session.execute(
        insert(ApiToken),
        [
            {
                "user_id": uid,
                "token_hash": token_digest(SECRET, token),
                "created_at": now,
                "last_used_at": now,
            }
            for uid, token in zip(user_ids, tokens, strict=True)
        ],
    )
    return Seeded(user_ids, tokens)


async def seed_subscriptions(
    session: Any, devices: Sequence[tuple[int, str, str, str]], kid: str
) -> None:
    """Push subscriptions in bulk: (user id, endpoint, p256dh, auth) each."""
    now = datetime.now(UTC)
    await session.execute(
        insert(PushSubscription),
        [
            {
                "user_id": uid,
                "endpoint": endpoint,
                "p256dh": p256dh,
                "auth": auth,
                "vapid_key_id": kid,
                "muted": False,
                "created_at": now,
                "updated_at": now,
            }
            for uid, endpoint, p256dh, auth in devices
        ],
    )
