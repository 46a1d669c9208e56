"""``pbk superuser create|upsert|update|delete|otp``, with PocketBase's messages and exit codes."""

from __future__ import annotations

from typing import Any

import click
from pbk_sdk import App
from pbk_sdk.auth import SUPERUSERS
from pbk_sdk.cli import with_app
from pbk_sdk.errors import ApiError
from pbk_sdk.formats import is_email
from pbk_sdk.interfaces import CollectionInfo

from .otp import create_otp
from .services import store, system_collection


@click.group()
def superuser() -> None:
    """Manage superusers."""


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def create(app: App, email: str, password: str) -> None:
    """Create a superuser."""
    _check_email(email)
    await _save(app, None, email, password, "failed to create new superuser account")
    click.echo(f'Successfully created new superuser "{email}"!')


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def upsert(app: App, email: str, password: str) -> None:
    """Create a superuser or change its password."""
    _check_email(email)
    await _save(app, await _find(app, email), email, password, "failed to save superuser account")
    click.echo(f'Successfully saved superuser "{email}"!')


@superuser.command()
@click.argument("email")
@click.argument("password")
@with_app
async def update(app: App, email: str, password: str) -> None:
    """Change a superuser's password."""
    existing = await _existing(app, email)
    await _save(app, existing, email, password, "failed to change superuser password")
    click.echo(f'Successfully changed superuser "{email}" password!')


@superuser.command()
@click.argument("email")
@with_app
async def delete(app: App, email: str) -> None:
    """Delete a superuser (never the last one)."""
    existing = await _find(app, email)
    if existing is None:
        click.echo(f'superuser "{email}" is missing or already deleted')
        return
    if await store(app).count(_superusers(app)) <= 1:
        raise click.ClickException("you cannot delete the only existing superuser")
    await store(app).delete(_superusers(app), existing["id"])
    click.echo(f'Successfully deleted superuser "{email}"!')


@superuser.command()
@click.argument("email")
@with_app
async def otp(app: App, email: str) -> None:
    """Create a one-time password for a superuser (OTP must be enabled on _superusers)."""
    options = _superusers(app).options.get("otp") or {}
    if not options.get("enabled"):
        raise click.ClickException("OTP auth is not enabled for the _superusers collection")
    existing = await _existing(app, email)
    otp_id, code = await create_otp(app, _superusers(app), existing, send=False)
    click.echo(f'Successfully created OTP for superuser "{email}":')
    click.echo(f"├─ Id:    {otp_id}")
    click.echo(f"├─ Pass:  {code}")
    click.echo(f"└─ Valid: {int(options.get('duration') or 180)}s")


def _superusers(app: App) -> CollectionInfo:
    return system_collection(app, SUPERUSERS)


def _check_email(email: str) -> None:
    if not is_email(email):
        raise click.ClickException("missing or invalid email address")


async def _find(app: App, email: str) -> dict[str, Any] | None:
    return await store(app).find(_superusers(app), "email", email)


async def _existing(app: App, email: str) -> dict[str, Any]:
    """The superuser with this email; exits with PocketBase's message when there is none."""
    existing = await _find(app, email)
    if existing is None:
        raise click.ClickException(f'superuser with email "{email}" doesn\'t exist')
    return existing


async def _save(
    app: App, existing: dict[str, Any] | None, email: str, password: str, failure: str
) -> None:
    """Create the superuser, or set the password of ``existing``; a refusal (a taken email, a
    short password) exits with ``failure`` and the field errors."""
    try:
        if existing is None:
            await store(app).create(
                _superusers(app), {"email": email, "password": password, "verified": True}
            )
        else:
            await store(app).update(_superusers(app), existing["id"], {"password": password})
    except ApiError as error:
        raise click.ClickException(f"{failure}: {_field_errors(error)}") from error


def _field_errors(error: ApiError) -> str:
    messages = [
        f"{name}: {detail.get('message', '')}"
        for name, detail in error.data.items()
        if isinstance(detail, dict)
    ]
    return "; ".join(messages) or error.message
