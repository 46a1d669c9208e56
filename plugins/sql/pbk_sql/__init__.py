"""pbk sql: PocketBase's SQL console API, ``POST /api/sql``."""
