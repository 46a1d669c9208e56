"""PocketBase's checks on an auth collection's options (durations, templates, MFA, identity
fields) and the options it forces on ``_superusers``; the errors in its codes and paths."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pbk_sdk.errors import FieldError

from .oauth2_options import oauth2_errors

TOKENS = ("authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken")
TEMPLATES = ("verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate")
#: PocketBase's bounds, in seconds: a token lives at most about three years, an OTP or an MFA
#: session a day; an OTP has at least 4 digits.
TOKEN_SECONDS = (10, 94670856)
SESSION_SECONDS = (10, 86400)
OTP_MIN_LENGTH = 4
#: ``CREATE UNIQUE INDEX name ON table (column)``, the one column as its first group.
SINGLE_COLUMN_UNIQUE = re.compile(
    r"^\s*CREATE\s+UNIQUE\s+INDEX\b[^(]*\bON\s+[^(]+\(\s*([^,()]+?)\s*\)", re.IGNORECASE
)


def _blank() -> FieldError:
    return FieldError("validation_required", "Cannot be blank.")


def _number(value: Any) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _bounded(value: Any, low: int, high: int) -> FieldError | None:
    """PocketBase's ``Required, Min(low), Max(high)`` on an int64."""
    number = _number(value)
    if not number:
        return _blank()
    if number < low:
        return FieldError(
            "validation_min_greater_equal_than_required", f"Must be no less than {low}.", {"threshold": low}
        )
    if number > high:
        return FieldError(
            "validation_max_less_equal_than_required", f"Must be no greater than {high}.", {"threshold": high}
        )
    return None


def _template_problems(template: Any) -> dict[str, FieldError]:
    template = template if isinstance(template, Mapping) else {}
    return {key: _blank() for key in ("subject", "body") if not template.get(key)}


def _put(errors: dict[str, Any], path: tuple[str, ...], problem: Any) -> None:
    if not problem:
        return
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = problem


def _unique_columns(indexes: Iterable[str]) -> set[str]:
    """The lower-cased columns that have a single-column UNIQUE index."""
    columns = set()
    for index in indexes:
        match = SINGLE_COLUMN_UNIQUE.match(index) if isinstance(index, str) else None
        if match:
            columns.add(match.group(1).split()[0].strip("`\"[]'").lower())
    return columns


def check(options: Mapping[str, Any], field_names: Iterable[str], indexes: Iterable[str]) -> dict[str, Any]:
    """The errors PocketBase reports for these options (empty when they are valid)."""
    errors: dict[str, Any] = {}

    def section(key: str) -> Mapping[str, Any]:
        value = options.get(key)
        return value if isinstance(value, Mapping) else {}

    _put(errors, ("authAlert", "emailTemplate"), _template_problems(section("authAlert").get("emailTemplate")))
    password_auth = section("passwordAuth")
    if password_auth.get("enabled") and not password_auth.get("identityFields"):
        _put(errors, ("passwordAuth", "identityFields"), _blank())
    otp = section("otp")
    if otp.get("enabled"):
        _put(errors, ("otp", "duration"), _bounded(otp.get("duration"), *SESSION_SECONDS))
        length = _number(otp.get("length"))
        if not length:
            _put(errors, ("otp", "length"), _blank())
        elif length < OTP_MIN_LENGTH:
            _put(errors, ("otp", "length"), FieldError(
                "validation_min_greater_equal_than_required", f"Must be no less than {OTP_MIN_LENGTH}.",
                {"threshold": OTP_MIN_LENGTH},
            ))
    _put(errors, ("otp", "emailTemplate"), _template_problems(otp.get("emailTemplate")))
    mfa = section("mfa")
    if mfa.get("enabled"):
        _put(errors, ("mfa", "duration"), _bounded(mfa.get("duration"), *SESSION_SECONDS))
    for key in TOKENS:
        _put(errors, (key, "duration"), _bounded(section(key).get("duration"), *TOKEN_SECONDS))
    for key in TEMPLATES:
        _put(errors, (key,), _template_problems(options.get(key)))
    _put(errors, ("oauth2",), oauth2_errors(options.get("oauth2")))
    if errors:
        return errors
    enabled = sum(bool(section(key).get("enabled")) for key in ("passwordAuth", "oauth2", "otp"))
    if mfa.get("enabled") and enabled < 2:
        return {"mfa": {"enabled": FieldError(
            "validation_mfa_not_enough_auths", "MFA requires at least 2 auth methods to be enabled."
        )}}
    if password_auth.get("enabled"):
        problem = _identity_problem(password_auth.get("identityFields") or [], field_names, indexes)
        if problem:
            return {"passwordAuth": {"identityFields": problem}}
    return {}


def _identity_problem(names: Iterable[Any], field_names: Iterable[str], indexes: Iterable[str]) -> FieldError | None:
    known = set(field_names)
    unique = _unique_columns(indexes)
    for name in names:
        if name not in known:
            return FieldError(
                "validation_missing_field", f"Invalid or missing field {name}", {"fieldName": name}
            )
        if str(name).lower() not in unique:
            return FieldError(
                "validation_missing_unique_constraint",
                f"The field {name} doesn't have a UNIQUE constraint.",
                {"fieldName": name},
            )
    return None


def force_superusers(options: dict[str, Any]) -> None:
    """As PocketBase saves ``_superusers``: no OAuth2, password sign-in on, and OTP only as
    one of two MFA factors."""
    options["oauth2"] = {**(options.get("oauth2") or {}), "enabled": False, "providers": []}
    options["passwordAuth"] = {**(options.get("passwordAuth") or {}), "enabled": True}
    if (options.get("otp") or {}).get("enabled"):
        options["mfa"] = {**(options.get("mfa") or {}), "enabled": True}
