"""PocketBase's rate limits for pbk: the ``rateLimits`` setting enforced, across all workers."""
