"""pbk realtime (see plugin.py for the hooks)."""
