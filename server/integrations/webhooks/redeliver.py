"""An admin sends one webhook event again: the same row, the same event id and body.

The receiver dedupes by the event's `id` (at least once, stable ids), so a redelivery
is the same event arriving once more, never a new one. Only a finished row (delivered
or failed) is queued again; one still queued is being sent or retried already (409).
The row's attempts start over, so its backoff and its day of retries do too.
"""

from __future__ import annotations

from sqlalchemy import select, update

from server.core.db import utcnow
from server.core.errors import Conflict, NotFound
from server.core.ids import parse_id
from server.core.unit_of_work import UnitOfWork
from server.integrations import registry
from server.integrations.webhooks.models import WebhookDelivery
from server.integrations.webhooks.outbox import GIVE_UP_AFTER, WEBHOOKS_QUEUED

FINISHED = ("delivered", "failed")


class AlreadyQueued(Conflict):
    code = "delivery_queued"


class NoWebhookUrl(Conflict):
    code = "webhook_url_missing"


async def redeliver(uow: UnitOfWork, integration_id: str, delivery_id: str) -> WebhookDelivery:
    """Queue the integration's delivery again, due now, and wake the webhook workers
    (this process's, and the others' through the signal relay) once committed."""
    session = uow.session
    integration = await registry.get(session, integration_id)
    key = parse_id(delivery_id)
    row = None
    if key is not None:
        row = await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.id == key, WebhookDelivery.integration_id == integration.id
            )
        )
    if row is None:
        raise NotFound("The integration has no such webhook delivery.", code="delivery_not_found")
    if integration.webhook_url is None:
        raise NoWebhookUrl("The integration has no webhook URL to send to.")
    now = utcnow()
    t = WebhookDelivery
    # Conditional: a worker or another admin may have queued it since it was read.
    changed = await session.execute(
        update(t)
        .where(t.id == row.id, t.status.in_(FINISHED))
        .values(
            status="queued",
            attempts=0,
            due_at=now,
            give_up_at=now + GIVE_UP_AFTER,
            lease_until=None,
            delivered_at=None,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):
        raise AlreadyQueued("This delivery is queued already: it is being sent or retried.")
    await session.refresh(row)
    ids = [row.id]

    async def wake() -> None:
        uow.signals[WEBHOOKS_QUEUED].send(ids)

    uow.after_commit(wake)
    return row
