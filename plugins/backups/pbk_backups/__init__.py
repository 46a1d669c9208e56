"""pbk backups: PocketBase's backups and restore, ``/api/backups``."""
