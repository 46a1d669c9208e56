"""pbk admin: the dashboard at ``/_/``, a single-page app built from ``ui/`` into ``dist/``."""
