"""Operating the service: health and readiness probes, worker heartbeats, graceful
drain on SIGTERM, and the Prometheus metrics and request middleware."""
