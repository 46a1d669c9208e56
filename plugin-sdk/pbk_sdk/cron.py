"""PocketBase's cron expressions: parse one into a ``Schedule`` and ask whether a minute is due.

The syntax is PocketBase's (``tools/cron``), checked on the 0.40.6 binary: a macro
(``@yearly`` = ``@annually``, ``@monthly``, ``@weekly``, ``@daily`` = ``@midnight``, ``@hourly``)
or five fields separated by single spaces (minute 0-59, hour 0-23, day 1-31, month 1-12, day
of week 0-6 with 0 = Sunday). A field is a comma list of ``*``, ``N``, ``A-B``, ``*/S`` or
``A-B/S``. No names (``MON``, ``JAN``), no ``?``, ``L`` or ``#``, no ``7`` for Sunday.

A bad expression raises ``CronError`` whose text is PocketBase's message, so it can be shown
as the ``validation_invalid_cron`` error PocketBase gives (numbers are read as Go's
``strconv.Atoi`` reads them, and its errors are quoted as Go quotes them)::

    schedule = parse("*/15 9-17 * * 1-5")
    schedule.is_due(datetime(2026, 12, 7, 9, 30))   # True: a Monday, 09:30
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .formats import go_quote

MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

#: (lowest, highest) of each field, in order.
BOUNDS: tuple[tuple[int, int], ...] = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))

_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1


class CronError(ValueError):
    """The expression is not a valid cron expression; ``str()`` is PocketBase's message."""


@dataclass(frozen=True)
class Schedule:
    """The minutes, hours, days, months and days of week (0 = Sunday) an expression selects."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]

    def is_due(self, when: datetime) -> bool:
        """Whether the minute of ``when`` is selected (every field must match, as in
        PocketBase: day of month and day of week are not alternatives)."""
        return (when.minute in self.minutes and when.hour in self.hours and when.day in self.days
                and when.month in self.months and (when.weekday() + 1) % 7 in self.days_of_week)


def parse(expression: str) -> Schedule:
    """The schedule of a cron expression or macro; ``CronError`` when it is not valid."""
    fields = MACROS.get(expression, expression).split(" ")
    if len(fields) != 5:
        raise CronError("invalid cron expression - must be a valid macro or to have exactly 5 "
                        "space separated segments")
    slots = [_parse_field(field, low, high) for field, (low, high) in zip(fields, BOUNDS, strict=True)]
    return Schedule(expression, *slots)


def _parse_field(field: str, low: int, high: int) -> frozenset[int]:
    slots: set[int] = set()
    for part in field.split(","):
        span, *steps = part.split("/")
        if len(steps) > 1:
            raise CronError("invalid segment step format - must be in the format */n or 1-30/n")
        step = 1
        if steps:
            step = go_atoi(steps[0])
            if not 1 <= step <= high:
                raise CronError(f"invalid segment step boundary - the step must be between 1 and the {high}")
        first, last = _parse_span(span, step, low, high)
        slots.update(range(first, last + 1, step))
    return frozenset(slots)


def _parse_span(span: str, step: int, low: int, high: int) -> tuple[int, int]:
    """(first, last) of ``*``, ``N`` or ``A-B``."""
    if span == "*":
        return low, high
    ends = span.split("-")
    if len(ends) == 1:
        if step != 1:
            raise CronError("invalid segment step - step > 1 could be used only with the wildcard "
                            "or range format")
        value = go_atoi(ends[0])
        if not low <= value <= high:
            raise CronError("invalid segment value - must be between the min and max of the segment")
        return value, value
    if len(ends) != 2:
        raise CronError("invalid segment range format - the range must have 1 or 2 parts")
    first = go_atoi(ends[0])
    if not low <= first <= high:
        raise CronError(f"invalid segment range minimum - must be between {low} and {high}")
    last = go_atoi(ends[1])
    if not first <= last <= high:
        raise CronError(f"invalid segment range maximum - must be between {first} and {high}")
    return first, last


def go_atoi(text: str) -> int:
    """Go's ``strconv.Atoi`` on a 64-bit machine: an optional sign and ASCII digits only;
    ``CronError`` with Go's message otherwise (a value past int64 is "out of range", and an
    overflow found before a bad character wins over it, as in Go)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    value = 0
    for char in digits:
        if not "0" <= char <= "9":
            break
        value = value * 10 + ord(char) - 48
        if value > _UINT64_MAX:
            raise CronError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    else:
        if digits:
            negative = text.startswith("-")
            if value > _INT64_MAX + negative:
                raise CronError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
            return -value if negative else value
    raise CronError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
