"""The ``@now``-style identifier macros, evaluated in UTC when a filter is compiled.

Datetime macros are strings in PocketBase's storage form ``YYYY-MM-DD HH:MM:SS.mmmZ`` (so they
compare as strings with date fields); the others are integers. ``@weekday`` counts from
Sunday = 0, as Go's ``time.Weekday``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def format_datetime(value: datetime) -> str:
    """``2024-01-02 03:04:05.678Z`` (UTC, milliseconds truncated as Go's ``.000`` layout)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _end_of_day(day: datetime) -> datetime:
    return day.replace(hour=23, minute=59, second=59, microsecond=999999)


def _start_of_day(day: datetime) -> datetime:
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


MACROS: dict[str, Callable[[datetime], str | int]] = {
    "@now": lambda now: format_datetime(now),
    "@yesterday": lambda now: format_datetime(now - timedelta(days=1)),
    "@tomorrow": lambda now: format_datetime(now + timedelta(days=1)),
    "@todayStart": lambda now: format_datetime(_start_of_day(now)),
    "@todayEnd": lambda now: format_datetime(_end_of_day(now)),
    "@monthStart": lambda now: format_datetime(_start_of_day(now.replace(day=1))),
    "@monthEnd": lambda now: format_datetime(
        _end_of_day(now.replace(day=calendar.monthrange(now.year, now.month)[1]))
    ),
    "@yearStart": lambda now: format_datetime(_start_of_day(now.replace(month=1, day=1))),
    "@yearEnd": lambda now: format_datetime(_end_of_day(now.replace(month=12, day=31))),
    "@second": lambda now: now.second,
    "@minute": lambda now: now.minute,
    "@hour": lambda now: now.hour,
    "@weekday": lambda now: (now.weekday() + 1) % 7,
    "@day": lambda now: now.day,
    "@month": lambda now: now.month,
    "@year": lambda now: now.year,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def macro_value(name: str, now: datetime | None = None) -> str | int:
    """The value of macro ``name`` (``KeyError`` if it is not one) at ``now`` (UTC)."""
    func = MACROS[name]
    now = (now or utc_now()).astimezone(UTC)
    return func(now)
