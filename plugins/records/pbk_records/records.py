"""Records: writes with modifiers, on top of the reads (``reads.py``).

Every write runs in one transaction: the stored values are read, modifiers (``n+``,
``tags-`` ...) are applied to them, the result is validated, the record events run and the
SQL executes, and the rules that need the new record (create) are checked before commit.
Because the transaction holds the single writer from the read to the commit, concurrent
``score+`` updates are serialised and none is lost. ``*_success`` events fire after commit.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import apsw
from pbk_sdk import events as ev
from pbk_sdk.auth import password_hasher
from pbk_sdk.body import Body
from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import RecordErrorEvent, RecordEvent
from pbk_sdk.interfaces import FILE_STORAGE

from .assigned import Assigned
from .collections import now
from .ddl import unique_columns
from .failures import after_failure
from .reads import _SQL, PG_ARRAY, Context, RecordReads, _rows
from .schema import Collection, Field

REQUIRED_REFERENCE = (
    "Failed to delete record. Make sure that the record is not part of a required relation reference."
)
#: A text with NUL on PostgreSQL, which cannot store it (docs/records.md).
NUL_MESSAGE = "The value cannot contain the NUL character (\\u0000)."


@dataclass
class _Input:
    """A request body split into plain values and modifiers, known fields only."""

    values: dict[str, Any] = field(default_factory=dict)
    modifiers: list[tuple[str, str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


class Records(RecordReads):
    """The records service the HTTP resources, batch and other plugins use: the reads of
    ``RecordReads`` and the writes."""

    # ------------------------------------------------------------------ writes

    def _split_input(self, collection: Collection, data: Mapping[str, Any], ctx: Context) -> _Input:
        parsed = _Input()
        for key, value in data.items():
            name, op = key, ""
            if key.endswith("+"):
                name, op = key[:-1], "+"
            elif key.startswith("+"):
                name, op = key[1:], "^"
            elif key.endswith("-"):
                name, op = key[:-1], "-"
            f = collection.field(name)
            if f is None:
                if collection.is_auth and key in ("passwordConfirm", "oldPassword"):
                    parsed.extras[key] = value
                continue
            if f.type == "autodate" or (f.hidden and not ctx.superuser and f.type != "password"):
                continue
            if collection.is_auth and f.name == "tokenKey":
                continue
            if op:
                parsed.modifiers.append((name, op, value))
            else:
                parsed.values[name] = value
        return parsed

    def _apply(self, collection: Collection, values: dict[str, Any], parsed: _Input) -> None:
        for name, raw in parsed.values.items():
            f = collection.field(name)
            assert f is not None
            if f.type == "password":
                continue  # hashed separately, after validation
            values[name] = self.field_types[f.type].normalize(f.data, raw)
        for name, op, raw in parsed.modifiers:
            f = collection.field(name)
            assert f is not None
            field_type = self.field_types[f.type]
            current = values.get(name, field_type.zero_value(f.data))
            if f.type == "number":
                delta = field_type.normalize(f.data, raw)
                if op == "+":
                    values[name] = field_type.normalize(f.data, (current or 0) + delta)
                elif op == "-":
                    values[name] = field_type.normalize(f.data, (current or 0) - delta)
            elif field_type.is_multiple(f.data):
                items = field_type.normalize(f.data, raw)
                current_list = list(current or [])
                if op == "+":
                    merged = current_list + [i for i in items if i not in current_list]
                elif op == "^":
                    merged = [i for i in items if i not in current_list] + current_list
                else:
                    merged = [i for i in current_list if i not in items]
                values[name] = field_type.normalize(f.data, merged)
            elif op in "+^" and f.type in ("select", "relation"):
                # As PocketBase: the joined list, of which a single field keeps the last value,
                # so ``f+`` replaces the value and ``+f`` keeps it.
                stored = [current] if current else []
                added = raw if isinstance(raw, list) else [raw]
                values[name] = field_type.normalize(f.data, stored + added if op == "+" else added + stored)
            elif op == "-" and f.type in ("select", "relation", "file"):
                removed = field_type.normalize(f.data, raw)
                if current == removed or (isinstance(raw, list) and current in raw):
                    values[name] = field_type.zero_value(f.data)

    def _validate(
        self, collection: Collection, values: dict[str, Any], plain_password: str | None, *, creating: bool = True
    ) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for name, is_password, data, validate, primary_key in self._plan(collection).checked:
            if not creating and primary_key:
                continue  # PocketBase checks an id's format only when it is chosen
            value = plain_password if is_password and plain_password is not None else values.get(name)
            if is_password and plain_password is None:
                if data.get("required") and not values.get(name):
                    errors[name] = FieldError("validation_required", "Cannot be blank.")
                continue
            problem = validate(data, value)
            if problem is not None:
                errors[name] = problem
        if self.engine != "sqlite":
            _refuse_nul(values, errors)
        return errors

    def _relation_queries(
        self,
        collection: Collection,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        only: Sequence[str] | None = None,
    ) -> builtins.list[tuple[str, str | None, builtins.list[Any]]]:
        """Per relation field to check (those in ``only``, or all, but not those with errors):
        its name, the COUNT query (None: no such collection), ids."""
        queries: list[tuple[str, str | None, list[Any]]] = []
        for name, target_id in self._plan(collection).relations:
            if name in errors or (only is not None and name not in only):
                continue
            value = values.get(name)
            ids = value if isinstance(value, list) else [value] if value else []
            if not ids:
                continue
            target = self.registry.get(target_id)
            if target is None:
                queries.append((name, None, ids))
                continue
            marks = ", ".join("?" for _ in ids)
            queries.append((name, f"SELECT COUNT(*) FROM {self.quote(target.name)} WHERE id IN ({marks})", ids))
        return queries

    async def _check_relations(
        self,
        collection: Collection,
        values: Mapping[str, Any],
        errors: dict[str, Any],
        only: Sequence[str] | None = None,
    ) -> None:
        """Add ``validation_missing_rel_records`` to ``errors`` for each relation field (of
        ``only``, or all) naming a record that is not stored."""
        queries = self._relation_queries(collection, values, errors, only)
        if not queries:
            return

        def counts(conn: apsw.Connection) -> list[bool]:
            return [sql is not None and conn.execute(sql, ids).get == len(set(ids)) for _, sql, ids in queries]

        for (name, _, _), found in zip(queries, await self.db.read(counts), strict=True):
            if not found:
                errors[name] = FieldError("validation_missing_rel_records", "Failed to find all relation records with the provided ids.")

    async def _store_password(
        self, collection: Collection, values: dict[str, Any], password: str, errors: dict[str, Any],
        hashed: str | None = None,
    ) -> None:
        """Hash the new password into ``values`` (bcrypt in a thread: ~100 ms of CPU)."""
        field_ = _password_field(collection)
        if field_ is not None and field_.name not in errors:
            values[field_.name] = hashed or await asyncio.to_thread(self._hash_password, password)

    async def _prepare_password(
        self, collection: Collection, record_id: str, parsed: _Input
    ) -> tuple[str | None, tuple[str, bool] | None]:
        """The bcrypt work of an update, done before its transaction so no writer waits on it:
        the new password's hash, and ``(stored hash, oldPassword matches it)``."""
        field_ = _password_field(collection)
        raw = parsed.values.get(field_.name) if field_ is not None else None
        if field_ is None or raw is None or raw == "":
            return None, None
        hashed = None
        if self.field_types[field_.type].validate(field_.data, str(raw)) is None:
            hashed = await asyncio.to_thread(self._hash_password, str(raw))
        old = parsed.extras.get("oldPassword")
        if not old:
            return hashed, None
        stored = await self.get(collection, record_id)
        stored_hash = str((stored or {}).get(field_.name, ""))
        matches = await asyncio.to_thread(self._verify_password, str(old), stored_hash)
        return hashed, (stored_hash, matches)

    def _hash_password(self, password: str) -> str:
        try:
            hasher = password_hasher(self.app)
        except LookupError as exc:
            raise ApiError(500, "No password hasher is installed (the auth plugin provides bcrypt).") from exc
        return hasher.hash(password)

    def _autogenerate(self, collection: Collection, values: dict[str, Any]) -> None:
        for name, data in self._plan(collection).generated:
            if not values.get(name):
                values[name] = self.field_types["text"].autogenerate(data)

    async def create(
        self, collection: Collection, body: Body, ctx: Context, *, record_id: str = "", staged: bool = False
    ) -> dict[str, Any]:
        """Create a record from a request body; returns its stored values. ``record_id`` is the
        id to give it when the body names none, and ``staged`` says the caller already fired
        ``record_before_write`` for it (a batch does both before its transaction).

        The create rule is checked on a trial insert of the unvalidated values, before any
        validation: a caller it refuses gets PocketBase's bare 400, never a field error (which
        could tell them, say, which ids a relation's collection holds), and costs no
        validation or password hashing."""
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        self._refuse_locked(collection, "createRule", ctx)
        parsed = self._split_input(collection, body.data, ctx)
        plan = self._plan(collection)
        values = {name: zero() for name, zero in plan.zeros}
        self._apply(collection, values, parsed)
        if record_id and not values.get("id"):
            values["id"] = record_id
        self._autogenerate(collection, values)
        stamp = now()
        for name in plan.stamped:
            values[name] = stamp
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
        verified_by_client = bool(collection.is_auth and "verified" in parsed.values and values.get("verified"))
        rules = self._create_rules(collection, ctx, ask_manage=verified_by_client)
        errors: dict[str, Any] = {}
        password = self._password_input(collection, parsed, errors, creating=True)
        one_step = not self.events.has(ev.RECORD_VALIDATE, collection) and not self.events.has(ev.RECORD_CREATE, collection)
        # In one step, a create rule alone (no manage rule, no password to hash in between, no
        # auth record whose trial differs) is checked on the row the INSERT itself writes.
        rule_on_insert = one_step and password is None and not collection.is_auth and rules is not None and rules[1] is None
        manager = rules is None
        if rules is not None and not rule_on_insert:
            manager = await self._trial_create(collection, values, *rules)
        if verified_by_client and not manager:
            errors["verified"] = FieldError("validation_values_mismatch", "Values don't match.")
        errors = {**self._validate(collection, values, password), **errors}
        if password is not None:
            await self._store_password(collection, values, password, errors)
        event = RecordEvent(
            collection=collection, record=values, auth=ctx.auth, files=body.files, errors=errors,
            submitted=frozenset(body.data), context=ctx.info.context,
        )
        try:
            if one_step:
                # No handler in either chain: both are their default actions, so the rule check, the
                # relation check, the validation verdict and the INSERT run in one writer call (one
                # transaction, or one savepoint of the caller's), not one hop each.
                await self.db.write(
                    self._create_in_one, event, rules[0] if rules is not None and rule_on_insert else None,
                    on_commit=lambda: self._after(ev.RECORD_AFTER_CREATE_SUCCESS, event),
                    inline=True,
                )
                return event.record
            if staged:
                await self._create_write(event)
                return event.record
            before = RecordEvent(
                collection=collection, record=values, auth=ctx.auth, files=body.files, errors=errors,
                context=ctx.info.context,
            )
            await self.events.trigger(ev.RECORD_BEFORE_WRITE, before, lambda _: self._create_write(event))
            return event.record
        except Exception as error:
            await self._failed(ev.RECORD_AFTER_CREATE_ERROR, collection, event.record, ctx, error)
            raise

    async def _create_write(self, event: RecordEvent) -> None:
        """``create``'s transaction (the default action of ``record_before_write``)."""
        collection, values, errors = event.collection, event.record, event.errors
        async with self.db.transaction():
            # NOTE: inside the transaction, so this read is the one that sends BEGIN (no extra hop).
            await self._check_relations(collection, values, errors)
            message = "Failed to create record."
            assigned = Assigned(self, event)
            await assigned.run(ev.RECORD_VALIDATE, event, self._raise_errors(message), message, writes=False)
            await assigned.run(ev.RECORD_CREATE, event, self._insert, message, writes=True)
            self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_CREATE_SUCCESS, event))

    def _create_rules(
        self, collection: Collection, ctx: Context, *, ask_manage: bool
    ) -> tuple[_SQL | None, _SQL | None] | None:
        """The create rule's and (when ``ask_manage``) the manage rule's SQL for ``ctx``: None
        for a superuser, who may create and manage anything; ``(None, None)`` when neither
        restricts ``ctx``. Raises 403 for a null (superusers only) create rule."""
        if ctx.superuser:
            return None
        rule = self._rule(collection, "createRule", ctx)
        manage = None
        if ask_manage and ctx.auth is not None and collection.rule("manageRule"):
            compiled = self.compile_rule(str(collection.rule("manageRule")), collection, ctx.info)
            manage = (compiled.sql, compiled.params)
        return rule, manage

    async def _trial_create(
        self, collection: Collection, values: Mapping[str, Any], rule: _SQL | None, manage: _SQL | None
    ) -> bool:
        """Raise PocketBase's bare 400 unless the create rule admits the new record; return
        whether the requester may manage it (``manage``).

        As in PocketBase, both rules see the record inserted without validation (``verified``
        false, so a manage rule cannot lean on it), in a savepoint that is always undone."""
        if rule is None and manage is None:
            return False
        trial = dict(values)
        if collection.is_auth:
            trial["verified"] = False
        created, managed = await self.db.write(self._trial_insert, collection, trial, rule, manage, inline=True)
        if not created:
            raise ApiError(400, "Failed to create record.")
        return managed

    def _trial_insert(
        self,
        conn: apsw.Connection,
        collection: Collection,
        values: Mapping[str, Any],
        rule: tuple[str, builtins.list[Any]] | None,
        manage: tuple[str, builtins.list[Any]] | None,
    ) -> tuple[bool, bool]:
        """On the writer: insert ``values`` in a savepoint, test both rules on the row (created,
        managed), and undo the insert."""
        conn.execute("SAVEPOINT pbk_trial_insert")
        try:
            created = self._insert_under_rule(conn, collection, values, rule)
            check = f"SELECT 1 FROM {self.quote(collection.name)} AS main WHERE main.id = ? AND "
            managed = created and manage is not None and (
                conn.execute(f"{check}({manage[0]})", (values["id"], *manage[1])).fetchone() is not None
            )
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            return False, False  # a failing rule: refused like any denial
        finally:
            conn.execute("ROLLBACK TO pbk_trial_insert; RELEASE pbk_trial_insert")
        return created, managed

    def _insert_under_rule(
        self, conn: apsw.Connection, collection: Collection, values: Mapping[str, Any], rule: _SQL | None
    ) -> bool:
        """On the writer: insert ``values`` and say whether ``rule`` admits the row; False (and
        nothing inserted) when the INSERT or the rule fails: a taken id or a failing rule is
        refused like any denial. The caller undoes the row it does not keep."""
        sql, params = self._insert_sql(collection, values)
        try:
            conn.execute(sql, params)
            check = f"SELECT 1 FROM {self.quote(collection.name)} AS main WHERE main.id = ? AND "
            return rule is None or conn.execute(f"{check}({rule[0]})", (values["id"], *rule[1])).fetchone() is not None
        except apsw.Error as exc:
            if isinstance(exc, apsw.InterruptError):
                raise
            return False

    def _missing_relations(
        self, conn: apsw.Connection, collection: Collection, values: Mapping[str, Any], errors: dict[str, Any]
    ) -> None:
        """``_check_relations`` on the writer's connection."""
        for name, sql, ids in self._relation_queries(collection, values, errors):
            if sql is None or conn.execute(sql, ids).get != len(set(ids)):
                errors[name] = FieldError(
                    "validation_missing_rel_records", "Failed to find all relation records with the provided ids."
                )

    def _create_in_one(self, conn: apsw.Connection, event: RecordEvent, rule: _SQL | None = None) -> None:
        """On the writer: what ``create`` does when no handler joins ``record_validate`` or
        ``record_create`` (relation check, ``_raise_errors``, ``_insert``). With ``rule``, the
        row is inserted after the relation check (a relation naming the new record's own id
        finds nothing, as on the normal path) and kept only if the rule admits it and the
        verdict is clean (the write function raising undoes it), which spares the trial insert
        its own writer call. Safe to run again after an interrupted run was rolled back."""
        message = "Failed to create record."
        collection, values = event.collection, event.record
        self._missing_relations(conn, collection, values, event.errors)
        if rule is not None and not self._insert_under_rule(conn, collection, values, rule):
            raise ApiError(400, message)
        self._check_verdict(event, message)
        if rule is not None:
            return  # inserted above
        sql, params = self._insert_sql(collection, values)
        try:
            conn.execute(sql, params)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message, collection) from exc

    async def update(
        self, collection: Collection, record_id: str, body: Body, ctx: Context, *, staged: bool = False
    ) -> dict[str, Any]:
        """Update a record from a request body; ``staged``: as for :meth:`create`."""
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        self._refuse_locked(collection, "updateRule", ctx)
        parsed = self._split_input(collection, body.data, ctx)
        try:
            if self._updates_in_one(collection, staged=staged):
                # No handler in any chain and no password: the read, the rule, the checks and the
                # UPDATE run in one writer call (one transaction, or a savepoint of the caller's).
                done: builtins.list[RecordEvent] = []
                await self.db.write(
                    self._update_in_one, collection, record_id, body, ctx, parsed, done,
                    on_commit=lambda: self._after(ev.RECORD_AFTER_UPDATE_SUCCESS, done[0]),
                    inline=True,
                )
                return done[0].record
            hashed, old_check = await self._prepare_password(collection, record_id, parsed)
            if staged:
                return await self._update_write(collection, record_id, body, ctx, parsed, hashed, old_check)
            before = RecordEvent(
                collection=collection, record={"id": record_id}, auth=ctx.auth, files=body.files, context=ctx.info.context
            )
            written: builtins.list[dict[str, Any]] = []

            async def write(_: RecordEvent) -> None:
                written.append(await self._update_write(collection, record_id, body, ctx, parsed, hashed, old_check))

            await self.events.trigger(ev.RECORD_BEFORE_WRITE, before, write)
            if not written:  # a handler stopped the chain
                raise ApiError(400, "Failed to update record.")
            return written[0]
        except Exception as error:
            await self._failed(ev.RECORD_AFTER_UPDATE_ERROR, collection, {"id": record_id}, ctx, error)
            raise

    def _updates_in_one(self, collection: Collection, *, staged: bool) -> bool:
        """Whether an update of ``collection`` may run in one writer call: no handler on
        ``record_validate``, ``record_update`` or (unless the caller fired it) on
        ``record_before_write``, and no password (hashed, and on auth records checked, first)."""
        has = self.events.has
        return (
            not collection.is_auth
            and _password_field(collection) is None
            and not has(ev.RECORD_VALIDATE, collection)
            and not has(ev.RECORD_UPDATE, collection)
            and (staged or not has(ev.RECORD_BEFORE_WRITE, collection))
        )

    def _update_rule(
        self, collection: Collection, original: Mapping[str, Any], parsed: _Input, ctx: Context
    ) -> _SQL | None:
        """The update rule's SQL, with ``@request.body`` the submitted values applied to the
        stored ones (as PocketBase shows them to the rule)."""
        preview = _copy_values(original)
        self._apply(collection, preview, parsed)
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, preview, parsed))
        return self._rule(collection, "updateRule", ctx)

    def _updated_values(
        self, collection: Collection, record_id: str, original: Mapping[str, Any], parsed: _Input
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The new values (modifiers applied, ``onUpdate`` autodates stamped) and the errors
        found so far (a changed primary key)."""
        values = _copy_values(original)
        self._apply(collection, values, parsed)
        errors: dict[str, Any] = {}
        if values.get("id") != record_id:
            errors["id"] = FieldError("validation_pk_change", "The record primary key cannot be changed.")
            values["id"] = record_id
        stamp = now()
        for f in collection.fields:
            if f.type == "autodate" and f.get("onUpdate"):
                values[f.name] = stamp
        return values, errors

    def _update_in_one(
        self, conn: apsw.Connection, collection: Collection, record_id: str, body: Body, ctx: Context,
        parsed: _Input, done: builtins.list[RecordEvent],
    ) -> None:
        """On the writer: ``_update_write`` when no handler joins (see ``_updates_in_one``);
        the event it would fire is appended to ``done``."""
        original = self._get_on(conn, collection, record_id, lock=True)
        if original is None:
            raise ApiError(404)
        rule = self._update_rule(collection, original, parsed, ctx)
        if rule is not None and not self._matches_on(conn, collection, record_id, rule):
            raise ApiError(404)
        values, errors = self._updated_values(collection, record_id, original, parsed)
        errors = {**self._validate(collection, values, None, creating=False), **errors}
        self._missing_relations(conn, collection, values, errors)
        ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
        event = RecordEvent(
            collection=collection, record=values, original=original, auth=ctx.auth, files=body.files,
            errors=errors, submitted=frozenset(body.data), context=ctx.info.context,
        )
        message = "Failed to update record."
        self._check_verdict(event, message)
        sql, params = self._update_sql(collection, values)
        try:
            conn.execute(sql, params)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message, collection) from exc
        done.append(event)

    async def _update_write(
        self, collection: Collection, record_id: str, body: Body, ctx: Context, parsed: _Input,
        hashed: str | None, old_check: tuple[str, bool] | None,
    ) -> dict[str, Any]:
        """``update``'s transaction (the default action of ``record_before_write``)."""
        async with self.db.transaction():
            original = await self.get(collection, record_id)
            if original is None:
                raise ApiError(404)
            rule = self._update_rule(collection, original, parsed, ctx)
            if rule is not None and not await self._matches(collection, record_id, rule):
                raise ApiError(404)
            values, errors = self._updated_values(collection, record_id, original, parsed)
            password = self._password_input(collection, parsed, errors, creating=False)
            if collection.is_auth:
                await self._auth_update_checks(collection, original, values, parsed, password, old_check, ctx, errors)
            errors = {**self._validate(collection, values, password, creating=False), **errors}
            await self._check_relations(collection, values, errors)
            if password is not None:
                await self._store_password(collection, values, password, errors, hashed)
            if collection.is_auth and (password is not None or values.get("email") != original.get("email")):
                token_key = collection.field("tokenKey")
                values["tokenKey"] = self.field_types["text"].autogenerate(token_key.data if token_key else {})
            ctx.info = dataclasses.replace(ctx.info, body=_body_for_rules(collection, values, parsed))
            event = RecordEvent(
                collection=collection, record=values, original=original, auth=ctx.auth, files=body.files,
                errors=errors, submitted=frozenset(body.data), context=ctx.info.context,
            )
            message = "Failed to update record."
            assigned = Assigned(self, event)
            await assigned.run(ev.RECORD_VALIDATE, event, self._raise_errors(message), message, writes=False)
            await assigned.run(ev.RECORD_UPDATE, event, self._update, message, writes=True)
            self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_UPDATE_SUCCESS, event))
        return event.record

    async def delete(self, collection: Collection, record_id: str, ctx: Context) -> None:
        if collection.is_view:
            raise ApiError(400, "Unsupported collection type.")
        rule = self._rule(collection, "deleteRule", ctx)
        try:
            if not self.events.has(ev.RECORD_DELETE, collection) and not self._referenced(collection):
                # Nothing to cascade and no handler: the read, the rule and the DELETE in one call.
                done: builtins.list[RecordEvent] = []
                await self.db.write(
                    self._delete_in_one, collection, record_id, rule, ctx, done,
                    on_commit=lambda: self._after(ev.RECORD_AFTER_DELETE_SUCCESS, done[0]),
                    inline=True,
                )
                return
            async with self.db.transaction():
                original = await self.get(collection, record_id)
                if original is None or (rule is not None and not await self._matches(collection, record_id, rule)):
                    raise ApiError(404)
                await self.delete_values(collection, original, ctx, visited=set())
        except Exception as error:
            await self._failed(ev.RECORD_AFTER_DELETE_ERROR, collection, {"id": record_id}, ctx, error)
            raise

    def _referenced(self, collection: Collection) -> bool:
        """Whether a relation field of a stored (non-view) collection points at ``collection``."""
        return any(not ref.is_view for ref, _ in self.registry.references_to(collection))

    def _delete_in_one(
        self, conn: apsw.Connection, collection: Collection, record_id: str, rule: _SQL | None, ctx: Context,
        done: builtins.list[RecordEvent],
    ) -> None:
        """On the writer: ``delete`` of a record nothing references and no handler watches;
        the event ``record_after_delete_success`` gets is appended to ``done``."""
        original = self._get_on(conn, collection, record_id)
        if original is None or (rule is not None and not self._matches_on(conn, collection, record_id, rule)):
            raise ApiError(404)
        conn.execute(f"DELETE FROM {self.quote(collection.name)} WHERE id = ?", (record_id,))
        done.append(RecordEvent(
            collection=collection, record=original, original=original, auth=ctx.auth, context=ctx.info.context
        ))

    async def delete_values(
        self, collection: Collection, values: dict[str, Any], ctx: Context, *, visited: set[str]
    ) -> None:
        """Delete a record inside the current transaction, resolving references first."""
        key = f"{collection.id}/{values['id']}"
        if key in visited:
            return
        visited.add(key)
        for ref_collection, ref_field in self.registry.references_to(collection):
            if ref_collection.is_view:
                continue
            for ref_values in await self._referencing(ref_collection, ref_field, values["id"]):
                if ref_field.get("cascadeDelete"):
                    await self.delete_values(ref_collection, ref_values, ctx, visited=visited)
                    continue
                current = ref_values.get(ref_field.name)
                remaining = [i for i in current if i != values["id"]] if isinstance(current, list) else ""
                if ref_field.required and not remaining:
                    raise ApiError(400, REQUIRED_REFERENCE)
                updated = {**ref_values, ref_field.name: remaining}
                event = RecordEvent(
                    collection=ref_collection, record=updated, original=ref_values, auth=ctx.auth,
                    context=ctx.info.context,
                )
                await Assigned(self, event).run(
                    ev.RECORD_UPDATE, event, self._update, "Failed to update record.", writes=True
                )
                self.db.after_commit(functools.partial(self._after, ev.RECORD_AFTER_UPDATE_SUCCESS, event))
        event = RecordEvent(
            collection=collection, record=values, original=values, auth=ctx.auth, context=ctx.info.context
        )
        await self.events.trigger(ev.RECORD_DELETE, event, self._delete)
        self.db.after_commit(lambda: self._after(ev.RECORD_AFTER_DELETE_SUCCESS, event))

    async def _referencing(self, collection: Collection, f: Field, record_id: str) -> builtins.list[dict[str, Any]]:
        column = self.quote(f.name)
        if self.field_types["relation"].is_multiple(f.data) and self.engine != "sqlite":
            condition = f"EXISTS (SELECT 1 FROM json_array_elements_text({PG_ARRAY.format(column)}) AS e WHERE e = ?)"
        elif self.field_types["relation"].is_multiple(f.data):
            condition = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = ?)"
        else:
            condition = f"{column} = ?"
        sql = f"SELECT * FROM {self.quote(collection.name)} WHERE {condition}"
        rows = await self.db.read(lambda conn: _rows(conn.execute(sql, (record_id,))))
        return [self.values_from_row(collection, r) for r in rows]

    # ------------------------------------------------------------------ auth records

    def _password_input(
        self, collection: Collection, parsed: _Input, errors: dict[str, Any], *, creating: bool
    ) -> str | None:
        """The new plain password (hashed before it is stored), with ``passwordConfirm``
        checked on auth collections; None when it does not change."""
        field_ = _password_field(collection)
        if field_ is None:
            return None
        raw = parsed.values.get(field_.name)
        if raw is None or raw == "":
            if creating and field_.required:
                errors[field_.name] = FieldError("validation_required", "Cannot be blank.")
            return None
        password = raw if isinstance(raw, str) else str(raw)
        if collection.is_auth and parsed.extras.get("passwordConfirm") != raw:
            errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")
        return password

    async def _can_manage(self, collection: Collection, record_id: str, ctx: Context) -> bool:
        rule = collection.rule("manageRule")
        if ctx.superuser:
            return True
        if not rule or ctx.auth is None:
            return False
        compiled = self.compile_rule(rule, collection, ctx.info)
        return await self._matches(collection, record_id, (compiled.sql, compiled.params))

    async def _auth_update_checks(
        self,
        collection: Collection,
        original: Mapping[str, Any],
        values: dict[str, Any],
        parsed: _Input,
        password: str | None,
        old_check: tuple[str, bool] | None,
        ctx: Context,
        errors: dict[str, Any],
    ) -> None:
        manager = await self._can_manage(collection, original["id"], ctx)
        if manager:
            return
        for name in ("email", "verified"):
            if name in parsed.values and values.get(name) != original.get(name):
                errors[name] = FieldError("validation_values_mismatch", "Values don't match.")
        if password is not None:
            old = parsed.extras.get("oldPassword")
            if not old:
                errors["oldPassword"] = FieldError("validation_required", "Cannot be blank.")
            elif old_check is None or old_check[0] != str(original.get("password", "")) or not old_check[1]:
                # (checked before the transaction; a password changed since then fails too)
                errors["oldPassword"] = FieldError("validation_invalid_old_password", "Missing or invalid old password.")

    def _verify_password(self, password: str, hashed: str) -> bool:
        try:
            hasher = password_hasher(self.app)
        except LookupError:
            return False
        return bool(hashed) and hasher.verify(password, hashed)

    # ------------------------------------------------------------------ SQL

    def _check_verdict(self, event: RecordEvent, message: str) -> None:
        if event.errors:
            raise ApiError(400, message, event.errors)
        if event.files and not self.app.services.providers(FILE_STORAGE):
            raise ApiError(400, message, {
                name: FieldError("validation_invalid_file", "File uploads need a file storage plugin.")
                for name in event.files
            })

    def _raise_errors(self, message: str) -> Any:
        async def default(event: RecordEvent) -> None:
            self._check_verdict(event, message)

        return default

    def _insert_sql(self, collection: Collection, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        row = self._db_row(collection, values)
        columns = ", ".join(self.quote(c) for c in row)
        sql = f"INSERT INTO {self.quote(collection.name)} ({columns}) VALUES ({', '.join('?' for _ in row)})"
        return sql, tuple(row.values())

    async def _insert(self, event: RecordEvent) -> None:
        sql, params = self._insert_sql(event.collection, event.record)
        await self._write_unique(event.collection, sql, params, "Failed to create record.")

    def _update_sql(self, collection: Collection, values: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        row = self._db_row(collection, values)
        assignments = ", ".join(f"{self.quote(c)} = ?" for c in row)
        return f"UPDATE {self.quote(collection.name)} SET {assignments} WHERE id = ?", (*row.values(), values["id"])

    async def _update(self, event: RecordEvent) -> None:
        sql, params = self._update_sql(event.collection, event.record)
        await self._write_unique(event.collection, sql, params, "Failed to update record.")

    async def _delete(self, event: RecordEvent) -> None:
        sql = f"DELETE FROM {self.quote(event.collection.name)} WHERE id = ?"
        await self.db.write(lambda conn: conn.execute(sql, (event.record["id"],)), inline=True)

    def _db_row(self, collection: Collection, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: to_db(values[name]) for name, to_db in self._plan(collection).writers if name in values}

    async def _write_unique(self, collection: Collection, sql: str, params: tuple[Any, ...], message: str) -> None:
        try:
            await self.db.write(lambda conn: conn.execute(sql, params), inline=True)
        except apsw.ConstraintError as exc:
            raise _constraint_error(exc, message, collection) from exc

    async def _failed(
        self, name: str, collection: Collection, record: dict[str, Any], ctx: Context, error: Exception
    ) -> None:
        """Fire ``name`` (``record_after_*_error``) for a write that failed; not for a record
        that is not there for the requester (404, 403), refused before any write, as in PocketBase."""
        if isinstance(error, ApiError) and error.status in (403, 404):
            return
        if not self.events.has(name, collection):  # no listener: no event to build
            return
        failed = RecordErrorEvent(collection=collection, record=record, auth=ctx.auth, context=ctx.info.context,
                                  error=error)
        await after_failure(self.db, self.events, name, failed)

    async def _after(self, name: str, event: RecordEvent) -> None:
        if self.events.has(name, event.collection):
            await self.events.trigger(name, event)


def _constraint_error(exc: apsw.ConstraintError, message: str, collection: Collection) -> ApiError:
    """PocketBase's 400 for a failed constraint (``validation_not_unique`` per UNIQUE column)."""
    columns = unique_columns(exc, collection)
    if not columns:
        return ApiError(400, message)
    return ApiError(400, message, {
        name: FieldError("validation_not_unique", "Value must be unique.") for name in columns
    })


def _refuse_nul(values: Mapping[str, Any], errors: dict[str, Any]) -> None:
    """PostgreSQL's text cannot hold NUL: such a value is the field's validation error there,
    not a failed INSERT."""
    for name, value in values.items():
        if name in errors:
            continue
        items = value if isinstance(value, list) else (value,)
        if any(isinstance(item, str) and "\x00" in item for item in items):
            errors[name] = FieldError("validation_invalid_value", NUL_MESSAGE)


def _copy_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy a write may change: lists and objects (multi-values, JSON) copied deeply, the
    immutable rest shared."""
    return {name: copy.deepcopy(v) if isinstance(v, (list, dict)) else v for name, v in values.items()}


def _password_field(collection: Collection) -> Field | None:
    return next((f for f in collection.fields if f.type == "password"), None)

def _body_for_rules(collection: Collection, values: Mapping[str, Any], parsed: _Input) -> dict[str, Any]:
    """``@request.body``: the submitted fields with modifiers applied (PocketBase's semantics)."""
    submitted = set(parsed.values) | {name for name, _, _ in parsed.modifiers}
    body = {name: values.get(name) for name in submitted if name in values}
    if "password" in parsed.values:
        body["password"] = parsed.values["password"]
    body.update(parsed.extras)
    return body
