"""Runtime events: what flows over ``app.events`` while pbk serves.

The model is PocketBase's ``tools/hook``: handlers for one event name form a chain ordered by
priority (lower first, then registration order). Each handler receives the event and calls
``await e.next()`` to run the rest of the chain and, at its end, the default action (the
actual save, the actual send, the responder). A handler may

* change the event's fields before or after ``next()``;
* raise ``ApiError`` to abort; the HTTP layer answers with the envelope;
* return without ``next()`` to stop the chain, which is only right when it has answered
  itself (the bus logs a chain stopped without an answer, naming the handler).

Event names are PocketBase's hook names without ``On``, in snake_case
(``OnRecordAfterCreateSuccess`` is ``record_after_create_success``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from .interfaces import CollectionInfo

Handler = Callable[["Event"], Awaitable[None]]
#: Which collections a handler is for: names or ids, or a predicate over the collection
#: (``has_file_fields``), asked again whenever the collection's schema changes.
CollectionFilter = tuple[str, ...] | list[str] | Callable[["CollectionInfo"], bool] | None
#: The event class a handler is written for: ``async def h(e: RecordEvent)`` is accepted by
#: ``on()`` as it is (names are strings, so the checker cannot pair name and class).
E = TypeVar("E", bound="Event")

#: Fired once the HTTP server is about to accept connections (``pbk serve``), like ``OnServe``.
SERVE = "serve"
#: Fired when the app shuts down, like ``OnTerminate``.
TERMINATE = "terminate"
#: Fired around every routed HTTP request; the default action is the responder.
REQUEST = "request"
#: ``GET /api/health``; the default action sets the answer, so a handler that runs ``next()``
#: adds keys to ``e.response.media["data"]`` (the auth plugin's superuser-only details).
HEALTH_REQUEST = "health_request"
#: Fired after settings were saved, like ``OnSettingsReload``.
SETTINGS_RELOAD = "settings_reload"


class Event:
    """Base of every event. Subclasses add their payload as attributes (dataclasses work).

    ``targets()`` names what the event is about (a collection's id and name, say), so
    handlers registered with ``collections=[...]`` only see their own; ``target_collection()``
    is the collection itself, which a ``collections=`` predicate is asked about.
    """

    _chain: tuple[Any, ...] = ()
    _position: int = 0
    _default: Callable[[Any], Awaitable[Any]] | None = None
    _default_ran: bool = False

    def targets(self) -> tuple[str, ...]:
        return ()

    def target_collection(self) -> CollectionInfo | None:
        """The collection this event is about, or None (then only ``targets()`` is matched)."""
        return None

    def answered(self) -> bool:
        """True when a handler produced the outcome itself (stopping the chain is then fine)."""
        return False

    async def next(self) -> None:
        """Run the rest of the chain, then the default action."""
        position = self._position
        self._position = position + 1
        if position < len(self._chain):
            await self._chain[position].handler(self)
        elif position == len(self._chain) and self._default is not None:
            self._default_ran = True
            await self._default(self)


@dataclass(eq=False)
class ServeEvent(Event):
    """The server is about to listen on ``address`` (``host:port``), which clients reach at
    ``url`` (``http://127.0.0.1:8090``; ``https://example.com`` for ``pbk serve example.com``)."""

    app: Any
    address: str
    url: str = ""


@dataclass(eq=False)
class TerminateEvent(Event):
    app: Any


@dataclass(eq=False)
class RequestEvent(Event):
    """One routed HTTP request. ``params`` are the route's template fields."""

    request: Any
    response: Any
    params: Mapping[str, Any] = field(default_factory=dict)

    def answered(self) -> bool:
        return response_set(self.response)


def response_set(resp: Any) -> bool:
    """Whether a falcon response has its answer (a handler that answered may stop a chain)."""
    return bool(
        resp.complete or resp.media is not None or resp.data is not None or resp.text is not None
    )


@dataclass(eq=False)
class SettingsEvent(Event):
    """Settings after a save; ``changed`` holds the top-level keys that changed."""

    settings: Any
    changed: frozenset[str] = frozenset()


class Subscription(Protocol):
    """What ``EventBus.on`` returns: a handle that removes its handler again."""

    name: str

    def remove(self) -> None: ...


class EventBus(Protocol):
    """The runtime event bus at ``app.events`` (implemented by the kernel)."""

    def on(
        self,
        name: str,
        handler: Callable[[E], Awaitable[None]],
        *,
        priority: int = 0,
        collections: CollectionFilter = None,
    ) -> Subscription:
        """Add an ``async`` handler; returns a handle whose ``remove()`` takes it off again.

        ``collections`` limits it to events about some collections: a list of names or ids,
        or a predicate ``f(collection) -> bool``, asked once per schema version of each
        collection (so it follows fields added at run time, by any worker, and renames)."""
        ...

    def has(self, name: str, collection: CollectionInfo | None = None) -> bool:
        """True when any handler listens to ``name`` (about ``collection``, when given: one
        cached lookup); lets producers skip building events and chains nobody listens to."""
        ...

    async def trigger(
        self,
        name: str,
        event: Event,
        default: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> Event:
        """Run the chain for ``event``; ``default`` runs after the last handler calls next()."""
        ...


# --------------------------------------------------------------------------- records
# Fired by the records plugin. Inside-transaction events (validate, create, update, delete)
# have the SQL write as their default action; *_success events come after commit.

#: Before a create's or an update's transaction, with a ``RecordEvent`` of the record's id
#: (``record["id"]``), ``files`` and ``errors`` so far; the default action is the whole write.
#: Slow work outside the database (an upload) belongs here, so no writer waits on it.
RECORD_BEFORE_WRITE = "record_before_write"
RECORD_VALIDATE = "record_validate"
RECORD_CREATE = "record_create"
RECORD_UPDATE = "record_update"
RECORD_DELETE = "record_delete"
RECORD_AFTER_CREATE_SUCCESS = "record_after_create_success"
RECORD_AFTER_UPDATE_SUCCESS = "record_after_update_success"
RECORD_AFTER_DELETE_SUCCESS = "record_after_delete_success"
#: A create, update or delete that failed (its validation, a handler, the SQL), after the
#: rollback, like ``OnRecordAfterCreateError``; with a ``RecordErrorEvent``.
RECORD_AFTER_CREATE_ERROR = "record_after_create_error"
RECORD_AFTER_UPDATE_ERROR = "record_after_update_error"
RECORD_AFTER_DELETE_ERROR = "record_after_delete_error"
RECORDS_LIST_REQUEST = "records_list_request"
RECORD_VIEW_REQUEST = "record_view_request"
RECORD_CREATE_REQUEST = "record_create_request"
RECORD_UPDATE_REQUEST = "record_update_request"
RECORD_DELETE_REQUEST = "record_delete_request"
#: A collection about to be created or updated, like ``OnCollectionValidate``, once it passed
#: PocketBase's checks, before the transaction; handlers add field errors to ``e.errors``.
COLLECTION_VALIDATE = "collection_validate"
#: A collection change inside its transaction (after the collection was validated), like
#: ``OnCollectionCreate``/``OnCollectionCreateExecute``; the default action writes the schema.
COLLECTION_CREATE = "collection_create"
COLLECTION_UPDATE = "collection_update"
COLLECTION_DELETE = "collection_delete"
#: A collection change that failed, after its rollback, like ``OnCollectionAfterCreateError``.
COLLECTION_AFTER_CREATE_ERROR = "collection_after_create_error"
COLLECTION_AFTER_UPDATE_ERROR = "collection_after_update_error"
COLLECTION_AFTER_DELETE_ERROR = "collection_after_delete_error"
COLLECTION_AFTER_CREATE_SUCCESS = "collection_after_create_success"
COLLECTION_AFTER_UPDATE_SUCCESS = "collection_after_update_success"
COLLECTION_AFTER_DELETE_SUCCESS = "collection_after_delete_success"


class AboutCollection:
    """For an event about its ``collection``: what ``collections=`` handlers are matched on."""

    collection: Any

    def targets(self) -> tuple[str, ...]:
        return (self.collection.id, self.collection.name)

    def target_collection(self) -> CollectionInfo | None:
        collection: CollectionInfo = self.collection
        return collection


@dataclass(eq=False)
class RecordEvent(AboutCollection, Event):
    """A record being validated, written or deleted, or just written.

    ``record`` holds API values by field name (lists, dicts, numbers, ``""``), hidden fields
    included; ``original`` the stored values before an update or delete; ``files`` the
    uploads of the request by body key (``f``, ``f+``, ``+f``; ``pbk_sdk.body.UploadedFile``);
    ``submitted`` the body keys the client sent as values (so "sent unchanged" differs from
    "not sent"; uploads are in ``files``); ``context`` PocketBase's ``@request.context`` of the
    write (``default``, ``batch`` for an item of ``/api/batch`` ...).

    A value a handler assigns to ``record`` is converted by its field's type, as PocketBase's
    ``Record.Set`` converts it (``"12"`` on a number field is ``12``), and validated before the
    write, so the answer and the stored row agree; a ``password`` field holds the hash and is
    stored as assigned.
    """

    collection: Any
    record: dict[str, Any]
    original: dict[str, Any] | None = None
    auth: Any = None
    files: dict[str, list[Any]] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)
    submitted: frozenset[str] = frozenset()
    context: str = "default"


#: A record about to be answered (a list, a view, a write's answer, an expanded relation, an
#: auth answer, a realtime message), as the requester may see it, like ``OnRecordEnrich``.
RECORD_ENRICH = "record_enrich"


@dataclass(eq=False)
class RecordEnrichEvent(AboutCollection, Event):
    """``record`` is the record as answered (after the hidden fields are dropped and the
    relations expanded): handlers may add, change or drop its keys, or replace it. ``auth``
    is the requester's ``RequestAuth`` (None for a guest). No default action."""

    collection: Any
    record: dict[str, Any]
    auth: Any = None


@dataclass(eq=False)
class RecordErrorEvent(RecordEvent):
    """A write that failed: ``error`` is what it raised (the ``ApiError`` the client gets, for
    one). ``record`` holds the values of a create, the id of an update or a delete."""

    error: Any = None


@dataclass(eq=False)
class RecordRequestEvent(AboutCollection, Event):
    """An HTTP request on records; the default action performs it and sets ``result``."""

    request: Any
    response: Any
    collection: Any
    record_id: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    result: Any = None

    def answered(self) -> bool:
        return self.result is not None


@dataclass(eq=False)
class CollectionEvent(AboutCollection, Event):
    collection: Any
    original: Any = None


@dataclass(eq=False)
class CollectionValidateEvent(CollectionEvent):
    """``errors``: field errors by key, as PocketBase nests them (``{"name": FieldError(...)}``)."""

    errors: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class CollectionErrorEvent(CollectionEvent):
    """A collection change that failed: ``error`` is what it raised (an ``ApiError`` for a
    refused change)."""

    error: Any = None


# --------------------------------------------------------------------------- mail
# Fired by the mailer plugin.

#: Before a message is queued; handlers may change ``e.message``, or set ``e.cancelled`` and
#: return without ``next()`` to drop it. The default action queues the message.
MAIL_SEND = "mail_send"
#: After a message was handed to the mail server.
MAIL_AFTER_SEND = "mail_after_send"


@dataclass(eq=False)
class MailEvent(Event):
    """A message about to be queued (``mail_send``) or just delivered (``mail_after_send``).

    ``meta`` says what the mail is about when the sender said so: ``template``
    (``verification``, ``password-reset``, ``email-change``, ``otp``, ``login-alert``),
    ``collection`` and ``record``; handlers added with ``collections=`` see the mails about
    those collections.
    """

    app: Any
    message: Any
    meta: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False

    def answered(self) -> bool:
        return self.cancelled

    def targets(self) -> tuple[str, ...]:
        collection = self.meta.get("collection")
        return () if collection is None else (collection.id, collection.name)

    def target_collection(self) -> CollectionInfo | None:
        collection: CollectionInfo | None = self.meta.get("collection")
        return collection


# --------------------------------------------------------------------------- settings
# Fired by the settings plugin.

#: ``GET /api/settings``, like ``OnSettingsListRequest``: ``e.settings`` is a copy of the whole
#: document (secrets included); the default action answers it without the secrets.
SETTINGS_LIST_REQUEST = "settings_list_request"


@dataclass(eq=False)
class SettingsListEvent(RequestEvent):
    """The settings about to be listed; handlers may change ``settings`` (a copy) or answer."""

    settings: dict[str, Any] = field(default_factory=dict)


#: ``PATCH /api/settings`` before saving, like ``OnSettingsUpdateRequest``. Handlers check the
#: sections they own in ``e.settings`` and add to ``e.errors``; the default action answers 400
#: ``An error occurred while saving the new settings.`` with the errors, or saves.
SETTINGS_UPDATE_REQUEST = "settings_update_request"


@dataclass(eq=False)
class SettingsUpdateEvent(Event):
    """A settings update about to be saved.

    ``settings`` is the whole new settings document (the current one with ``patch`` merged
    in, secrets included); handlers may change it, and what differs from the current settings
    is saved. ``patch`` is what the client sent (keys as PocketBase matches them). ``errors``
    holds field errors by section, nested as PocketBase nests them:
    ``{"s3": {"bucket": FieldError(...)}}``.
    """

    settings: dict[str, Any]
    patch: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- backups
# Fired by the backups plugin.

#: A backup about to be made, like ``OnBackupCreate`` (from the API, the CLI and the automatic
#: backups alike): handlers may change ``e.name`` or add root entries of ``pb_data`` to
#: ``e.exclude``; raising refuses it. The default action makes and stores the backup.
BACKUP_CREATE = "backup_create"
#: A restore about to start, like ``OnBackupRestore``: raising refuses it. The default action
#: extracts and checks the backup; it is swapped in when every worker restarts.
BACKUP_RESTORE = "backup_restore"


@dataclass(eq=False)
class BackupEvent(Event):
    """The backup ``name`` about to be made (``backup_create``) or restored (``backup_restore``).

    ``exclude``: root entries of ``pb_data`` left out of the backup, beyond those PocketBase
    always leaves out (``backups``, ``.pb_temp_to_delete``, ``.autocert_cache`` ...); for a
    restore, root entries of the current ``pb_data`` kept as they are (the backup's dropped)."""

    app: Any
    name: str
    exclude: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- requests
# PocketBase's request hooks for routes that had none: each is fired around its route's
# responder (the default action) by the plugin serving it, through
# ``pbk_sdk.request_events.evented``, with a ``CollectionRequestEvent``.

COLLECTIONS_LIST_REQUEST = "collections_list_request"
COLLECTION_VIEW_REQUEST = "collection_view_request"
COLLECTION_CREATE_REQUEST = "collection_create_request"
COLLECTION_UPDATE_REQUEST = "collection_update_request"
COLLECTION_DELETE_REQUEST = "collection_delete_request"
COLLECTIONS_IMPORT_REQUEST = "collections_import_request"
BATCH_REQUEST = "batch_request"
RECORD_AUTH_WITH_PASSWORD_REQUEST = "record_auth_with_password_request"
RECORD_AUTH_REFRESH_REQUEST = "record_auth_refresh_request"
RECORD_REQUEST_OTP_REQUEST = "record_request_otp_request"
RECORD_AUTH_WITH_OTP_REQUEST = "record_auth_with_otp_request"
RECORD_REQUEST_VERIFICATION_REQUEST = "record_request_verification_request"
RECORD_CONFIRM_VERIFICATION_REQUEST = "record_confirm_verification_request"
RECORD_REQUEST_PASSWORD_RESET_REQUEST = "record_request_password_reset_request"
RECORD_CONFIRM_PASSWORD_RESET_REQUEST = "record_confirm_password_reset_request"
RECORD_REQUEST_EMAIL_CHANGE_REQUEST = "record_request_email_change_request"
RECORD_CONFIRM_EMAIL_CHANGE_REQUEST = "record_confirm_email_change_request"
FILE_DOWNLOAD_REQUEST = "file_download_request"
FILE_TOKEN_REQUEST = "file_token_request"
REALTIME_CONNECT_REQUEST = "realtime_connect_request"
REALTIME_SUBSCRIBE_REQUEST = "realtime_subscribe_request"


@dataclass(eq=False)
class CollectionRequestEvent(RequestEvent):
    """A request on a route, with the collection its ``{collection}`` names (None when the
    route names none or no such collection exists: the default action then answers 404)."""

    collection: Any = None

    def targets(self) -> tuple[str, ...]:
        return () if self.collection is None else (self.collection.id, self.collection.name)

    def target_collection(self) -> CollectionInfo | None:
        collection: CollectionInfo | None = self.collection
        return collection


#: Every answer that signs a record in (``{token, record}``, from any auth flow), like
#: ``OnRecordAuthRequest``: the default action builds ``e.answer``, which handlers may change
#: after ``next()`` (add keys beside ``token`` and ``record``) or set themselves.
RECORD_AUTH_REQUEST = "record_auth_request"


@dataclass(eq=False)
class RecordAuthEvent(AboutCollection, Event):
    """``record`` (stored values) of ``collection`` about to receive ``token``; ``method`` is
    the flow (``password``, ``otp``, ``oauth2``, ``refresh``, ``impersonate`` ...); ``meta`` is
    what the answer carries beside them (OAuth2's provider user and ``isNew``), None for none."""

    request: Any
    collection: Any
    record: Mapping[str, Any]
    token: str
    method: str = ""
    meta: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None

    def answered(self) -> bool:
        return self.answer is not None


# --------------------------------------------------------------------------- record mails
# Fired by the mailer plugin before ``mail_send`` for the auth mails, like
# ``OnMailerRecord*Send``, with the same ``MailEvent`` fields (``meta`` holds ``collection``
# and ``record``); the default action is ``mail_send`` and the send.

MAILER_RECORD_VERIFICATION_SEND = "mailer_record_verification_send"
MAILER_RECORD_PASSWORD_RESET_SEND = "mailer_record_password_reset_send"
MAILER_RECORD_EMAIL_CHANGE_SEND = "mailer_record_email_change_send"
MAILER_RECORD_OTP_SEND = "mailer_record_otp_send"
MAILER_RECORD_AUTH_ALERT_SEND = "mailer_record_auth_alert_send"
#: ``meta["template"]`` of an auth mail -> the event fired for it.
MAILER_RECORD_EVENTS = {
    "verification": MAILER_RECORD_VERIFICATION_SEND,
    "password-reset": MAILER_RECORD_PASSWORD_RESET_SEND,
    "email-change": MAILER_RECORD_EMAIL_CHANGE_SEND,
    "otp": MAILER_RECORD_OTP_SEND,
    "login-alert": MAILER_RECORD_AUTH_ALERT_SEND,
}


# --------------------------------------------------------------------------- realtime
# Fired by the realtime plugin.

#: A message about to be queued for one realtime client, like ``OnRealtimeMessageSend`` (the
#: ``PB_CONNECT`` greeting excepted). The default action queues it.
REALTIME_MESSAGE_SEND = "realtime_message_send"


@dataclass(eq=False)
class RealtimeMessageEvent(Event):
    """The message ``name`` (the subscription it answers, ``posts`` or ``posts/ID?options=``)
    with ``data`` (its JSON, bytes) for the client ``client_id`` (signed in as ``auth``, a
    ``RequestAuth``, or a guest: None). Handlers may replace ``data``, or set ``dropped`` and
    return without ``next()``."""

    client_id: str
    auth: Any
    name: str
    data: bytes
    dropped: bool = False

    def answered(self) -> bool:
        return self.dropped


# --------------------------------------------------------------------------- OAuth2
# Fired by the oauth2 plugin.

#: A sign-in with OAuth2 whose code was exchanged and whose provider user is known, like
#: ``OnRecordAuthWithOAuth2Request``: handlers may change ``oauth2_user``, ``create_data`` or
#: ``record`` (None signs up a new record), or raise to refuse. The default action links or
#: creates the record, then answers as every sign-in does.
RECORD_AUTH_WITH_OAUTH2_REQUEST = "record_auth_with_oauth2_request"


@dataclass(eq=False)
class RecordAuthWithOAuth2Event(AboutCollection, Event):
    """``provider_name`` the collection's provider entry; ``provider`` the configured
    ``pbk_sdk.oauth2.OAuth2Provider``; ``oauth2_user`` its ``AuthUser``; ``record`` the record
    it signs in to (found by link, by the signed-in record, or by the verified e-mail), None
    for a sign-up; ``is_new_record`` whether it is one; ``create_data`` the client's values for
    a sign-up."""

    request: Any
    response: Any
    collection: Any
    provider_name: str
    provider: Any
    oauth2_user: Any
    record: dict[str, Any] | None = None
    is_new_record: bool = False
    create_data: dict[str, Any] = field(default_factory=dict)

    def answered(self) -> bool:
        return response_set(self.response)
