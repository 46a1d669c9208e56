"""pbk auth: ``plugin.py`` holds the hooks; docs/auth.md maps the other modules."""
