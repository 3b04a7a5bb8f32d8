"""The signal of queued emails: the ids of the outbox rows a transaction wrote, sent once
it has committed (by whoever queues an email: server.orders.alerts.emails,
server.orders.shop.emails), so the mail loop (server.mail.outbox) sends them at once
instead of at its next poll."""

from __future__ import annotations

from server.core.signals import SignalSpec, id_list

EMAILS_QUEUED = SignalSpec("emails", id_list)
