"""Email: the fallback channel that reaches a vendor when pushes cannot (server.mail.orders)."""
