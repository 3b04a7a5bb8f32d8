"""Installs the operator and integration features (issue 6) into the app in one call.

Kept out of server/app.py so that adding a router here does not touch the app factory.
"""

from __future__ import annotations

from fastapi import FastAPI

from server.admin.routes import router as admin_router
from server.analytics.routes import router as analytics_router
from server.integrations.routes import router as integrations_router
from server.observability import RequestMetricsMiddleware
from server.observability import router as metrics_router
from server.preferences.routes import router as preferences_router


def install_extras(app: FastAPI) -> None:
    """Call before any other middleware is added: the metrics middleware must be the
    innermost one, where the router's matched route is visible in the scope."""
    app.add_middleware(RequestMetricsMiddleware)
    for router in (
        metrics_router,
        preferences_router,
        analytics_router,
        admin_router,
        integrations_router,
    ):
        app.include_router(router)
