"""The operator's console (admin only): why a notification did or did not arrive
(activity), what the push services, queues and workers are doing (health), and the
retention loop that keeps the outboxes from growing forever."""
