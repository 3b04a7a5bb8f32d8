"""The command line, every command wired here: `python -m server run|migrate|worker|keys …`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
from collections.abc import Sequence
from types import FrameType

from server.admin.cli import cmd_create_admin
from server.core.config import Settings, get_settings
from server.core.db import make_database
from server.core.logs import configure_logging
from server.core.migrate import upgrade
from server.integrations.cli import cmd_embed_key, cmd_integration, cmd_integration_key
from server.integrations.secret_key import checked_secret_key
from server.push.cli import cmd_keys


def cmd_run(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from server.realtime.handshake import WebSocketProtocol

    upgrade(settings)
    asyncio.run(_check_secret_key(settings))
    # uvicorn drains on SIGTERM, then raises it again with the handler it found: this
    # one, so that a drained process exits with status 0 instead of dying by the signal.
    signal.signal(signal.SIGTERM, _exit_drained)
    if args.role == "api":
        os.environ["ROLE"] = "api"  # read by the app factory, in every --workers process
        get_settings.cache_clear()
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_config=None,
        # X-Forwarded-For is believed from FORWARDED_ALLOW_IPS only (uvicorn would
        # otherwise trust any loopback client, and a rotated header would dodge the limits).
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or [],
        # In-flight requests get this long after SIGTERM; the lifespan shutdown (the
        # worker's own drain, server.background) follows.
        timeout_graceful_shutdown=math.ceil(settings.drain_seconds),
        ws_ping_interval=None,  # the app pings its sockets itself
        # Per-socket compression state cost ~230 MB per 5,000 sockets (bench/bench_ws.py);
        # our events are a few hundred bytes.
        ws_per_message_deflate=False,
        ws=WebSocketProtocol,  # answers an oversize handshake instead of hanging
    )


async def _check_secret_key(settings: Settings) -> None:
    """Makes the secret key before serving, saying so loudly if the database already
    holds digests made with another (a DATA_DIR moved without its secret_key)."""
    database = make_database(settings)
    try:
        await checked_secret_key(settings, database, strict=False)
    finally:
        await database.dispose()


def _exit_drained(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    upgrade(settings, args.revision)
    logging.getLogger("vendorbell").info("migrate.done", extra={"revision": args.revision})


async def run_worker(settings: Settings) -> None:
    """Run the worker role (deliveries, digests, broadcasts, key retiring) until
    SIGTERM/SIGINT, then stop it: what a delivery worker holds is released."""
    from server.background import Runtime

    runtime = Runtime(settings, "worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    if args.lease_seconds is not None:
        settings = settings.model_copy(update={"push_lease_seconds": args.lease_seconds})
    try:  # uvloop, as `run` gets through uvicorn (installed with uvicorn[standard])
        import uvloop
    except ImportError:
        asyncio.run(run_worker(settings))
    else:
        uvloop.run(run_worker(settings))


def cmd_api_doc(args: argparse.Namespace, settings: Settings) -> None:
    from server.apidoc import render
    from server.app import create_app

    # A throwaway secret: writing the document must not create one under data/.
    app = create_app(settings.model_copy(update={"secret_key": "api-doc", "role": "api"}))
    print(render(app.openapi()), end="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="apply migrations and serve the API and the PWA")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int, default=1, help="HTTP processes (SQLite: keep 1)")
    run.add_argument(
        "--role",
        choices=("all", "api"),
        default="all",
        help="all: HTTP and every background loop (default); api: HTTP and WebSocket only, "
        "with `python -m server worker` processes doing the rest",
    )
    run.set_defaults(func=cmd_run)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)
    api_doc = commands.add_parser("api-doc", help="print docs/API.md from the OpenAPI document")
    api_doc.set_defaults(func=cmd_api_doc)
    keys = commands.add_parser("keys", help="show, generate, rotate or retire VAPID keys")
    keys.add_argument("action", choices=("show", "generate", "rotate", "retire"))
    keys.set_defaults(func=cmd_keys)
    worker = commands.add_parser("worker", help="run a push delivery worker (SIGTERM to stop)")
    worker.add_argument(
        "--lease-seconds",
        type=float,
        help="how long a claimed row stays with this worker before others may retake it",
    )
    worker.set_defaults(func=cmd_worker)
    admin = commands.add_parser("create-admin", help="create an admin (or promote an account)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    admin.set_defaults(func=cmd_create_admin)
    integration_key = commands.add_parser("integration-key", help="manage shop integration keys")
    actions = integration_key.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a key; prints its secret once")
    create.add_argument("--name", required=True, help="which shop or system uses it")
    create.add_argument("--integration", help="the integration (marketplace) it belongs to")
    actions.add_parser("list", help="list keys (never their secrets)")
    revoke = actions.add_parser("revoke", help="revoke a key by its key id")
    revoke.add_argument("key")
    integration_key.set_defaults(func=cmd_integration_key)
    _add_embed_commands(commands)
    return parser


def _add_embed_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    integration = commands.add_parser(
        "integration", help="register a marketplace that embeds the bell (docs/embedding.md)"
    )
    actions = integration.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="register one; prints its id (the tokens' iss)")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--origin", action="append", required=True, help="a page origin that embeds (repeat)"
    )
    create.add_argument("--link-base", required=True, help="the origin links open on")
    actions.add_parser("list", help="list integrations")
    show = actions.add_parser("show", help="one integration and its keys")
    show.add_argument("id")
    integration.set_defaults(func=cmd_integration)
    embed_key = commands.add_parser("embed-key", help="a marketplace's token-signing keys")
    key_actions = embed_key.add_subparsers(dest="action", required=True)
    add = key_actions.add_parser("add", help="store a public key; prints its kid")
    add.add_argument("--integration", required=True)
    add.add_argument("--public-key", required=True, help="a PEM file (public key only)")
    add.add_argument("--kid", help="default: the key's RFC 7638 thumbprint")
    generate = key_actions.add_parser(
        "generate", help="make a key pair; prints the kid and the private key, once"
    )
    generate.add_argument("--integration", required=True)
    generate.add_argument("--alg", choices=("ES256", "EdDSA", "RS256"), default="ES256")
    retire = key_actions.add_parser("retire", help="retire a key: its tokens are refused")
    retire.add_argument("--integration", required=True)
    retire.add_argument("--kid", required=True)
    embed_key.set_defaults(func=cmd_embed_key)


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    args = build_parser().parse_args(argv)
    args.func(args, settings)


if __name__ == "__main__":
    main()
