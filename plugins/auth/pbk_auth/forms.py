"""Reading the auth endpoints' forms as PocketBase does: keys match case-insensitively, a value
of the wrong type answers 400 "loading", missing or invalid values 400 "validating" with every
field error at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pbk_sdk.body import read_body
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.formats import is_email

LOAD_FAILED = "An error occurred while loading the submitted data."
VALIDATION_FAILED = "An error occurred while validating the submitted data."
EMAIL_MAX = 255


async def read_form(req: Any) -> dict[str, Any]:
    """The body by lower-cased key (look names up with ``name.lower()``)."""
    body = await read_body(req, bad_json=LOAD_FAILED)
    body.close()
    return {str(key).lower(): value for key, value in body.data.items()}


def check_text(form: Mapping[str, Any], *names: str) -> None:
    """400 "loading" when one of ``names`` is sent as anything but a string."""
    for name in names:
        value = form.get(name.lower())
        if value is not None and not isinstance(value, str):
            raise ApiError(400, LOAD_FAILED)


def blank_errors(form: Mapping[str, Any], *names: str) -> dict[str, FieldError]:
    """A ``validation_required`` error for each of ``names`` missing or empty."""
    return {
        name: FieldError("validation_required", "Cannot be blank.")
        for name in names
        if not form.get(name.lower())
    }


def raise_if(errors: Mapping[str, FieldError]) -> None:
    if errors:
        raise ApiError(400, VALIDATION_FAILED, dict(errors))


async def read_fields(req: Any, *required: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A form whose ``required`` text fields are all set (``optional`` ones text if sent)."""
    form = await read_form(req)
    check_text(form, *required, *optional)
    raise_if(blank_errors(form, *required))
    return form


def email_problem(value: str) -> FieldError | None:
    """PocketBase's ``Length(1, 255)`` (in UTF-8 bytes, as ozzo-validation counts a string)
    then ``is.EmailFormat`` on a set address."""
    if len(value.encode("utf-8", "surrogatepass")) > EMAIL_MAX:
        return FieldError("validation_length_out_of_range",
                          f"The length must be between 1 and {EMAIL_MAX}.", {"max": EMAIL_MAX, "min": 1})
    if not is_email(value):
        return FieldError("validation_is_email", "Must be a valid email address.")
    return None


async def read_email(req: Any, name: str = "email") -> str:
    """The one email address of a ``request-*`` form, set and well formed."""
    form = await read_form(req)
    check_text(form, name)
    errors = blank_errors(form, name)
    value = form.get(name.lower())
    problem = email_problem(value) if value else None
    if problem:
        errors[name] = problem
    raise_if(errors)
    return str(value)


def invalid_token() -> FieldError:
    return FieldError("validation_invalid_token", "Invalid or expired token.")
