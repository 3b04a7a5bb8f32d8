"""The operator's console: what the push services, queues and workers are doing, and
the retention loop that keeps the outboxes from growing forever (admin only)."""
