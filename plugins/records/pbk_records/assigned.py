"""Values record-event handlers assign to ``e.record``, treated as PocketBase's ``Record.Set``.

A write takes one :class:`Assigned` before its first chain (``record_validate``) and runs every
chain of that write (``record_validate``, then ``record_create`` or ``record_update``) through
it. Before each chain's default action (the verdict, the ``INSERT``, the ``UPDATE``), every
value a handler replaced since the write began is:

- converted by its field's type (``"12"`` on a number field is ``12``) and validated;
- for a ``password`` field, validated as plain text, then hashed (in a thread) and the auth
  record's ``tokenKey`` rotated, as an update with a new password does;
- for a ``relation`` field, checked to name stored records.

A problem answers 400 and nothing is written. So a value set after ``next()`` in a
``record_validate`` handler is still converted and validated before the row is written.

A value set after ``next()`` in ``record_create``/``record_update`` comes after the row was
written: it is converted for the answer (and the ``*_success`` events) but not stored, and a
password or relation set there is not hashed or checked.

"Replaced" means a different object: a handler must assign (``e.record["labels"] = [...]``),
not mutate in place (``e.record["labels"].append(...)``), which is neither converted nor
validated. Only replaced values are touched, so a value is converted once (a JSON field's
string ``"true"`` must not become ``true`` on a second pass).

The cost is one pass over the fields per chain, on every write that runs the chains. The
one-step create (no handler on ``record_validate`` nor ``record_create`` for the collection)
skips it; the files plugin listens to both only for collections with a file field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pbk_sdk.errors import ApiError, FieldError
from pbk_sdk.events import RecordEvent

if TYPE_CHECKING:
    from .records import Records


class Assigned:
    """The values of one write's ``event.record`` as last converted (see the module docstring)."""

    __slots__ = ("records", "seen")

    def __init__(self, records: Records, event: RecordEvent) -> None:
        self.records = records
        #: value objects already converted, by field name: identity says what a handler replaced
        self.seen = dict(event.record)

    async def run(
        self,
        name: str,
        event: RecordEvent,
        default: Callable[[RecordEvent], Awaitable[None]],
        message: str,
        *,
        writes: bool,
    ) -> None:
        """Run ``name``'s handlers, then ``default`` once what they assigned is converted and
        valid (400 with ``message`` otherwise). ``writes``: ``default`` writes the row, so
        values set after ``next()`` are only converted for the answer."""

        async def checked_default(e: RecordEvent) -> None:
            problems = await self.settle(e)
            if problems:
                raise ApiError(400, message, {**e.errors, **problems})
            await default(e)

        await self.records.events.trigger(name, event, checked_default)
        if writes:
            self.convert(event)

    def convert(self, event: RecordEvent) -> tuple[dict[str, FieldError], list[str]]:
        """Convert and validate the values handlers replaced, but for passwords; returns the
        problems, and the replaced passwords' and relations' names (left to :meth:`settle`)."""
        values, seen = event.record, self.seen
        field_types = self.records.field_types
        problems: dict[str, FieldError] = {}
        later: list[str] = []
        for f in event.collection.fields:
            if f.name not in values:
                continue
            value = values[f.name]
            if f.name in seen and seen[f.name] is value:
                continue
            field_type = field_types[f.type]
            if f.type == "password":
                later.append(f.name)
                continue
            value = values[f.name] = seen[f.name] = field_type.normalize(f.data, value)
            problem = field_type.validate(f.data, value)
            if problem is not None:
                problems[f.name] = problem
            elif f.type == "relation":
                later.append(f.name)
        return problems, later

    async def settle(self, event: RecordEvent) -> dict[str, FieldError]:
        """:meth:`convert`, then hash replaced passwords and check replaced relations."""
        problems, later = self.convert(event)
        if not later:
            return problems
        collection, values = event.collection, event.record
        relations: list[str] = []
        for name in later:
            f = collection.field(name)
            assert f is not None
            if f.type == "relation":
                relations.append(name)
            else:
                problem = await self._hash(event, name, f.data)
                if problem is not None:
                    problems[name] = problem
        if relations:
            await self.records._check_relations(collection, values, problems, only=relations)
        return problems

    async def _hash(self, event: RecordEvent, name: str, data: Any) -> FieldError | None:
        """Hash the plain password a handler assigned to ``name``; rotate ``tokenKey``."""
        values = event.record
        plain = values[name]
        plain = plain if isinstance(plain, str) else str(plain)
        problem = self.records.field_types["password"].validate(data, plain)
        if problem is not None:
            return problem
        hashed = await asyncio.to_thread(self.records._hash_password, plain)
        values[name] = self.seen[name] = hashed
        if event.collection.is_auth:
            token_key = event.collection.field("tokenKey")
            key = self.records.field_types["text"].autogenerate(token_key.data if token_key else {})
            values["tokenKey"] = self.seen["tokenKey"] = key
        return None
