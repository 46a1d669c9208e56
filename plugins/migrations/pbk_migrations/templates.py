"""The text of generated migration files: PocketBase's templates (``…_created_posts.js``) as
Python, the collection JSON written as a literal that reads like the JSON it is."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INDENT = "    "


def collection_data(collection: Mapping[str, Any]) -> dict[str, Any]:
    """The collection JSON a migration recreates: without ``created``/``updated`` and without
    ``oauth2.providers``, as PocketBase writes it."""
    data = {k: v for k, v in collection.items() if k not in ("created", "updated")}
    oauth2 = data.get("oauth2")
    if isinstance(oauth2, Mapping) and "providers" in oauth2:
        data["oauth2"] = {k: v for k, v in oauth2.items() if k != "providers"}
    return data


def literal(value: Any, depth: int = 0) -> str:
    """``value`` as Python source: JSON's layout, ``True``/``False``/``None`` for its words."""
    pad, inner = INDENT * depth, INDENT * (depth + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{literal(k)}: {literal(v, depth + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[\n" + "\n".join(f"{inner}{literal(v, depth + 1)}," for v in value) + f"\n{pad}]"
    if isinstance(value, bool) or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _module(doc: str, constants: Sequence[tuple[str, Any]], up: str, down: str | None) -> str:
    head = f'"""{doc}"""\n\n' + "\n".join(f"{name} = {literal(value)}\n" for name, value in constants)
    steps = [f"def up(app):\n{INDENT}{up}\n"]
    if down is not None:
        steps.append(f"def down(app):\n{INDENT}{down}\n")
    return head + "\n\n" + "\n\n".join(steps)


def created(collection: Mapping[str, Any]) -> str:
    data = collection_data(collection)
    return _module(
        f"Created collection {data['name']} (written by automigrate).",
        [("COLLECTION", data)],
        "app.save_collection(COLLECTION)",
        f"app.delete_collection({json.dumps(data['id'])})",
    )


def deleted(collection: Mapping[str, Any]) -> str:
    data = collection_data(collection)
    return _module(
        f"Deleted collection {data['name']} (written by automigrate).",
        [("COLLECTION", data)],
        f"app.delete_collection({json.dumps(data['id'])})",
        "app.save_collection(COLLECTION)",
    )


@dataclass(frozen=True)
class FieldChanges:
    """How a collection's fields changed: ``added`` and ``removed`` by their position (in the
    new and the old list), the ``changed`` ones by id as they are now and were ``before``."""

    added: dict[int, Any]
    removed: dict[int, Any]
    changed: dict[str, Any]
    before: dict[str, Any]


def field_changes(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> FieldChanges | None:
    """None when the fields that stayed changed their order: only the whole list says that."""
    old_by_id, new_by_id = {f["id"]: f for f in old}, {f["id"]: f for f in new}
    kept = [f["id"] for f in new if f["id"] in old_by_id]
    if kept != [f["id"] for f in old if f["id"] in new_by_id]:
        return None
    return FieldChanges(
        added={i: f for i, f in enumerate(new) if f["id"] not in old_by_id},
        removed={i: f for i, f in enumerate(old) if f["id"] not in new_by_id},
        changed={i: new_by_id[i] for i in kept if new_by_id[i] != old_by_id[i]},
        before={i: old_by_id[i] for i in kept if new_by_id[i] != old_by_id[i]},
    )


def updated(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The keys that changed with their new values (``CHANGES``) and old ones (``UNDO``), and
    the fields added, changed and removed; None when nothing a migration keeps changed."""
    before, after = collection_data(old), collection_data(new)
    fields = field_changes(before["fields"], after["fields"])
    keys = [k for k in after if after.get(k) != before.get(k) and (k != "fields" or fields is None)]
    constants: list[tuple[str, Any]] = [
        ("COLLECTION_ID", after["id"]),
        ("CHANGES", {k: after[k] for k in keys}),
        ("UNDO", {k: before.get(k) for k in keys}),
    ]
    up, down = ["COLLECTION_ID", "CHANGES"], ["COLLECTION_ID", "UNDO"]
    if fields is not None:
        for name, value, up_arg, down_arg in (
            ("FIELDS_ADDED", fields.added, "add_fields", "remove_fields"),
            ("FIELDS_REMOVED", fields.removed, "remove_fields", "add_fields"),
            ("FIELDS_CHANGED", fields.changed, "change_fields", None),
            ("FIELDS_BEFORE", fields.before, None, "change_fields"),
        ):
            if value:
                constants.append((name, value))
                up += [f"{up_arg}={name}"] if up_arg else []
                down += [f"{down_arg}={name}"] if down_arg else []
    if len(constants) == 3 and not keys:
        return None
    return _module(
        f"Updated collection {before['name']} (written by automigrate).",
        constants,
        f"app.update_collection({', '.join(up)})",
        f"app.update_collection({', '.join(down)})",
    )


def snapshot(collections: Sequence[Mapping[str, Any]]) -> str:
    """Every collection as it is; applying it imports them (a snapshot is not undone:
    without ``down`` reverting it only forgets it, as with PocketBase's)."""
    return _module(
        "A snapshot of every collection (pbk migrate collections).",
        [("SNAPSHOT", [collection_data(c) for c in collections])],
        "app.import_collections(SNAPSHOT, delete_missing=False)",
        None,
    )


def blank(title: str) -> str:
    """``pbk migrate create NAME``'s file: both steps, to fill in."""
    return f'''"""{title}"""


def up(app):
{INDENT}"""Apply the change: app.save_collection({{...}}), app.save_record("posts", {{...}}),
{INDENT}app.execute("UPDATE ... WHERE x = ?", [value]) ..."""


def down(app):
{INDENT}"""Undo what up() did."""
'''
