"""pbk on PostgreSQL: ``PostgresDriver`` (``--db postgresql://...``) and the apsw-like
connection plugins' SQL runs on (``PgConnection``)."""

from .connection import PgConnection, PgCursor
from .errors import translate

__all__ = ["PgConnection", "PgCursor", "translate"]
