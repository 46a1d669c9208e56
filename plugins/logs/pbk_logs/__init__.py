"""pbk logs: request and app logs in ``auxiliary.db`` ``_logs`` and ``/api/logs``."""
