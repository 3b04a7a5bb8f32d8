"""The push tests' worker app and loopback push service, reused for end-to-end events."""

from tests.integrations.webhook_receiver import receiver  # noqa: F401
from tests.push.conftest import (  # noqa: F401
    push_service,
    worker_accounts,
    worker_app,
    worker_client,
    worker_settings,
)
