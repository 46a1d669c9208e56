"""pbk collections and records (see plugin.py for the hooks)."""
