"""What keeps several processes in step over Redis pub/sub: cache invalidations
(cache_sync) and signals (signal_relay). It imports no feature."""
