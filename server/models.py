"""Imports every feature's models so the metadata (and Alembic) sees all tables."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "server.accounts.models",
    "server.orders.models",
    "server.notifications.models",
    "server.push.models",
    "server.notifications.preferences.models",
    "server.admin.models",
    "server.integrations.models",
    "server.integrations.webhooks.models",
    "server.orders.alerts.models",
    "server.orders.shop.models",
    "server.mail.models",
    "server.ops.heartbeat",
)


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
