"""pbk crons: PocketBase's scheduled jobs and ``/api/crons``."""
