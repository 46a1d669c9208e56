"""Hooks called while a pbk app is assembled, before it serves requests.

Every hook receives ``app`` (and, for ``pbk_register_commands``, only ``cli``).
Implementations may accept any subset of the arguments, so adding an argument later does not
break existing plugins. The kernel calls each plugin's implementation on its own and names the
plugin in any error it raises. Hooks are sync unless the docstring says ``may be async``;
runtime behaviour (records, requests, mail) goes over the event bus instead (``pbk_sdk.events``).

Order is pluggy's: ``@hookimpl(tryfirst=True)`` implementations first, then the others with a
plugin's requirements before it, then ``trylast`` ones (several ``trylast`` ones run dependents
first). The kernel's calls and ``app.hook.x(...)`` agree; ``pbk_shutdown`` turns the dependency
order round but keeps ``tryfirst`` first. Hook wrappers (``wrapper=True``, ``hookwrapper=True``)
are refused when the app is built, with a ``PluginError`` naming the plugin and the hook.
``PBK_TRACE_HOOKS=1`` logs every hook call, the plugins it reached and failures to ``pbk.hooks``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy

from .interfaces import App, CronJob, FieldType, Migration
from .routes import Route

hookspec = pluggy.HookspecMarker("pbk")


@hookspec
def pbk_declare_settings(app: App) -> Mapping[str, Any]:
    """Return this plugin's settings sections with their defaults, e.g. ``{"smtp": {...}}``.

    Stored values are merged over the defaults; keys nobody declares are kept as stored (a
    ``pb_data`` from PocketBase keeps its settings). Two plugins declaring the same top-level
    key stop the start-up.
    """


@hookspec
def pbk_register_migrations(app: App) -> Iterable[Migration]:
    """Return this plugin's system migrations, in the order they must run.

    The kernel applies the ones missing from ``_migrations`` at start-up, plugin by plugin in
    dependency order, each in its own transaction.
    """


@hookspec
def pbk_register_routes(app: App) -> Iterable[Route]:
    """Return the routes this plugin serves.

    Use the templates in ``pbk_sdk.routes`` where another plugin shares the prefix: falcon
    rejects two templates that name the same path segment differently.
    """


@hookspec
def pbk_banner_lines(app: App) -> Iterable[tuple[str, str]]:
    """Return ``(label, path)`` lines for the start banner, under its REST API line, e.g.
    ``[("Dashboard", "/_/")]``: the banner prints the label and the server's URL with the path."""


@hookspec
def pbk_register_middleware(app: App) -> Iterable[Any]:
    """Return falcon ASGI middleware objects (``process_request``/``process_response`` ...).

    They run after the kernel's own (CORS, security headers), in plugin order.
    """


@hookspec
def pbk_register_commands(cli: Any) -> None:
    """Add commands to the ``pbk`` click group, e.g. ``cli.add_command(superuser)``.

    Decorate a command with ``pbk_sdk.cli.with_app`` to receive a started ``app``.
    """


@hookspec
def pbk_register_system_collections(app: App) -> Iterable[Mapping[str, Any]]:
    """Return collection definitions (PocketBase collection JSON) this plugin needs to exist.

    The records plugin calls it at start-up, after the migrations, plugin by plugin in plugin
    order (once, in worker 0, under ``--workers``), and creates each collection whose name
    does not exist yet, validated as ``POST /api/collections`` validates it (so the name must
    not start with ``_``); ``"system": true`` protects it from being deleted or renamed. A
    collection that exists is left as it is, never overwritten: change it with a migration.
    A bad definition stops the start-up with a line naming the plugin.
    """


@hookspec
def pbk_register_field_types(app: App) -> Mapping[str, FieldType]:
    """Return field types by type name (``{"geoPoint": GeoPoint()}``)."""


@hookspec
def pbk_register_file_storages(app: App) -> Mapping[str, Any]:
    """Return file storage factories by name: ``{"local": lambda app: LocalStorage(...)}``.

    A factory takes ``app`` and returns a ``FileStorage``.
    """


@hookspec
def pbk_register_password_hashers(app: App) -> Mapping[str, Any]:
    """Return password hasher factories by name (``app`` → ``PasswordHasher``)."""


@hookspec
def pbk_register_auth_backends(app: App) -> Mapping[str, Any]:
    """Return auth backend factories by name (``app`` → ``AuthBackend``)."""


@hookspec
def pbk_register_mailers(app: App) -> Mapping[str, Any]:
    """Return mailer factories by name (``app`` → ``Mailer``)."""


@hookspec
def pbk_register_realtime_brokers(app: App) -> Mapping[str, Any]:
    """Return realtime broker factories by name (``app`` → ``RealtimeBroker``)."""


@hookspec
def pbk_register_record_stores(app: App) -> Mapping[str, Any]:
    """Return record store factories by name (``app`` → ``RecordStore``); the records plugin
    offers ``"sqlite"``, through which other plugins read and write records."""


@hookspec
def pbk_register_token_services(app: App) -> Mapping[str, Any]:
    """Return token service factories by name (``app`` → ``TokenService``); the auth plugin
    offers ``"jwt"``, PocketBase's tokens."""


@hookspec
def pbk_register_cron_jobs(app: App) -> Mapping[str, tuple[str, CronJob]]:
    """Return scheduled jobs by id: ``{"nightly-report": ("0 3 * * *", report)}``, where
    ``report`` is ``async def report()`` and the expression PocketBase's cron syntax (UTC).

    The crons plugin calls it at start-up in every worker; one worker (the leader, see
    ``app.cluster.lead``) runs each job when due. An id starting with ``__pb`` is PocketBase's
    system job of that name. A bad expression, or an id two plugins register, stops the start.
    """


@hookspec
def pbk_register_table_filters(app: App) -> Mapping[str, Any]:
    """Return table filter factories by name (``app`` → ``TableFilter``); the records plugin
    offers ``"records"``, its filter language over a fixed table (the logs plugin's)."""


@hookspec
def pbk_prepare_data_dir(app: App, data_dir: Path, after_failed_start: bool) -> bool | None:
    """Put ``data_dir`` in order before any process opens its databases: at every start and
    at every restart (``app.cluster.restart()``), once, in the process that serves alone or in
    the supervisor of ``pbk serve --workers`` while no worker runs.

    Sync, no threads, no database: move or remove files only (the backups plugin swaps a
    restored ``pb_data`` in here). Raise to stop the server; log and return to carry on.

    Return True when the data dir now holds what has not yet started once (a restored backup):
    if the first start then fails, the hook is called again with ``after_failed_start`` true
    to put the previous data back (True when it did), and the server starts once more.
    """


@hookspec
def pbk_register_tls_certificates(app: App) -> Mapping[str, Any]:
    """Return TLS certificate provider factories by name (``app`` → ``TlsCertificates``); the
    autotls plugin offers ``"acme"``. ``pbk serve DOMAIN...`` (or ``--https``) needs one."""


@hookspec
def pbk_startup(app: App) -> None:
    """Run once the database is open, migrations applied and settings loaded.

    May be ``async def``; the kernel awaits it. Subscribe to runtime events here
    (``app.events.on(...)``). Raise ``StartupError`` to stop with a message for the operator.
    """


@hookspec
def pbk_shutdown(app: App) -> None:
    """Run when the app stops, in reverse plugin order, before the databases close.

    May be ``async def``; the kernel awaits it.
    """


#: The hooks that offer swappable services, by service kind (see ``app.services``).
SERVICE_HOOKS: dict[str, str] = {
    "file_storage": "pbk_register_file_storages",
    "password_hasher": "pbk_register_password_hashers",
    "auth_backend": "pbk_register_auth_backends",
    "mailer": "pbk_register_mailers",
    "realtime_broker": "pbk_register_realtime_brokers",
    "field_type": "pbk_register_field_types",
    "record_store": "pbk_register_record_stores",
    "token_service": "pbk_register_token_services",
    "table_filter": "pbk_register_table_filters",
    "tls_certificates": "pbk_register_tls_certificates",
}
