"""Email: the fallback channel that reaches a vendor when pushes cannot (the order emails
of server.orders.alerts.emails)."""
