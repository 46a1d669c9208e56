"""Who is asking: tokens, every PocketBase sign-in flow but OAuth2, superusers, the bcrypt
hasher. The hook implementations only; each flow lives in its own module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from pbk_sdk import App, PluginInfo, Route, hookimpl, routes
from pbk_sdk import events as ev
from pbk_sdk.auth import DEFAULT_PASSWORD_HASHER
from pbk_sdk.interfaces import RECORD_LOGIN
from pbk_sdk.request_events import evented

from . import health, installer
from .auth_methods import AuthMethods
from .cli import superuser
from .email_change import ConfirmEmailChange, RequestEmailChange
from .hashing import BcryptHasher
from .impersonation import Impersonate
from .login import Login
from .middleware import AuthMiddleware
from .otp import AuthWithOtp, RequestOtp
from .password_auth import AUTH_BACKEND_DEFAULTS, AuthWithPassword
from .password_reset import ConfirmPasswordReset, RequestPasswordReset
from .refresh import AuthRefresh
from .token_service import JwtTokens
from .verification import ConfirmVerification, RequestVerification

PLUGIN = PluginInfo(
    name="auth", requires=("records",), description="Tokens, every sign-in flow, superusers."
)

#: Every endpoint under ``/api/collections/{collection}/``, by the path that follows.
ENDPOINTS: dict[str, Callable[[App], Any]] = {
    "auth-with-password": AuthWithPassword,
    "auth-refresh": AuthRefresh,
    "auth-methods": AuthMethods,
    "request-otp": RequestOtp,
    "auth-with-otp": AuthWithOtp,
    "request-verification": RequestVerification,
    "confirm-verification": ConfirmVerification,
    "request-password-reset": RequestPasswordReset,
    "confirm-password-reset": ConfirmPasswordReset,
    "request-email-change": RequestEmailChange,
    "confirm-email-change": ConfirmEmailChange,
    "impersonate/{record_id}": Impersonate,
}
#: PocketBase's request hook of each endpoint that has one (``auth-methods`` and
#: ``impersonate`` have none), fired around its responder.
ENDPOINT_EVENTS = {
    "auth-with-password": ev.RECORD_AUTH_WITH_PASSWORD_REQUEST,
    "auth-refresh": ev.RECORD_AUTH_REFRESH_REQUEST,
    "request-otp": ev.RECORD_REQUEST_OTP_REQUEST,
    "auth-with-otp": ev.RECORD_AUTH_WITH_OTP_REQUEST,
    "request-verification": ev.RECORD_REQUEST_VERIFICATION_REQUEST,
    "confirm-verification": ev.RECORD_CONFIRM_VERIFICATION_REQUEST,
    "request-password-reset": ev.RECORD_REQUEST_PASSWORD_RESET_REQUEST,
    "confirm-password-reset": ev.RECORD_CONFIRM_PASSWORD_RESET_REQUEST,
    "request-email-change": ev.RECORD_REQUEST_EMAIL_CHANGE_REQUEST,
    "confirm-email-change": ev.RECORD_CONFIRM_EMAIL_CHANGE_REQUEST,
}


@hookimpl
def pbk_register_token_services(app: App) -> dict[str, Callable[[App], JwtTokens]]:
    return {"jwt": JwtTokens}


@hookimpl
def pbk_register_password_hashers(app: App) -> dict[str, Callable[[App], BcryptHasher]]:
    return {"bcrypt": lambda app: BcryptHasher()}


@hookimpl
def pbk_register_middleware(app: App) -> list[AuthMiddleware]:
    return [AuthMiddleware(app)]


@hookimpl
def pbk_register_routes(app: App) -> list[Route]:
    return [
        Route(f"{routes.COLLECTION}/{path}", evented(app, endpoint(app), _events_of(path)))
        for path, endpoint in ENDPOINTS.items()
    ]


def _events_of(path: str) -> dict[str, str]:
    name = ENDPOINT_EVENTS.get(path)
    return {} if name is None else {"on_post": name}


@hookimpl
def pbk_declare_settings(app: App) -> dict[str, Any]:
    return {
        "authBackend": dict(AUTH_BACKEND_DEFAULTS),
        "passwordHasher": {"name": DEFAULT_PASSWORD_HASHER},
    }


@hookimpl
def pbk_startup(app: App) -> None:
    app.state[RECORD_LOGIN] = Login(app)
    installer.listen(app)
    health.listen(app)


@hookimpl
def pbk_register_commands(cli: click.Group) -> None:
    cli.add_command(superuser)
