"""create_app(): one router list, one middleware stack, the runtime of its role, the PWA."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from server.accounts.deps import check_caller
from server.accounts.limits import Limits
from server.accounts.routes import router as accounts_router
from server.admin.routes import router as admin_router
from server.analytics.routes import router as analytics_router
from server.background import Role, Runtime
from server.console.activity_routes import router as activity_router
from server.console.health_routes import router as console_health_router
from server.console.keys_routes import router as console_keys_router
from server.core.config import Settings, get_settings
from server.core.errors import install_error_handlers
from server.core.http import BodyLimitMiddleware, SecurityHeadersMiddleware, TrailingSlashMiddleware
from server.core.outages import AnswerErrorsMiddleware, WriteOutcomes
from server.docs_page import install_api_docs
from server.integrations import registry
from server.integrations.cors import EmbedCorsMiddleware
from server.integrations.routes import admin_router as integrations_admin_router
from server.integrations.routes import embed_router
from server.integrations.routes import router as integrations_router
from server.notifications.preferences.routes import router as preferences_router
from server.notifications.routes import router as inbox_router
from server.openapi import install_openapi
from server.ops.drain import Drain, DrainMiddleware
from server.ops.health import Readiness
from server.ops.health import router as health_router
from server.ops.observability import RequestMetricsMiddleware
from server.ops.observability import router as metrics_router
from server.orders.routes import router as orders_router
from server.push.routes import router as push_router
from server.pwa import mount_pwa
from server.realtime.routes import router as live_router

ROUTERS = (
    accounts_router,
    orders_router,
    inbox_router,
    push_router,
    live_router,
    metrics_router,
    preferences_router,
    analytics_router,
    admin_router,
    activity_router,
    console_health_router,
    console_keys_router,
    integrations_router,
    integrations_admin_router,
    embed_router,
    health_router,
)


def settle_garbage_collector() -> None:
    """Move start-up objects out of the collector's way and collect less often.

    With 5,000 open sockets a full collection paused the loop for 0.6-1.3 s
    (bench/bench_ws.py --gc-log); frozen start-up objects and higher thresholds removed
    those pauses, with no RSS growth seen over the benchmark's runs.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 50, 1000)


def create_api_app() -> FastAPI:
    """The app of `python -m server run --role api`: HTTP and WebSocket, no loops."""
    return create_app(get_settings().model_copy(update={"role": "api"}))


def lifespan_of(
    settings: Settings, role: Role
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's life: its role's runtime started before the first request, and the
    drain, the limits and the runtime stopped after the last."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        drain: Drain = app.state.drain
        limits: Limits = app.state.limits
        runtime = Runtime(settings, role)
        await runtime.start()
        await limits.start()
        drain.install()  # after the hub's signal hook: ours runs first (server.ops.drain)
        app.state.runtime = runtime
        app.state.db = runtime.database
        app.state.units = runtime.units
        app.state.hub = runtime.hub
        app.state.keys = runtime.keys
        app.state.token_activity = runtime.token_activity
        if settings.gc_tuning:
            settle_garbage_collector()
        try:
            yield
        finally:
            drain.uninstall()
            await limits.close()
            await runtime.stop()

    return lifespan


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware stack, innermost first (each add_middleware wraps the previous):
    whatever a route raises is answered (503 for an outage, 500 JSON for a bug) right
    around the routes, so that the answer is counted and carries the headers; metrics
    must see the matched route, so it sits inside everything else; the body limit
    refuses oversize bodies before any route reads them; security headers go on every
    answer, refusals included; the trailing-slash rewrite runs before routing."""
    app.add_middleware(AnswerErrorsMiddleware, outcomes=app.state.write_outcomes)
    app.add_middleware(RequestMetricsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # A draining process refuses upgrades and late requests (server.ops.drain).
    app.add_middleware(DrainMiddleware, drain=app.state.drain)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrailingSlashMiddleware)
    # Outermost: a refusal (401, 403, 413, 503) still carries the CORS headers its page
    # needs to read it (server.integrations.cors).
    app.add_middleware(EmbedCorsMiddleware)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    role = settings.effective_role
    if role == "worker":
        raise ValueError("ROLE=worker serves no HTTP: run it with `python -m server worker`")
    app = FastAPI(
        title="vendorbell",
        version="0.1.0",
        summary="Web Push-first notifications for marketplace vendors",
        lifespan=lifespan_of(settings, role),
        docs_url=None,  # served from this server instead of a CDN (server.docs_page)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.drain = Drain(settings.drain_notice_seconds)
    app.state.readiness = Readiness()
    app.state.write_outcomes = WriteOutcomes()  # written by AnswerErrorsMiddleware
    app.state.secret_key = settings.resolved_secret_key()
    app.state.limits = Limits(settings)  # sign-up and sign-in; in Redis with REDIS_URL

    async def embed_origins() -> frozenset[str]:
        # The live channel's embedding origins (server.realtime.first_message): the
        # integrations' allowed origins, cached and invalidated as the CORS check's are.
        async with app.state.units.reader() as uow:
            return await registry.allowed_origins(uow)

    app.state.embed_origins = embed_origins
    install_error_handlers(app, check_caller)
    install_middleware(app, settings)
    for router in ROUTERS:
        app.include_router(router)
    install_api_docs(app)
    mount_pwa(app, settings.pwa_dir)  # last: its catch-all serves the app shell
    install_openapi(app)
    return app
