"""A collection's field list as PocketBase builds it from a request, and its list-wide checks.

PocketBase reads the posted fields into its field list, where a field with the id of an earlier
one, or sent without id and with the name of an earlier one, takes that field's place; then it
puts the ``id`` field first and appends the auth system fields the list lacks. Its field errors
are keyed by position in that final list, so pbk builds the same list before it checks anything.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Sequence
from typing import Any

from pbk_sdk.errors import FieldError

from .schema import Collection, Field

#: Names an auth collection keeps for the sign-up and password-change forms.
RESERVED_AUTH_NAMES = frozenset({"passwordConfirm", "oldPassword"})
#: What PocketBase sets on the system fields it finds in a posted list, whatever was sent.
ENFORCED_FLAGS: dict[str, dict[str, bool]] = {
    "id": {"system": True, "required": True, "primaryKey": True, "hidden": False},
    "password": {"system": True, "hidden": True, "required": True},
    "tokenKey": {"system": True, "hidden": True, "required": True},
    "email": {"system": True, "hidden": False},
    "emailVisibility": {"system": True},
    "verified": {"system": True},
}
DEFAULT_ID_PATTERN = "^[a-z0-9]+$"
#: PocketBase gives up finding a free default id after this many numbered tries.
ID_TRIES = 1000


@dataclasses.dataclass
class Entry:
    """One field of the list with its own settings problems."""

    field: Field
    problems: dict[str, Any] = dataclasses.field(default_factory=dict)
    sent_without_id: bool = False


def merged(entries: Sequence[Entry]) -> list[Entry]:
    """The posted fields in PocketBase's list: a later field with an earlier one's id, or sent
    without id with an earlier one's name, replaces that one in place."""
    out = _Merging()
    for entry in entries:
        if entry.sent_without_id:
            entry.field.data["id"] = out.free_id(entry.field.id)
            same = out.first_named(entry.field.name) if entry.field.name else None
            if same is not None:
                entry.field.data["id"] = out.entries[same].field.id
        else:
            same = out.by_id.get(entry.field.id)
        entry.sent_without_id = False  # it has its id now, as in PocketBase's list
        out.put(same, entry)
    return out.entries


class _Merging:
    """The list being merged with the positions of its ids and names, so that merging a long
    list takes one lookup per field, not a scan of the list."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        #: An id keeps its position: a replacing field has the replaced one's id.
        self.by_id: dict[str, int] = {}
        #: Heaps of the positions that had each name; a stale one is dropped when met.
        self._by_name: dict[str, list[int]] = {}

    def free_id(self, base: str) -> str:
        candidate = base
        for number in range(2, ID_TRIES):
            if candidate not in self.by_id:
                break
            candidate = f"{base}{number}"
        return candidate

    def first_named(self, name: str) -> int | None:
        positions = self._by_name.get(name, [])
        while positions and self.entries[positions[0]].field.name != name:
            heapq.heappop(positions)
        return positions[0] if positions else None

    def put(self, position: int | None, entry: Entry) -> None:
        """Append ``entry``, or put it in the place of the one at ``position``."""
        if position is None:
            position = len(self.entries)
            self.entries.append(entry)
        else:
            self.entries[position] = entry
        self.by_id[entry.field.id] = position
        heapq.heappush(self._by_name.setdefault(entry.field.name, []), position)


def _by_name(entries: Sequence[Entry], name: str, ftype: str | None = None) -> int | None:
    """The position of the field named ``name`` (of type ``ftype`` when given)."""
    return next(
        (i for i, e in enumerate(entries) if e.field.name == name and ftype in (None, e.field.type)), None
    )


def with_system_fields(entries: list[Entry], defaults: Sequence[Entry]) -> list[Entry]:
    """The list completed with its type's system fields (``defaults``, the ``id`` field first).

    A present one keeps what was sent, with its system flags enforced. A missing one is added
    as a field sent without id: ``id`` before the others (where a sent field with its id takes
    its place again), every other one after them (in the place of a same-named field).
    """
    out = list(entries)
    for default in defaults:
        wanted = default.field
        present = _by_name(out, wanted.name, wanted.type)
        if present is not None:
            _enforce_system_flags(out[present].field)
            continue
        default.sent_without_id = True
        out = merged([default, *out] if wanted.name == "id" else [*out, default])
    return out


def _enforce_system_flags(present: Field) -> None:
    present.data.update(ENFORCED_FLAGS.get(present.name, {}))
    if present.name == "id" and not present.data.get("pattern"):
        present.data["pattern"] = DEFAULT_ID_PATTERN


def problem(entries: Sequence[Entry], existing: Collection | None, ctype: str) -> Any:
    """The error PocketBase reports under ``fields``: the first of its list checks that fails."""
    fields = [entry.field for entry in entries]
    return (
        _duplicate(fields)
        or _missing_primary_key(fields)
        or _system_field_change(fields, existing)
        or _type_change(fields, existing)
        or (_reserved_auth_name(fields) if ctype == "auth" else None)
        or {str(i): entry.problems for i, entry in enumerate(entries) if entry.problems}
    )


def _duplicate(fields: Sequence[Field]) -> dict[str, Any] | None:
    """The first field whose id or (case-insensitive) name an earlier field has."""
    ids: set[str] = set()
    names: set[str] = set()
    for position, current in enumerate(fields):
        if current.id in ids:
            return {str(position): {"id": FieldError(
                "validation_duplicated_field_id", f'Duplicated or invalid field id "{current.id}".'
            )}}
        if current.name.lower() in names:
            return {str(position): {"name": FieldError(
                "validation_duplicated_field_name",
                f"Duplicated or invalid field name {current.name}.",
                {"fieldName": current.name},
            )}}
        ids.add(current.id)
        names.add(current.name.lower())
    return None


def _missing_primary_key(fields: Sequence[Field]) -> FieldError | None:
    if any(f.name == "id" and f.type == "text" and f.get("primaryKey") for f in fields):
        return None
    return FieldError("validation_missing_primary_key", 'Missing or invalid "id" PK field.')


def _system_field_change(fields: Sequence[Field], existing: Collection | None) -> FieldError | None:
    """A stored system field may be neither dropped nor renamed."""
    if existing is None:
        return None
    by_id = {f.id: f for f in fields}
    for old in existing.fields:
        if old.system and (old.id not in by_id or by_id[old.id].name != old.name):
            return FieldError("validation_system_field_change", "System fields cannot be deleted or renamed.")
    return None


def _type_change(fields: Sequence[Field], existing: Collection | None) -> dict[str, FieldError] | None:
    if existing is None:
        return None
    changed = {}
    for position, current in enumerate(fields):
        old = existing.field_by_id(current.id)
        if old is not None and old.type != current.type:
            changed[str(position)] = FieldError("validation_field_type_change", "Field type cannot be changed.")
    return changed or None


def _reserved_auth_name(fields: Sequence[Field]) -> dict[str, Any] | None:
    reserved = {
        str(position): {"name": FieldError("validation_reserved_field_name", "The field name is reserved and cannot be used.")}
        for position, current in enumerate(fields)
        if current.name in RESERVED_AUTH_NAMES
    }
    return reserved or None
