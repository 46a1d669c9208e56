"""pbk auth (see plugin.py for the hooks)."""
