"""The one error type that leaves pbk over HTTP, in PocketBase's envelope.

Raise ``ApiError`` anywhere in a responder, an event handler or a hook: the kernel turns it
into ``{"data": {...}, "message": "...", "status": N}`` exactly as PocketBase's
``router.ApiError`` does (sentence-cased message ending with a period, ``data`` always an
object, field errors as ``{"code", "message", "params"?}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: PocketBase's default message for each status (``tools/router/error.go``).
DEFAULT_MESSAGES: dict[int, str] = {
    400: "Something went wrong while processing your request.",
    401: "Missing or invalid authentication.",
    403: "You are not allowed to perform this request.",
    404: "The requested resource wasn't found.",
    413: "Request entity too large.",
    429: "Too Many Requests.",
    500: "Something went wrong while processing your request.",
}


def sentenize(message: str) -> str:
    """Capitalise the first letter and end with a period, as PocketBase's inflector does."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    if message[-1] not in ".!?":
        message += "."
    return message


class FieldError:
    """One field's validation failure: ``{"code": ..., "message": ..., "params": ...}``."""

    __slots__ = ("code", "message", "params")

    def __init__(self, code: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.message = sentenize(message)
        self.params = dict(params) if params else None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.params:
            data["params"] = self.params
        return data

    def __repr__(self) -> str:
        return f"FieldError({self.code!r}, {self.message!r})"


def _error_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Render nested field errors; plain values pass through (e.g. ``{"mfaId": ...}``)."""
    if not data:
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, FieldError):
            out[str(key)] = value.to_json()
        elif isinstance(value, Mapping):
            out[str(key)] = _error_data(value)
        else:
            out[str(key)] = value
    return out


class ApiError(Exception):
    """An HTTP error with PocketBase's envelope. ``message`` defaults by status."""

    def __init__(
        self,
        status: int,
        message: str = "",
        data: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = int(status)
        self.message = sentenize(message or DEFAULT_MESSAGES.get(self.status, "")) or sentenize(
            f"HTTP error {self.status}"
        )
        self.data = _error_data(data)
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "message": self.message, "status": self.status}

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.message!r}, {self.data!r})"

    def one_line(self) -> str:
        """The message and its field errors on one line, for an operator:
        ``Failed to create collection. (fields.1.name: Cannot be blank.)``."""
        problems: list[str] = []

        def walk(node: Any, path: str) -> None:
            if not isinstance(node, Mapping):
                return
            if isinstance(node.get("message"), str):
                problems.append(f"{path}: {node['message']}")
                return
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

        walk(self.data, "")
        return f"{self.message} ({'; '.join(problems)})" if problems else self.message


class BadRequestError(ApiError):
    def __init__(self, message: str = "", data: Mapping[str, Any] | None = None) -> None:
        super().__init__(400, message, data)


class UnauthorizedError(ApiError):
    def __init__(self, message: str = "", data: Mapping[str, Any] | None = None) -> None:
        super().__init__(401, message, data)


class ForbiddenError(ApiError):
    def __init__(self, message: str = "", data: Mapping[str, Any] | None = None) -> None:
        super().__init__(403, message, data)


class NotFoundError(ApiError):
    def __init__(self, message: str = "", data: Mapping[str, Any] | None = None) -> None:
        super().__init__(404, message, data)


class QueryTimeoutError(ApiError):
    """A read ran past ``--queryTimeout``; SQLite interrupted it."""

    def __init__(self) -> None:
        super().__init__(400, "The query took too long and was interrupted.")


class StartupError(Exception):
    """Raise from ``pbk_startup`` to stop the server with a message for the operator."""


class PluginError(Exception):
    """A plugin could not be found, imported or started. ``str()`` is the one line shown."""


class MailNotSent(Exception):
    """``Mailer.send(..., wait=True)``: the mail server did not take the message."""


class WorkerUnreachable(Exception):
    """``app.cluster.call`` could not get an answer: that worker has gone or did not answer."""
