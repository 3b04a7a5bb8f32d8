"""Schema fuzzing: schemathesis against the served /openapi.json.

`make fuzz` (or `python -m tests.fuzz.run`) starts the app with uvicorn on a free
loopback port, SQLite in a temporary folder and no delivery worker; signs up a vendor
and a customer and creates an admin; gives them an order, notifications, a push
subscription, a broadcast and an integration key, whose ids the fuzzer draws from
(besides values of its own); then runs `st run` as nobody, the customer, the vendor and
the admin. Exits non-zero on any server error or answer the document does not declare
(status, content type, body schema, headers, 405 and Allow).

Repeatable: deterministic generation, no example database (`--seed N` explores other
cases instead). Bounded: examples per operation (`--max-examples`, FUZZ_MAX_EXAMPLES,
default 25), about 2 minutes on 2
cores. Nothing leaves the machine: push endpoints may name 127.0.0.1 only (no DNS), and
no worker sends pushes. POST /api/auth/logout and DELETE /api/me/sessions/{id} are fuzzed
anonymously only (signed in, they could end the session the rest of the run needs).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
WORKERS = int(os.environ.get("FUZZ_WORKERS", "2"))
RUN_TIMEOUT = 240  # seconds per identity: a hung run fails instead of eating CI's budget
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
)
PASSWORD = "correct horse battery staple"
SECRET_KEY = "fuzz-secret-key-" + "x" * 40
REQUESTS_METRIC = "vendorbell_http_requests_total{"


@dataclass
class Outcome:
    identity: str
    exit_code: int
    seconds: float
    requests: int
    test_cases: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.failures and not self.errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(folder: Path, port: int, database_url: str | None) -> dict[str, str]:
    """The app's settings, and nothing the caller's environment or a .env could add."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DATABASE_URL=database_url or f"sqlite+aiosqlite:///{folder / 'data' / 'fuzz.db'}",
        DATA_DIR=str(folder / "data"),
        KEYS_DIR=str(folder / "keys"),
        SECRET_KEY=SECRET_KEY,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        PUSH_ALLOWED_HOSTS="127.0.0.1",
        RUN_WORKER="false",
        GC_TUNING="false",
        LOG_LEVEL="WARNING",
        PUSH_ENCRYPT_PROCESSES="0",
    )
    return env


@contextmanager
def serve(folder: Path, database_url: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on a free port (cwd: the temporary folder, so no .env is read)."""
    port = free_port()
    env = server_environment(folder, port, database_url)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: {(folder / 'server.log').read_text()}")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 60 s")
            time.sleep(0.2)
        yield url, env
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _subscription(n: int) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {
        # Port 9 (discard) on loopback: never contacted (no worker), never the internet.
        "endpoint": f"http://127.0.0.1:9/push/fuzz-{n}",
        "keys": {"p256dh": b64(point), "auth": b64(os.urandom(16))},
        "label": f"Fuzz device {n}",
    }


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"seeding failed: {response.request.url} {response.text}")
    return response.json() if response.content else None


Ids = dict[str, list[str]]


def seed(url: str, env: dict[str, str], folder: Path) -> tuple[dict[str, str], Ids]:
    """Accounts (tokens by identity, and the integration key) and ids of real things for
    the fuzzer to use."""
    admin = ["create-admin", "--email", "admin@example.com", "--password-stdin"]
    subprocess.run(
        [sys.executable, "-m", "server", *admin],
        input=PASSWORD + "\n",
        text=True,
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    ids: Ids = {
        "vendors": [],
        "orders": [],
        "notifications": [],
        "subscriptions": [],
        "broadcasts": [],
        "keys": [],
    }
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for role in ("vendor", "customer"):
            body = {"email": f"{role}@example.com", "password": PASSWORD}
            body |= {"name": f"Fuzz {role}", "role": role}
            answer = _ok(client.post("/api/auth/register", json=body))
            tokens[role] = answer["token"]
            if role == "vendor":
                ids["vendors"].append(answer["user"]["id"])
        login = {"email": "admin@example.com", "password": PASSWORD}
        tokens["admin"] = _ok(client.post("/api/auth/login", json=login))["token"]
        auth = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
        for n in range(3):
            order = {
                "vendor_id": ids["vendors"][0],
                "items": [{"name": f"Item {n}", "quantity": 2, "unit_price_cents": 500}],
                "currency": "EUR",
                "note": "seeded by the fuzzer",
            }
            placed = _ok(client.post("/api/orders", json=order, headers=auth["customer"]))
            ids["orders"].append(placed["id"])
        _ok(client.post(f"/api/orders/{ids['orders'][0]}/accept", headers=auth["vendor"]))
        for n, who in enumerate(("vendor", "customer", "admin")):
            device = _subscription(n)
            created = _ok(client.post("/api/push/subscriptions", json=device, headers=auth[who]))
            ids["subscriptions"].append(created["id"])
        broadcast = {"title": "Seeded", "body": "From the fuzzer", "audience": "all"}
        ids["broadcasts"].append(
            _ok(client.post("/api/admin/broadcasts", json=broadcast, headers=auth["admin"]))["id"]
        )
        key = _ok(
            client.post("/api/admin/integration-keys", json={"name": "fuzz"}, headers=auth["admin"])
        )
        ids["keys"] += [key["key_id"], key["id"]]
        tokens["event_key"], tokens["event_secret"] = key["key_id"], key["secret"]
        for who in ("vendor", "customer"):
            page = _ok(client.get("/api/notifications", headers=auth[who]))
            ids["notifications"] += [item["id"] for item in page["items"]]
    return tokens, ids


def write_config(folder: Path, ids: Ids, max_examples: int, seed: int | None) -> Path:
    """schemathesis.toml: real ids for half of the ids the fuzzer draws."""
    bindings = {
        "path.order_id": "orders",
        "path.notification_id": "notifications",
        "path.subscription_id": "subscriptions",
        "path.broadcast_id": "broadcasts",
        "path.key_ref": "keys",
        "body.vendor_id": "vendors",
        "body.vendor": "vendors",  # a signed event's vendor
    }
    lines = [
        *([f"seed = {seed}"] if seed is not None else []),
        "[generation]",
        f"deterministic = {'false' if seed is not None else 'true'}",
        'database = "none"',
        f"max-examples = {max_examples}",
        "[dictionaries]",
    ]
    for name, values in ids.items():
        if values:
            lines.append(f"{name} = {{ values = {json.dumps(values)} }}")
    lines.append("[parameters]")
    for parameter, name in bindings.items():
        if ids.get(name):
            lines.append(f'"{parameter}" = {{ dictionary = "{name}", probability = 0.5 }}')
    config = folder / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def requests_served(url: str) -> int:
    """The app's own count of the HTTP requests it answered (GET /metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    lines = [line for line in text.splitlines() if line.startswith(REQUESTS_METRIC)]
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in lines))


def fuzz(
    url: str,
    folder: Path,
    config: Path,
    identity: str,
    tokens: dict[str, str],
    checks: tuple[str, ...] = CHECKS,
) -> Outcome:
    report = folder / f"report-{identity}.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    command += [f"{url}/openapi.json", "--checks", ",".join(checks), "--no-color"]
    command += ["--workers", str(WORKERS), "--report", "json", "--report-json-path", str(report)]
    command += ["--request-timeout", "30"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks"}
    if identity in tokens:
        command += ["--header", f"Authorization: Bearer {tokens[identity]}"]
        command += ["--exclude-path", "/api/auth/logout"]
        # It may name the run's own session, and end it like a logout.
        command += ["--exclude-path", "/api/me/sessions/{session_id}"]
        # Signed in, the events this run sends are signed too (tests/fuzz/hooks.py).
        env |= {"FUZZ_EVENT_KEY": tokens["event_key"], "FUZZ_EVENT_SECRET": tokens["event_secret"]}
    before = requests_served(url)
    started = time.monotonic()
    exit_code, output = _run_fuzzer(command, folder, env)
    if exit_code and FUZZER_CRASH in output:
        # Python 3.11's ast module keeps one recursion counter for all threads, so two
        # of schemathesis' worker threads describing hypothesis strategies (ast.parse)
        # at once may crash the generator ("AST constructor recursion depth mismatch").
        # That is the fuzzer failing, not our server: the identity runs once more.
        print(f"fuzz {identity}: the fuzzer itself crashed (CPython 3.11 ast); again", flush=True)
        exit_code, output = _run_fuzzer(command, folder, env)
    seconds = time.monotonic() - started
    requests = requests_served(url) - before - 1  # less our own GET /metrics
    summary: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    return Outcome(
        identity=identity,
        exit_code=exit_code,
        seconds=seconds,
        requests=requests,
        test_cases=int((summary.get("test_cases") or {}).get("generated", 0)),
        failures=list(summary.get("failures") or []),
        errors=list(summary.get("errors") or []),
        output=output,
    )


FUZZER_CRASH = "AST constructor recursion depth mismatch"


def _run_fuzzer(command: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str]:
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        return -1, f"timed out after {RUN_TIMEOUT} s\n{exc.stdout or ''}"
    return done.returncode, done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--identity",
        action="append",
        choices=["anonymous", "customer", "vendor", "admin"],
        help="fuzz as these only (default: all four)",
    )
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES, metavar="N")
    parser.add_argument("--seed", type=int, help="random generation from this seed")
    parser.add_argument(
        "--check", dest="checks", action="append", help=f"instead of {', '.join(CHECKS)}"
    )
    parser.add_argument(
        "--database-url", help="an empty, existing database instead of a new SQLite file"
    )
    parser.add_argument("--verbose", action="store_true", help="print schemathesis' output")
    args = parser.parse_args(argv)
    identities = args.identity or ["anonymous", "customer", "vendor", "admin"]
    args.checks = args.checks or list(CHECKS)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="vendorbell-fuzz-") as tmp:
        folder = Path(tmp)
        with serve(folder, args.database_url) as (url, env):
            tokens, ids = seed(url, env, folder)
            config = write_config(folder, ids, args.max_examples, args.seed)
            for identity in identities:
                outcome = fuzz(url, folder, config, identity, tokens, tuple(args.checks))
                outcomes.append(outcome)
                verdict = "ok" if outcome.ok else "FAILED"
                print(
                    f"fuzz {identity:<9} {verdict:<6} {outcome.requests:>6} requests "
                    f"({outcome.test_cases} test cases) in {outcome.seconds:5.1f} s",
                    flush=True,
                )
                if args.verbose or not outcome.ok:
                    print(outcome.output, flush=True)
        server_log = (folder / "server.log").read_text(errors="replace")
    total = sum(o.requests for o in outcomes)
    failed = [o for o in outcomes if not o.ok]
    print(
        f"fuzz: {total} requests, {len(failed)} failing identities, "
        f"{time.monotonic() - started:.0f} s in all",
        flush=True,
    )
    if failed or args.verbose:
        print("server log:\n" + server_log[-20_000:], flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
