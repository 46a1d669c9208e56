"""``pbk_sdk.cron``: PocketBase's cron syntax, its error messages and ``is_due``. The messages
are also compared with the real binary in plugins/settings/tests/test_settings_validation.py."""

from __future__ import annotations

from datetime import datetime

import pytest
from pbk_sdk.cron import MACROS, CronError, go_atoi, parse


def test_fields_expand_to_their_slots() -> None:
    schedule = parse("*/15 9-17/4 1,15,31 * 1-5")
    assert schedule.minutes == {0, 15, 30, 45}
    assert schedule.hours == {9, 13, 17}
    assert schedule.days == {1, 15, 31}
    assert schedule.months == frozenset(range(1, 13))
    assert schedule.days_of_week == {1, 2, 3, 4, 5}
    assert parse("1-3,2-4,10 * * * *").minutes == {1, 2, 3, 4, 10}
    assert parse("5/1 * * * *").minutes == {5}  # a step of 1 is allowed on a single value
    assert parse("+5 * * * *").minutes == {5}  # Go's Atoi takes a sign


@pytest.mark.parametrize("macro", sorted(MACROS))
def test_macros_are_their_expressions(macro: str) -> None:
    expanded = parse(MACROS[macro])
    schedule = parse(macro)
    assert schedule.expression == macro
    assert (schedule.minutes, schedule.hours, schedule.days, schedule.months, schedule.days_of_week) == (
        expanded.minutes, expanded.hours, expanded.days, expanded.months, expanded.days_of_week)


def test_is_due() -> None:
    weekdays = parse("30 9 * * 1-5")
    assert weekdays.is_due(datetime(2026, 12, 7, 9, 30, 59))  # a Monday
    assert not weekdays.is_due(datetime(2026, 12, 6, 9, 30))  # a Sunday
    assert not weekdays.is_due(datetime(2026, 12, 7, 9, 31))
    assert parse("@weekly").is_due(datetime(2026, 12, 6, 0, 0))  # Sunday is 0
    # day of month and day of week must both match (unlike Vixie cron)
    both = parse("0 0 1 * 1")
    assert not both.is_due(datetime(2026, 12, 1, 0, 0))  # the 1st, a Tuesday
    assert both.is_due(datetime(2025, 12, 1, 0, 0))  # the 1st and a Monday
    assert parse("@yearly").is_due(datetime(2027, 1, 1)) and not parse("@yearly").is_due(datetime(2027, 2, 1))


@pytest.mark.parametrize(("expression", "message"), [
    ("", "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"),
    ("* * * *", "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"),
    ("*\t* * * * *", 'strconv.Atoi: parsing "*\\t*": invalid syntax'),
    ("60 * * * *", "invalid segment value - must be between the min and max of the segment"),
    ("* * * * 7", "invalid segment value - must be between the min and max of the segment"),
    ("*/0 * * * *", "invalid segment step boundary - the step must be between 1 and the 59"),
    ("* */24 * * *", "invalid segment step boundary - the step must be between 1 and the 23"),
    ("1/2/3 * * * *", "invalid segment step format - must be in the format */n or 1-30/n"),
    ("5/2 * * * *", "invalid segment step - step > 1 could be used only with the wildcard or range format"),
    ("1-2-3 * * * *", "invalid segment range format - the range must have 1 or 2 parts"),
    ("* * 0-3 * *", "invalid segment range minimum - must be between 1 and 31"),
    ("* * * 5-2 *", "invalid segment range maximum - must be between 5 and 12"),
    ("-5 * * * *", 'strconv.Atoi: parsing "": invalid syntax'),
    ("MON * * * *", 'strconv.Atoi: parsing "MON": invalid syntax'),
    ("99999999999999999999 * * * *", 'strconv.Atoi: parsing "99999999999999999999": value out of range'),
    ("@DAILY", "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments"),
])
def test_errors_are_pocketbases(expression: str, message: str) -> None:
    with pytest.raises(CronError) as caught:
        parse(expression)
    assert str(caught.value) == message


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("-12", -12), ("+7", 7), ("007", 7), ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775808", -(2**63)),
])
def test_go_atoi_accepts(text: str, value: int) -> None:
    assert go_atoi(text) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("", "invalid syntax"), ("+", "invalid syntax"), ("1_000", "invalid syntax"), (" 1", "invalid syntax"),
    ("١", "invalid syntax"), ("9223372036854775808", "value out of range"),
    ("-9223372036854775809", "value out of range"),
    ("99999999999999999999x", "value out of range"),  # the overflow is met before the bad character
    ("1x99999999999999999999", "invalid syntax"),
])
def test_go_atoi_refuses(text: str, reason: str) -> None:
    with pytest.raises(CronError, match=f": {reason}$"):
        go_atoi(text)
