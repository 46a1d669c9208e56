"""Collections and fields as PocketBase 0.40 stores and serves them.

A collection is one row of ``_collections`` (``fields``, ``indexes`` and ``options`` as JSON)
and one SQLite table (a view for view collections). Over the API, the ``options`` keys of auth
and view collections stand at the top level of the collection JSON.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

RULES = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
AUTH_RULES = ("authRule", "manageRule")
AUTH_OPTIONS = (
    "authRule",
    "manageRule",
    "authAlert",
    "oauth2",
    "passwordAuth",
    "mfa",
    "otp",
    "authToken",
    "passwordResetToken",
    "emailChangeToken",
    "verificationToken",
    "fileToken",
    "verificationTemplate",
    "resetPasswordTemplate",
    "confirmEmailChangeTemplate",
)
VIEW_OPTIONS = ("viewQuery",)
TYPES = ("base", "auth", "view")
COMMON_FIELD_KEYS = {"hidden": False, "presentable": False, "system": False}
#: Every field but autodate also has these.
INPUT_FIELD_KEYS = {"help": "", "required": False}


def field_id(field_type: str, name: str) -> str:
    """PocketBase's default field id: the type and the CRC32 of the name."""
    return f"{field_type}{zlib.crc32(name.encode())}"


def collection_id(collection_type: str, name: str) -> str:
    """PocketBase's default collection id: ``pbc_`` and the CRC32 of type + name."""
    return f"pbc_{zlib.crc32((collection_type + name).encode())}"


def option_keys(collection_type: str) -> tuple[str, ...]:
    if collection_type == "auth":
        return AUTH_OPTIONS
    if collection_type == "view":
        return VIEW_OPTIONS
    return ()


def _without_secrets(key: str, value: Any) -> Any:
    """Token secrets and OAuth2 client secrets are write-only, as in PocketBase."""
    if isinstance(value, dict):
        value.pop("secret", None)
        if key == "oauth2":
            for provider in value.get("providers") or []:
                if isinstance(provider, dict):
                    provider.pop("clientSecret", None)
    return value


class Field:
    """One field: its full PocketBase JSON, read through properties."""

    __slots__ = ("data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = dict(data)

    @property
    def id(self) -> str:
        return str(self.data.get("id", ""))

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))

    @property
    def system(self) -> bool:
        return bool(self.data.get("system"))

    @property
    def hidden(self) -> bool:
        return bool(self.data.get("hidden"))

    @property
    def required(self) -> bool:
        return bool(self.data.get("required"))

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.type!r})"


class Collection:
    """One collection: a ``_collections`` row plus its parsed fields."""

    def __init__(
        self,
        *,
        id: str,
        name: str,
        type: str = "base",
        system: bool = False,
        fields: Iterable[Field] = (),
        indexes: Iterable[str] = (),
        rules: Mapping[str, str | None] | None = None,
        options: Mapping[str, Any] | None = None,
        created: str = "",
        updated: str = "",
    ) -> None:
        self.id = id
        self.name = name
        self.type = type
        self.system = system
        self.fields = list(fields)
        self.indexes = list(indexes)
        self.rules: dict[str, str | None] = {rule: None for rule in RULES}
        self.rules.update(rules or {})
        self.options: dict[str, Any] = dict(options or {})
        self.created = created
        self.updated = updated
        self._by_name = {f.name: f for f in self.fields}
        #: What readers of this collection worked out from it, by reader (``reads._Plan``).
        self.plans: dict[Any, Any] = {}

    def replace_fields(self, fields: Iterable[Field]) -> None:
        self.fields = list(fields)
        self._by_name = {f.name: f for f in self.fields}

    # -- lookups ---------------------------------------------------------------

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    def field_by_id(self, field_id_: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id_), None)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    @property
    def is_auth(self) -> bool:
        return self.type == "auth"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def view_query(self) -> str:
        return str(self.options.get("viewQuery", ""))

    def rule(self, name: str) -> str | None:
        if name in AUTH_RULES:
            return self.options.get(name)
        return self.rules[name]

    def targets(self) -> tuple[str, str]:
        return (self.id, self.name)

    # -- storage ---------------------------------------------------------------

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Collection:
        """From a ``_collections`` row (as a mapping of column to value)."""
        return cls(
            id=row["id"],
            name=row["name"],
            type=row["type"],
            system=bool(row["system"]),
            fields=[Field(f) for f in orjson.loads(row["fields"] or "[]")],
            indexes=orjson.loads(row["indexes"] or "[]"),
            rules={rule: row[rule] for rule in RULES},
            options=orjson.loads(row["options"] or "{}"),
            created=row["created"],
            updated=row["updated"],
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "system": self.system,
            "type": self.type,
            "name": self.name,
            "fields": orjson.dumps([f.data for f in self.fields]).decode(),
            "indexes": orjson.dumps(self.indexes).decode(),
            **self.rules,
            "options": orjson.dumps(self.options).decode(),
            "created": self.created,
            "updated": self.updated,
        }

    # -- API -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The collection as the collections API serves it."""
        data: dict[str, Any] = {"id": self.id, **self.rules, "name": self.name, "type": self.type}
        data["fields"] = [f.to_json() for f in self.fields]
        data["indexes"] = list(self.indexes)
        data["created"] = self.created
        data["updated"] = self.updated
        data["system"] = self.system
        for key in option_keys(self.type):
            if key in self.options:
                data[key] = _without_secrets(key, copy.deepcopy(self.options[key]))
        return data

    def copy(self) -> Collection:
        return Collection.from_row(self.to_row())

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {self.type!r}, id={self.id!r})"
