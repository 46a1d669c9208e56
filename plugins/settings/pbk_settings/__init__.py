"""pbk settings: PocketBase's ``GET`` and ``PATCH /api/settings``."""
