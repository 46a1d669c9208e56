"""The contracts between the kernel, plugins and swappable services.

``App`` and ``Database`` are implemented by the kernel. The service protocols (file storage,
password hasher, auth backend, mailer, realtime broker, field type) are implemented by plugins
and offered through the ``pbk_register_*`` hooks; the plugin that *uses* a service asks
``app.services`` for it by kind and name, so another plugin can swap it without code changes.
"""

from __future__ import annotations

import builtins
import logging
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import (
    Any,
    Generic,
    Literal,
    Protocol,
    TypeVar,
    overload,
    runtime_checkable,
)

from .events import EventBus, Subscription
from .state import AppState, StateKey

T = TypeVar("T")


# --------------------------------------------------------------------------- plugins


@dataclass(frozen=True)
class PluginInfo:
    """Module-level ``PLUGIN`` constant of every plugin module.

    ``name`` must equal the entry-point name in group ``pbk.plugins``; ``requires`` names the
    plugins this one needs loaded first (``pbk serve --plugins x`` pulls them in).
    """

    name: str
    requires: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Migration:
    """A schema change applied once, in order, inside one transaction at start-up.

    ``file`` is the name recorded in ``_migrations`` (PocketBase records its own Go file names
    there; a migration that recreates a PocketBase one reuses its name so either program sees
    it as applied). ``up`` runs on the writer connection of ``database``; ``down``, when
    given, undoes it the same way (``pbk migrate down``, which refuses a migration without one).
    """

    file: str
    up: Callable[[Any], None]
    database: Literal["data", "auxiliary"] = "data"
    down: Callable[[Any], None] | None = None


# --------------------------------------------------------------------------- kernel services


class Config(Protocol):
    """The resolved command-line / ``PBK_*`` environment configuration."""

    data_dir: Path
    public_dir: Path
    http: str
    dev: bool
    index_fallback: bool
    origins: tuple[str, ...]
    query_timeout: float
    max_body_size: int
    encryption_env: str | None
    #: ``--migrationsDir``: the project's migration files (default ``pb_migrations`` beside
    #: the data dir); ``--automigrate``: write one there for every collection change.
    migrations_dir: Path
    automigrate: bool
    #: ``--hooksDir``: the hook files' folder (default ``pb_hooks`` beside the data dir).
    hooks_dir: Path
    #: ``--hooksWatch``: reload hook files when they change (default on).
    hooks_watch: bool


class Database(Protocol):
    """``app.db`` (``data.db``) and ``app.aux_db`` (``auxiliary.db``).

    Pass plain functions of an ``apsw.Connection``; they run on database threads so the event
    loop never waits on SQLite. SQL text never contains user input: bind values as ``?``.
    On PostgreSQL (``--db postgresql://...``) the function gets a ``pbk_postgres.PgConnection``,
    which mirrors the part of ``apsw.Connection`` pbk uses (``?`` placeholders, values as apsw
    returns them, apsw's exception classes); ``engine`` says which SQL dialect to write.
    """

    #: The data dir's database file on SQLite; on PostgreSQL a path in the data dir all the same
    #: (files, hooks and backups still live in ``pb_data``), where no database file is.
    path: Path
    #: ``"sqlite"`` or ``"postgresql"``: the SQL dialect the functions passed in must speak.
    engine: str

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on a reader connection (sees committed data only; inside
        ``transaction()`` it runs on the writer and sees that transaction's writes).
        Raises ``QueryTimeoutError`` past ``--queryTimeout``."""
        ...

    async def read_inline(self, fn: Callable[..., T], *args: Any) -> T:
        """``read()`` for tiny reads (a lookup by primary key), run on the event loop's own
        connection to skip the thread hop. ``fn`` may run twice (a slow or locked read is
        interrupted and retried on a reader thread), so it must only read."""
        ...

    async def write(
        self, fn: Callable[..., T], *args: Any, on_commit: Callable[[], Awaitable[None]] | None = None
    ) -> T:
        """Run ``fn(conn, *args)`` in one write transaction (a savepoint when already inside
        ``transaction()``), in one trip to the writer thread; rolled back whole if ``fn``
        raises. ``on_commit`` runs after the commit that makes it durable."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Any]:
        """``async with db.transaction():`` groups several ``write``/``read`` calls and async
        work (event handlers) into one transaction; nests as savepoints. Other writers wait
        until it ends, so keep it short."""
        ...

    @property
    def in_transaction(self) -> bool:
        """True inside an open write transaction of this database on this task (in
        ``transaction()`` or a ``write`` function): a write now joins it as a savepoint, and
        ``after_commit`` waits for its commit."""
        ...

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Schedule ``await callback()`` after the current transaction commits (dropped when
        it rolls back). Call it from inside a ``write`` function or ``transaction()``."""
        ...

    def after_rollback(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Schedule ``await callback()`` if the current transaction (or savepoint) rolls back:
        the place to undo side effects outside the database, such as files already written."""
        ...

    async def vacuum(self) -> None:
        """``VACUUM`` the file (outside any transaction, off the event loop) and give its free
        pages back to the disk, as PocketBase's ``Vacuum``/``AuxVacuum``. Raises
        ``RuntimeError`` inside ``transaction()``. The copy VACUUM builds goes to a temporary
        file (``SQLITE_TMPDIR``, else ``TMPDIR``, else ``/var/tmp`` or ``/tmp``), not memory:
        it needs free disk there about the size of the database."""
        ...


class DatabaseDriver(Protocol):
    """What a storage plugin's ``pbk.databases`` entry point, ``open_database(url, role,
    config)``, returns for ``app.db`` (role ``"main"``) or ``app.aux_db`` (``"aux"``): the
    connections of one database. The kernel runs them as it runs SQLite's (a writer thread and
    reader threads, transactions, savepoints, ``after_commit``), never on the event loop thread,
    so every engine keeps the ``Database`` contract alike. Connections mirror the part of
    ``apsw.Connection`` pbk uses and raise apsw's exception classes (plugin-sdk README)."""

    #: ``Database.engine`` of the databases it makes (``"postgresql"``)
    engine: str

    def connect(self, *, writer: bool, busy_timeout_ms: int, query_timeout: float, trace_sql: bool) -> Any:
        """A new connection, made lazily on the thread that first uses it (after ``--workers``
        forks). The writer's ``BEGIN IMMEDIATE`` takes turns with every other writer of the same
        role (in any process) and waits at most ``busy_timeout_ms``; a reader's statement fails
        with ``apsw.InterruptError`` past ``query_timeout`` seconds (0: no limit)."""
        ...

    def ensure_exists(self) -> None:
        """Called once before the first connection: reach the server and make the database if
        it has none of that name (as pbk makes a missing data dir); raise ``PluginError`` with
        one clear line when it cannot (never with a password in it)."""
        ...

    def vacuum(self, conn: Any) -> None:
        """Reclaim space on the writer's connection, outside any transaction."""
        ...

    # Optional: ``def cluster_backend(self) -> ClusterBackend | None``, a new (not yet joined)
    # backend when the database is one every node may share; the kernel looks it up with getattr.


class Settings(Protocol):
    """App settings persisted in ``_params`` row ``settings`` (PocketBase's layout)."""

    def get(self, path: str, default: Any = None) -> Any:
        """A value by dotted path, e.g. ``settings.get("smtp.host")``."""
        ...

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of all settings, declared defaults filled in."""
        ...

    async def update(self, patch: Mapping[str, Any]) -> None:
        """Deep-merge ``patch``, persist it (encrypted with ``--encryptionEnv``) and fire
        ``settings_reload`` after commit."""
        ...


class ServiceKind(str, Generic[T]):
    """A kind of swappable service, typed by its protocol: ``RECORD_STORE`` is a
    ``ServiceKind[RecordStore]``, so ``app.services.get(RECORD_STORE, "sqlite")`` is a
    ``RecordStore`` to a type checker. It is the kind's plain name to everything else."""


class ServiceRegistry(Protocol):
    """Swappable services by kind (``FILE_STORAGE`` ...) and provider name."""

    def providers(self, kind: str) -> Mapping[str, Any]:
        """Every provider registered for ``kind``, by name."""
        ...

    @overload
    def get(self, kind: ServiceKind[T], name: str | None = None) -> T: ...

    @overload
    def get(self, kind: str, name: str | None = None) -> Any: ...

    def get(self, kind: str, name: str | None = None) -> Any:
        """The service instance of provider ``name`` (created once with ``factory(app)``).
        Without a name, the only provider; several providers and no name is a ``LookupError``."""
        ...


@runtime_checkable
class WindowCounters(Protocol):
    """Fixed-window hit counters shared by every worker (``app.cluster.counters``), for limits
    that must hold for the whole server, such as rate limits. Call it from the event loop's
    thread only; a call costs a few microseconds and never waits on the network."""

    def consume(self, key: str, limit: int, window: float) -> bool:
        """Count a hit on ``key``; false (and not counted) once ``limit`` hits were counted in
        the ``window`` seconds since the window's first hit, after which a new window starts."""
        ...

    def give_back(self, key: str) -> None:
        """Take one counted hit of ``key``'s current window back (a right guess, a mail that
        was not sent after all); nothing when its window has ended."""
        ...


@runtime_checkable
class SharedSequence(Protocol):
    """Numbers that increase across every worker (``app.cluster.sequence``): of two numbers
    taken one after the other, in whichever processes, the later is larger. Messages that
    travel between workers carry one to be delivered in the order they were made. From the
    event loop's thread only; a few microseconds a call."""

    def take(self) -> int:
        """The next number (the first is 1)."""
        ...

    def last(self) -> int:
        """The last number taken by any worker (0 before the first)."""
        ...


#: ``from_worker`` of a message (``Cluster.on_message``) that came from a process of another node.
ANOTHER_NODE = -1


@dataclass(frozen=True)
class Member:
    """One live process of the cluster (``Cluster.members()``): a worker of some node."""

    #: small (below 3844) and unique among the live members; a dead member's number is reused
    number: int
    #: the random id of the node (one ``pbk serve``: its supervisor and workers share it);
    #: ``""`` without a cluster backend (every member is a worker of this node)
    node: str
    #: the worker index within its node
    worker: int
    host: str  # socket.gethostname() of its machine
    data_dir: str  # the absolute path of its node's --dir
    pid: int  # its process id (0 for another worker of this node without a backend)


class ClusterBackend(Protocol):
    """How the processes of several nodes (``pbk serve`` on one shared database) reach each
    other: what ``DatabaseDriver.cluster_backend()`` may return (an optional method of a driver
    whose database every node shares). The kernel's ``Cluster`` owns it, one per worker process,
    joined after the fork; plugins never see it (they use ``app.cluster``)."""

    #: this member, from ``join()`` on; its number changes only when a lost connection was made
    #: again and the old number was taken meanwhile (before ``lost`` is called)
    member: Member

    async def join(self, node: str, worker: int, host: str, data_dir: str,
                   receive: Callable[[int, str, bytes], None], lost: Callable[[], None]) -> Member:
        """Become a live member and return it. ``receive(sender, channel, data)`` is called on
        the event loop for every message another member sent to everyone or to this member,
        in the order the database delivered them (one total order for broadcasts), never for
        this member's own. ``lost()`` is called when the connection that receives was lost
        (messages may have been missed meanwhile), once the backend receives again."""
        ...

    async def leave(self) -> None:
        """Stop being a member (its number is free at once)."""
        ...

    def send(self, to: int | None, channel: str, data: bytes) -> None:
        """Queue a message to member ``to`` (None: every other live member) and return at once.
        One member's messages are sent in the order queued; any size, any bytes; ``channel``
        holds no newline."""
        ...

    async def flush(self) -> None:
        """Wait until every message queued so far was sent."""
        ...

    def members(self) -> Mapping[int, Member]:
        """The live members by number, this one included, kept current in memory: a member
        is listed before any message it sends arrives; a dead one disappears within ~2 s."""
        ...

    async def alive(self, number: int) -> bool:
        """Whether member ``number`` is live, asked of the database now."""
        ...

    def leading(self) -> bool:
        """True in exactly one live member of the cluster (retried about every second by each
        member that is not; false at once when its connection is lost). No I/O."""
        ...

    async def consume(self, key: str, limit: int, window: float) -> bool:
        """``WindowCounters.consume`` for the whole cluster, timed by the database's clock."""
        ...

    async def give_back(self, key: str) -> None:
        """``WindowCounters.give_back`` for the whole cluster."""
        ...

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold the cluster-wide lock ``name`` (waiting for it): one member at a time, such as
        the start of a node (migrations), which must not run beside another node's."""
        ...


class Cluster(Protocol):
    """This process among every process that serves the app: the workers of this node
    (``pbk serve --workers``) and, when the database is shared by several nodes (``pbk serve
    --db postgresql://...`` on several machines), the processes of the other nodes.

    With one worker and no other node every method is a cheap no-op, so plugins call them
    unconditionally.
    """

    worker: int  # this process's index among this node's workers, from 0
    workers: int  # this node's workers
    counters: WindowCounters  # this node's, in shared memory (``consume`` holds for the cluster)
    sequence: SharedSequence  # this node's

    @property
    def member(self) -> int:
        """This process's number among every process of every node (``worker`` with no other
        node); a key of ``members()``. It changes only after ``on_missed`` callbacks ran."""
        ...

    def members(self) -> Mapping[int, Member]:
        """The live processes of every node by number, this one included (without a cluster
        backend: this node's workers, numbered as ``worker``, with node ``""``)."""
        ...

    async def sync(self) -> None:
        """Run the ``on_sync`` reloaders now if another process called ``changed()`` since the
        last sync (the HTTP layer does this before each request; code that acts on another
        process's news outside a request, such as a realtime fan-out, calls it itself)."""
        ...

    def changed(self) -> None:
        """After committing a change to state that processes keep in memory (schema, settings):
        every other process, of this node and of the others, runs its ``on_sync`` reloaders
        before its next request. Call it before answering: made while handling a request, the
        response waits (at most ``SETTLE_SECONDS``) until every process of the other nodes has
        taken note, so the client's next request sees the change whichever node it reaches."""
        ...

    def on_sync(self, reload: Callable[[], Awaitable[None]]) -> None:
        """Run ``reload`` here when another process called ``changed()``, or when news from
        other nodes may have been missed."""
        ...

    def on_message(self, channel: str, handler: Callable[[int, bytes], Awaitable[bytes | None]]) -> None:
        """``handler(from_worker, data)`` receives ``channel``'s broadcasts and calls; what it
        returns is a call's answer. ``from_worker`` is ``ANOTHER_NODE`` for a message from a
        process of another node."""
        ...

    def want(self, channel: str, wanted: bool) -> None:
        """Whether this process wants ``channel``'s broadcasts now (``on_message`` starts with
        yes): effective before it returns for this node's workers; for other nodes, a yes made
        while handling a request is known to every process of theirs before the response
        starts."""
        ...

    def wanted(self, channel: str) -> bool:
        """Whether another process, of this node or another, wants ``channel``'s broadcasts."""
        ...

    def broadcast(self, channel: str, data: bytes) -> None:
        """Send ``data`` to every other process, of every node, that wants ``channel``: once
        each, in order, never back to this one."""
        ...

    async def call(self, worker: int, channel: str, data: bytes, timeout: float = 5.0) -> bytes:
        """Ask one worker of this node (its ``on_message`` handler) and wait for the answer;
        raises ``pbk_sdk.errors.WorkerUnreachable`` when it has gone or does not answer in time."""
        ...

    async def call_member(self, member: int, channel: str, data: bytes, timeout: float = 5.0) -> bytes:
        """``call`` to a process of any node, by its number in ``members()``."""
        ...

    async def consume(self, key: str, limit: int, window: float) -> bool:
        """``counters.consume`` for the whole cluster: through the database shared by the
        nodes when there are several, else this node's shared memory (a few microseconds)."""
        ...

    async def give_back(self, key: str) -> None:
        """``counters.give_back`` for the whole cluster (see ``consume``)."""
        ...

    def on_missed(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` when messages from other nodes may have been missed (the
        connection to them was lost for a while). The kernel then reloads everything before the
        next request itself; a plugin drops what it derived from other nodes' messages (the
        realtime plugin ends its streams, so clients reconnect)."""
        ...

    def lead(self) -> bool:
        """Whether this process is the leader: the one live process, among every worker of
        every node (and every server on this data dir), that does what must happen once for all
        (scheduled jobs). Claims the role when nobody holds it, so when the leader dies another
        process takes over. Cheap (a system call at most, no network): ask each time, do not
        cache it."""
        ...

    def restart(self) -> None:
        """Ask for a clean restart of every worker of this server (this node) and return at
        once: the workers stop as on SIGTERM (requests finish, ``terminate`` ends realtime
        streams), ``pbk_prepare_data_dir`` runs while none has the databases open, then they
        start again. Serving alone, the process re-executes itself, as PocketBase does. Raises
        ``RuntimeError`` in an app that ``pbk serve`` does not serve (tests, ``pbk shell``)."""
        ...


#: A scheduled job: ``await run()``, called without arguments; what it raises is logged.
CronJob = Callable[[], Awaitable[None]]


class CronJobs(Protocol):
    """The scheduled jobs of this worker, kept by the crons plugin: ``app.state[CRON_JOBS]``.

    Ids starting with ``__pb`` are PocketBase's system jobs (listed after the others); use one
    only to provide that PocketBase job (the logs plugin's ``__pbLogsCleanup__``).
    """

    def add(self, job_id: str, expression: str, run: CronJob) -> None:
        """Schedule ``run`` at PocketBase's cron ``expression`` (or macro), replacing a job with
        the same id; ``pbk_sdk.cron.CronError`` when the expression is not valid."""
        ...

    def remove(self, job_id: str) -> None:
        """Unschedule ``job_id`` (nothing happens when there is none)."""
        ...

    def jobs(self) -> list[tuple[str, str]]:
        """``(id, expression)`` of every job, in the order ``GET /api/crons`` lists them (a
        macro as the five fields it stands for)."""
        ...

    def run(self, job_id: str) -> bool:
        """Start ``job_id`` now, in the background, here; False when there is no such job."""
        ...


#: A route's responder: ``await responder(req, resp, **params)``, as a resource's ``on_get``.
Responder = Callable[..., Awaitable[None]]


class RuntimeRoutes(Protocol):
    """Routes added and removed while the app runs: ``app.routes`` (hook files' routes).

    They are served when no route registered at build time (``pbk_register_routes``) answers
    the request, inside the ``request`` event; this worker only, so add them in code that runs
    in every worker.
    """

    def add(self, method: str, template: str, responder: Responder) -> Subscription:
        """Serve ``method`` (``GET`` also answers ``HEAD``; ``*`` any method) at ``template``:
        ``/hello/{name}`` (a field matches one path segment), ``/files/{path...}`` (a last field
        so written matches the rest of the path). The most specific template matching a path
        wins (more literal segments, then no rest field), then the one added first. Returns a
        handle whose ``remove()`` stops serving it; ``ValueError`` for a malformed template or
        one a build-time route already serves for ``method`` (it would never be reached)."""
        ...


class App(Protocol):
    """What every hook receives as ``app``."""

    config: Config
    db: Database
    aux_db: Database
    events: EventBus
    settings: Settings
    services: ServiceRegistry
    cluster: Cluster
    routes: RuntimeRoutes
    #: Per-app plugin state by ``pbk_sdk.state.StateKey`` (``app.state[KEY]``).
    state: AppState
    hook: Any  # pluggy's hook relay; plugins call SDK hooks with ``call_hook`` (errors name the plugin)
    plugins: Sequence[PluginInfo]
    log: logging.Logger

    @property
    def data_dir(self) -> Path: ...

    def call_hook(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call the sync SDK hook ``name`` as the kernel calls it: in pluggy's order, traced
        under ``PBK_TRACE_HOOKS``. Returns each implementation's non-None result with its
        plugin's name; a failure is a one-line ``PluginError`` naming the plugin."""
        ...


# --------------------------------------------------------------------------- swappable services

@dataclass(frozen=True)
class FileInfo:
    key: str
    size: int
    modified: datetime
    content_type: str = "application/octet-stream"


class FileStorage(Protocol):
    """Where uploaded files live; keys look like ``<collectionId>/<recordId>/<name>``."""

    async def save(
        self, key: str, data: bytes | AsyncIterable[bytes], *, content_type: str | None = None
    ) -> None: ...

    async def save_file(
        self,
        key: str,
        fileobj: Any,
        size: int,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store a readable file object of ``size`` bytes, streaming it (never whole in memory)."""
        ...

    async def stat(self, key: str) -> FileInfo | None: ...

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``start..end`` (inclusive end, as HTTP ranges count)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    async def list(self, prefix: str) -> list[FileInfo]: ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords; sync (callers run it off the event loop)."""

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, hashed: str) -> bool: ...


class AuthBackend(Protocol):
    """Checks an identity/password pair against some source of truth."""

    async def authenticate(
        self, collection: str, identity: str, password: str
    ) -> Mapping[str, Any] | None:
        """The matching identity's fields (at least ``email`` or ``id``), or None to decline."""
        ...


@dataclass
class MailMessage:
    to: list[tuple[str, str]]  # (name, address)
    subject: str
    html: str = ""
    text: str = ""
    sender: tuple[str, str] = ("", "")
    cc: list[tuple[str, str]] = field(default_factory=list)
    bcc: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)


class Mailer(Protocol):
    """Sends mail without making the caller wait for the mail server."""

    async def send(
        self, message: MailMessage, *, meta: Mapping[str, Any] | None = None, wait: bool = False
    ) -> None:
        """Queue ``message`` (``meta`` describes it to ``mail_send`` handlers); with ``wait``,
        hand it to the mail server first and raise ``MailNotSent`` when that fails."""
        ...

    def compose(
        self,
        template: Mapping[str, Any],
        *,
        to: list[tuple[str, str]],
        params: Mapping[str, Any] | None = None,
        record: Mapping[str, Any] | None = None,
    ) -> MailMessage:
        """A message from a PocketBase template ``{subject, body}``: ``{APP_NAME}``,
        ``{APP_URL}``, the ``params`` (``TOKEN``, ``OTP`` ...) and ``{RECORD:field}``."""
        ...


@dataclass(frozen=True)
class RealtimeMessage:
    """A message for the realtime clients of every process: to the subscribers of ``topic``,
    or, with ``client_id``, to that one client (PocketBase's ``@oauth2`` flow does this)."""

    topic: str
    data: bytes
    client_id: str | None = None


class RealtimeBroker(Protocol):
    """Carries realtime messages between the processes/nodes that hold client connections.

    ``publish`` and ``on_message`` are the broker's job. ``clients_here``, ``anyone_listening``
    and ``close`` have defaults (nothing, True, nothing) that a broker gets by subclassing
    ``RealtimeBroker``; the realtime plugin refuses to start with a broker missing any method.
    """

    async def publish(self, message: RealtimeMessage) -> None: ...

    def on_message(self, receiver: Callable[[RealtimeMessage], Awaitable[None]]) -> None:
        """Deliver every published message (from any process) to ``receiver`` here."""
        ...

    def clients_here(self, count: int) -> None:
        """This process now holds ``count`` realtime clients (called on every connect and
        disconnect, so keep it cheap). The ``memory`` broker just keeps the number; a broker
        that knows where clients are can stop sending to processes that hold none. The default
        does nothing."""
        return

    def anyone_listening(self) -> bool:
        """Whether any process holds a client: when not, the realtime plugin skips the work of
        publishing a record change nobody could receive. The ``memory`` broker answers from
        the last ``clients_here`` count; the default, for a broker that cannot tell, is True."""
        return True

    async def close(self) -> None:
        """Stop delivering (the app shuts down). The default, for a broker without
        connections, does nothing."""
        return


class FieldType(Protocol):
    """A collection field type (``text``, ``number`` ... or a plugin's own).

    ``field`` arguments are the field's PocketBase JSON (``{"name", "type", "required", ...}``
    with this type's options filled in). Values passed to ``validate`` and ``to_db`` have been
    through ``normalize``. ``pbk_sdk.fields.BaseFieldType`` implements the common parts.
    """

    name: str
    #: This type's own options with PocketBase's defaults, e.g. ``{"min": 0, "max": 0}``.
    options: Mapping[str, Any]

    def column_definition(self, field: Mapping[str, Any]) -> str:
        """The SQLite column type and default, e.g. ``TEXT DEFAULT '' NOT NULL``. On
        PostgreSQL the records plugin translates it: ``TEXT`` becomes ``TEXT COLLATE "C"``,
        ``NUMERIC``/``REAL`` ``DOUBLE PRECISION``, ``INTEGER`` ``BIGINT``, ``BLOB`` ``BYTEA``;
        ``BOOLEAN`` and ``JSON`` (and their defaults) are the same words there."""
        ...

    def is_multiple(self, field: Mapping[str, Any]) -> bool:
        """True when values are lists (multi select/relation/file)."""
        ...

    def zero_value(self, field: Mapping[str, Any]) -> Any:
        """The value of an unset field as the API outputs it (``""``, ``0``, ``[]`` ...)."""
        ...

    def normalize(self, field: Mapping[str, Any], value: Any) -> Any:
        """Coerce input leniently as PocketBase does (``"12"`` → 12 for numbers)."""
        ...

    def validate(self, field: Mapping[str, Any], value: Any) -> Any:
        """A ``FieldError`` when ``value`` breaks the field's options (``required`` too), else None."""
        ...

    def to_db(self, field: Mapping[str, Any], value: Any) -> Any:
        """The SQLite value to store."""
        ...

    def from_db(self, field: Mapping[str, Any], raw: Any) -> Any:
        """The API value of a stored SQLite value."""
        ...

    def check_options(self, field: Mapping[str, Any]) -> Mapping[str, Any]:
        """Errors in the field's options by option name (collection create/update)."""
        ...


class CollectionInfo(Protocol):
    """A collection as the records plugin holds it (PocketBase's collection JSON by ``to_json``)."""

    id: str
    name: str
    type: str
    system: bool
    options: dict[str, Any]

    def rule(self, name: str) -> str | None:
        """``listRule`` ... ``deleteRule``, ``authRule``, ``manageRule`` (None: superusers only)."""
        ...

    def to_json(self) -> dict[str, Any]: ...


class Collections(Protocol):
    """Collections changed from code as the collections API changes them (the same checks,
    tables and ``collection_after_*_success`` events), offered by the records plugin as
    ``app.state[COLLECTIONS]``. Collections are given and shown as PocketBase's collection
    JSON; a bad one raises the ``ApiError`` the API would answer."""

    def get(self, id_or_name: str) -> CollectionInfo | None:
        """The collection as this task sees it (inside ``changing()``, with its changes)."""
        ...

    def all(self) -> builtins.list[CollectionInfo]:
        """Every collection, in the order they were created."""
        ...

    async def save(self, data: Mapping[str, Any]) -> CollectionInfo:
        """Update the collection with ``data``'s id (without an id, the one of its name) from
        ``data``, as ``PATCH`` does, or create it, keeping ``data``'s id and ``system`` flag
        (a name another id has fails as the API's create does)."""
        ...

    async def delete(self, id_or_name: str) -> None:
        """Delete the collection and its table (``ApiError(404)`` when there is none)."""
        ...

    async def import_collections(self, items: Sequence[Mapping[str, Any]], delete_missing: bool = False) -> None:
        """``PUT /api/collections/import``: save every item, and with ``delete_missing`` drop
        the collections not listed (system ones stay)."""
        ...

    def changing(self) -> AbstractAsyncContextManager[None]:
        """``async with collections.changing():`` one transaction of ``app.db`` in which each
        change sees the ones before it; every worker sees them all once it commits."""
        ...


class RecordStore(Protocol):
    """Records of every collection, for plugins other than the records plugin.

    Values are API values by field name (hidden fields included). Writes go through the same
    validation, events and transaction as the REST API; ``auth=None`` writes as the system
    (no rules), a ``RequestAuth`` applies that requester's rules.
    """

    def collection(self, id_or_name: str) -> CollectionInfo | None: ...

    async def get(self, collection: CollectionInfo, record_id: str) -> dict[str, Any] | None: ...

    async def find(self, collection: CollectionInfo, field: str, value: Any) -> dict[str, Any] | None:
        """The first record whose stored ``field`` equals ``value`` exactly (SQL ``=`` on the
        column, ``value`` bound as given, no rules): ``""`` does not match a NULL, and a
        multi-valued field compares its JSON text. For the filter language's ``=``, use
        :meth:`find_all`."""
        ...

    async def find_all(
        self, collection: CollectionInfo, where: Mapping[str, Any], *, sort: str = ""
    ) -> list[dict[str, Any]]:
        """``list()`` of the records whose fields equal ``where``'s values with the filter
        language's ``=`` (``name = {:name}`` for each key), ordered by ``sort``. Unlike
        :meth:`find`'s exact ``=``, ``""`` and ``None`` also match an empty or NULL value,
        and a multi-valued field matches when every item equals the value."""
        ...

    async def list(
        self,
        collection: CollectionInfo,
        *,
        filter: str = "",
        sort: str = "",
        limit: int | None = None,
        offset: int = 0,
        params: Mapping[str, Any] | None = None,
        auth: Any = None,
    ) -> builtins.list[dict[str, Any]]:
        """The records matching ``filter``, ordered by ``sort`` (then by insertion); both in
        PocketBase's filter language (``'status = "open" && total > {:min}'``, ``"-created"``).

        ``{:name}`` (outside quoted text) is ``params[name]``, bound as an SQL parameter, never
        spliced into the filter or SQL text: ``None`` is ``null``, ``True``/``False`` are
        ``true``/``false``, numbers and strings are themselves (every character kept), any
        other value is its JSON text. Inside quotes, ``{:name}`` is plain text. A placeholder
        without a value in ``params`` is ``ApiError(400)``. ``limit=None`` is no limit.

        Without ``auth`` it runs as the system (no rules, hidden fields allowed); with a
        ``RequestAuth`` the filter is checked as that requester's
        ``?filter`` and the collection's listRule applies, as for ``GET .../records``. A bad
        filter or sort raises ``ApiError(400)`` (403 where PocketBase answers 403).
        """
        ...

    async def count(
        self,
        collection: CollectionInfo,
        *,
        filter: str = "",
        params: Mapping[str, Any] | None = None,
        auth: Any = None,
    ) -> int:
        """How many records ``list()`` with the same ``filter``, ``params`` and ``auth`` finds
        (without a limit); ``count(collection)`` counts them all."""
        ...

    async def create(
        self, collection: CollectionInfo, data: Mapping[str, Any], *, auth: Any = None,
        context: str = "default",
    ) -> dict[str, Any]:
        """Create a record from API values; an ``UploadedFile`` value (``pbk_sdk.body``) is a
        file for that file field. ``auth=pbk_sdk.auth.GUEST`` applies a guest's rules;
        ``context`` is what ``@request.context`` sees (``oauth2`` for OAuth2 sign-ups)."""
        ...

    async def update(
        self, collection: CollectionInfo, record_id: str, data: Mapping[str, Any], *, auth: Any = None
    ) -> dict[str, Any]: ...

    async def delete(self, collection: CollectionInfo, record_id: str, *, auth: Any = None) -> None: ...

    async def present(
        self, collection: CollectionInfo, values: Mapping[str, Any], auth: Any, *, expand: Sequence[str] = ()
    ) -> dict[str, Any]:
        """The record as ``auth`` may see it (hidden fields, email visibility, ``expand``)."""
        ...

    async def matches_rule(
        self,
        collection: CollectionInfo,
        record_id: str,
        rule: str,
        auth: Any,
        *,
        context: str = "default",
        values: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        trusted: bool = True,
    ) -> bool:
        """Whether the record satisfies ``rule`` (a filter expression) for ``auth``; with
        ``values``, the record as given (one that was just deleted, say) instead of as stored;
        ``query``/``headers`` are what ``@request.query``/``@request.headers`` see. A client's
        own expression must pass ``trusted=False``: it is then checked as ``?filter`` is."""
        ...

class TokenService(Protocol):
    """PocketBase's record tokens (``auth``, ``file``, ``verification`` ...), offered by the
    auth plugin as ``"jwt"``: other plugins mint and check tokens without knowing how."""

    def mint(
        self, record: Mapping[str, Any], collection: CollectionInfo, token_type: str, *, seconds: int | None = None
    ) -> str: ...

    async def verify(self, token: str, token_type: str) -> Any:
        """The ``RequestAuth`` of the record a valid ``token_type`` token belongs to, or None."""
        ...



@dataclass(frozen=True)
class FixedTable:
    """A table outside the collections (``_logs``, say) that clients may filter and sort:
    ``columns`` maps each column to ``"text"``, ``"number"``, ``"bool"`` or ``"json"`` (a
    JSON column is also reachable by path, ``data.status``)."""

    name: str
    columns: Mapping[str, str]


@dataclass(frozen=True)
class TableQuery:
    """A compiled ``?filter`` and ``?sort``: ``where`` and ``order_by`` are SQL on the table
    aliased ``main`` (``FROM _logs AS main``), ``""`` when not given; ``params`` and
    ``order_params`` are the values bound to their ``?`` in order."""

    where: str
    params: tuple[Any, ...]
    order_by: str
    order_params: tuple[Any, ...] = ()


class ListPage(Protocol):
    """``?page``, ``?perPage`` and ``?skipTotal`` as PocketBase reads them."""

    number: int
    size: int
    skip_total: bool

    @property
    def offset(self) -> int: ...

    def envelope(self, items: builtins.list[Any], total: int) -> dict[str, Any]:
        """PocketBase's list answer (``page``, ``perPage``, ``totalItems``, ``totalPages``,
        ``items``)."""
        ...


class TableFilter(Protocol):
    """PocketBase's filter language over a fixed table, for lists that are not records (the
    logs): offered by the records plugin as ``"records"``, where the language lives."""

    def compile(self, table: FixedTable, *, filter: str = "", sort: str = "") -> TableQuery:
        """Compile a client's ``filter`` and ``sort`` over ``table``'s columns only; anything
        invalid or unknown is ``ApiError(400)``."""
        ...

    def page(self, query: Mapping[str, str]) -> ListPage:
        """The requested page, with PocketBase's defaults and limits."""
        ...


class TlsCertificates(Protocol):
    """Certificates for ``pbk serve DOMAIN...``: obtained, cached and renewed by the provider;
    served by the kernel, whose TLS listener asks ``server_context`` in every handshake.

    The kernel calls ``start`` in every worker once the app has started; the provider sees to
    it that one process among them asks the CA (``app.cluster.lead()``) and every worker serves
    the result, picking up a renewed certificate without a restart.
    """

    async def start(self, domains: Sequence[str], *, on_demand: Sequence[str] = ()) -> None:
        """Serve certificates for ``domains`` (obtained in the background when there is none
        valid yet) and for the ``on_demand`` names once a client asks for one (PocketBase's
        implicit ``www.`` names). Returns without waiting for the CA."""
        ...

    def server_context(self, server_name: str) -> ssl.SSLContext | None:
        """The TLS context holding a valid certificate for ``server_name`` (lower case), or
        None when there is none yet or the name is not served, and the handshake fails.
        Called inside TLS handshakes on the event loop: answers from memory, never waits."""
        ...

    async def http_challenge(self, path: str) -> bytes | None:
        """The body answering an ACME http-01 validation request for ``path``
        (``/.well-known/acme-challenge/TOKEN``) on the HTTP listener, or None when no
        challenge of this provider is pending there (the kernel answers 404)."""
        ...

    async def stop(self) -> None:
        """Stop obtaining and renewing (the app shuts down)."""
        ...


# --------------------------------------------------------------------------- service kinds
# Typed names for ``app.services.get(KIND, provider)`` and ``providers(KIND)``.

FILE_STORAGE: ServiceKind[FileStorage] = ServiceKind("file_storage")
PASSWORD_HASHER: ServiceKind[PasswordHasher] = ServiceKind("password_hasher")
AUTH_BACKEND: ServiceKind[AuthBackend] = ServiceKind("auth_backend")
MAILER: ServiceKind[Mailer] = ServiceKind("mailer")
REALTIME_BROKER: ServiceKind[RealtimeBroker] = ServiceKind("realtime_broker")
FIELD_TYPE: ServiceKind[FieldType] = ServiceKind("field_type")
RECORD_STORE: ServiceKind[RecordStore] = ServiceKind("record_store")
TOKEN_SERVICE: ServiceKind[TokenService] = ServiceKind("token_service")
TABLE_FILTER: ServiceKind[TableFilter] = ServiceKind("table_filter")
TLS_CERTIFICATES: ServiceKind[TlsCertificates] = ServiceKind("tls_certificates")

class BackupStatus(Protocol):
    """Whether a backup or restore runs, offered by the backups plugin as
    ``app.state[BACKUP_STATUS]`` (health's ``canBackup`` reads it)."""

    def busy(self) -> bool:
        """True while a backup or restore runs in any process of this data dir."""
        ...


class FileStorages(Protocol):
    """File storages besides the files plugin's own, and serving their files, offered by the
    files plugin as ``app.state[FILE_STORAGES]`` (the backups plugin keeps its zips in one)."""

    def for_section(self, section: str, local_root: Path) -> FileStorage:
        """S3 as settings ``<section>`` configure it when ``<section>.enabled`` is true (read
        again on every call), else the folder ``local_root`` (PocketBase's layout on disk)."""
        ...

    async def serve(self, req: Any, resp: Any, storage: FileStorage, key: str, name: str) -> bool:
        """Answer ``req`` with file ``key`` of ``storage`` as PocketBase serves a file (its
        headers, ``Last-Modified`` and 304, one byte range, ``HEAD``), offered as ``name``;
        False, with nothing answered, when there is no such file."""
        ...


#: The records plugin's ``Collections``, set by its ``pbk_startup``.
COLLECTIONS: StateKey[Collections] = StateKey("records.collections")

#: The crons plugin's ``CronJobs``, set when it starts (before other plugins' ``pbk_startup``).
CRON_JOBS: StateKey[CronJobs] = StateKey("crons.jobs")

#: The backups plugin's ``BackupStatus``, set when it starts.
BACKUP_STATUS: StateKey[BackupStatus] = StateKey("backups.status")

#: The files plugin's ``FileStorages``, set when it starts.
FILE_STORAGES: StateKey[FileStorages] = StateKey("files.storages")


class RealtimeClients(Protocol):
    """Reaching one realtime client, offered by the realtime plugin as
    ``app.state[REALTIME_CLIENTS]`` (PocketBase's ``@oauth2`` redirect uses it)."""

    async def send_once(self, client_id: str, topic: str, data: bytes, *, remote: str) -> bool:
        """Send ``data`` as event ``topic`` to ``client_id`` if it is connected (on any
        worker), subscribed to ``topic`` and, when it recorded an address, connected from
        ``remote``; False, with nothing sent, otherwise. The subscription is dropped whenever
        the client was found subscribed, also when its address differs."""
        ...


class RecordLogin(Protocol):
    """How every sign-in ends, offered by the auth plugin as ``app.state[RECORD_LOGIN]`` so
    a sign-in method in another plugin (OAuth2) ends as password and OTP sign-ins do."""

    async def finish(self, req: Any, resp: Any, collection: CollectionInfo,
                     record: Mapping[str, Any], method: str, form: Mapping[str, Any],
                     *, meta: Mapping[str, Any] | None = None) -> None:
        """Check the ``authRule`` (``@request.context`` = ``method``), take or ask the MFA
        step (``form["mfaid"]`` or ``?mfaId=``), send the login alert, then answer
        ``{record, token}`` plus ``meta`` when given. Raises ``ApiError``."""
        ...


class OAuth2Methods(Protocol):
    """The OAuth2 side of ``auth-methods``, offered by the oauth2 plugin as
    ``app.state[OAUTH2_METHODS]``; without that plugin a collection lists no provider."""

    def providers(self, collection: CollectionInfo) -> list[dict[str, Any]]:
        """The enabled providers as ``auth-methods`` lists them (``name``, ``displayName``,
        ``logo``, ``state``, ``authURL`` ending in ``&redirect_uri=``, PKCE values)."""
        ...


#: The realtime plugin's ``RealtimeClients``, set when it starts.
REALTIME_CLIENTS: StateKey[RealtimeClients] = StateKey("realtime.clients")

#: The auth plugin's ``RecordLogin``, set when it starts.
RECORD_LOGIN: StateKey[RecordLogin] = StateKey("auth.login")

#: The oauth2 plugin's ``OAuth2Methods``, set when it starts.
OAUTH2_METHODS: StateKey[OAuth2Methods] = StateKey("oauth2.methods")

#: The path a dashboard plugin serves its single-page app at (PocketBase's is ``/_/``), set by
#: that plugin when it starts; unset, no dashboard is installed. Other plugins send browsers to
#: its hash routes (the oauth2 redirect to ``#/auth/oauth2-redirect-success`` and
#: ``#/auth/oauth2-redirect-failure``) and answer a plain page of their own without it.
DASHBOARD_PATH: StateKey[str] = StateKey("dashboard.path")
