"""``POST /api/sql`` (superusers only)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import apsw
from pbk_sdk.auth import require_superuser
from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError, FieldError, QueryTimeoutError
from pbk_sdk.interfaces import App

from . import postgres
from .errors import INTERRUPTED, driver_message
from .query import Result, WritesData, execute, looks_like_write, select

MAX_QUERY_LENGTH = 5000  # bytes of UTF-8
#: PocketBase's limit; ``PBK_SQL_TIMEOUT`` (seconds) changes it, for tests.
DEFAULT_TIMEOUT = 180.0
LOAD_FAILED = "An error occurred while loading the submitted data."
NOT_UTF8 = "a text value is not valid UTF-8 (cast it to a blob to read it)"
INVALID = "An error occurred while validating the submitted data."


def timeout_seconds() -> float:
    return float(os.environ.get("PBK_SQL_TIMEOUT", "") or DEFAULT_TIMEOUT)


class SqlConsole:
    """Runs a superuser's query off the event loop; SQLite stops it at the timeout."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def on_post(self, req: Any, resp: Any) -> None:
        require_superuser(req)
        body = await read_body(req, bad_json=LOAD_FAILED)
        query = body.data.get("query")
        query = "" if query is None else query
        if not isinstance(query, str):
            raise ApiError(400, LOAD_FAILED)
        _validate(query)
        started = time.monotonic()
        result = await self._run(query.strip(), started + timeout_seconds())
        resp.media = result.to_json(int((time.monotonic() - started) * 1000))

    async def _run(self, query: str, deadline: float) -> Result:
        if not query:
            raise _failed("empty query")
        if self.app.db.engine == "postgresql":
            return await self._run_postgres(query, deadline - time.monotonic())
        try:
            if looks_like_write(query):
                return await self.app.db.write(execute, query, deadline)
            try:
                return await self.app.db.read(select, query, deadline, True)
            except WritesData:
                return await self.app.db.write(select, query, deadline, False)
        except QueryTimeoutError:
            raise _failed(INTERRUPTED) from None
        except apsw.Error as exc:
            raise _failed(driver_message(exc)) from None
        except UnicodeDecodeError:  # PocketBase answers such text with U+FFFD; SQLite's bytes
            raise _failed(NOT_UTF8) from None  # are decoded by APSW before pbk sees them

    async def _run_postgres(self, query: str, timeout: float) -> Result:
        """On a connection of its own, off the event loop (see ``postgres``)."""
        parts = postgres.statements(query)
        if not parts:
            raise _failed("empty query")
        read_timeout = min(timeout, self.app.config.query_timeout or timeout)
        try:
            postgres.check(parts)
            # The database layer's connection class (pbk_postgres.PgConnection), not imported:
            # the console depends on no PostgreSQL package.
            connection = await self.app.db.read(lambda conn: type(conn))
            return await asyncio.to_thread(postgres.run_query, connection.connect, str(self.app.config.db),
                                           parts, timeout, read_timeout, looks_like_write(query))
        except (postgres.Refused, postgres.Failed) as exc:
            raise _failed(str(exc)) from None
        except apsw.Error as exc:  # the connection could not be opened
            raise _failed(str(exc)) from None


def _validate(query: str) -> None:
    if not query:
        raise ApiError(400, INVALID, {"query": FieldError("validation_required", "Cannot be blank.")})
    if len(query.encode()) > MAX_QUERY_LENGTH:  # in bytes, as PocketBase counts
        raise ApiError(400, INVALID, {"query": FieldError(
            "validation_length_too_long", f"The length must be no more than {MAX_QUERY_LENGTH}.",
            {"max": MAX_QUERY_LENGTH, "min": 0})})


def _failed(raw: str) -> ApiError:
    return ApiError(400, f"Failed to execute query. Raw error:\n{raw}")
