"""Webhooks back to a marketplace: a notification channel with a durable outbox.

An event about one of an integration's vendors (a notification written, a push
delivered or lost, a receipt, a read, a device) becomes one `WebhookDelivery` row in
the transaction that caused it (`outbox.emit`), when the integration has a webhook URL
and subscribed to that type. The worker (`worker.WebhookWorker`) claims due rows,
POSTs them signed (`sender`), and records the answer: 2xx delivered, anything else
retried with exponential backoff until a day has passed, then failed. At least once:
a receiver dedupes by the event's `id`, the same on every attempt.
"""
