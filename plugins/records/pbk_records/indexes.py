"""Index statements read and rewritten as PocketBase's ``dbutils.ParseIndex``/``Build`` do.

PocketBase stores an index as given, except that one naming another table (a collection was
renamed, or the name differs in case) is rebuilt in its normal form: backtick-quoted names,
upper-case keywords, several columns one per line. pbk stores the same text, so both programs
keep the same ``_collections`` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .tokens import split_tokens

#: Go's ``\s`` (ASCII, without ``\v``) and ``\S``.
_S = r"[\t\n\f\r ]"
_NS = r"[^\t\n\f\r ]"
INDEX = re.compile(
    rf"create{_S}+(unique{_S}+)?{_S}*index{_S}*(if{_S}+not{_S}+exists{_S}+)?({_NS}*){_S}+on{_S}+({_NS}*){_S}*"
    rf"\(([\s\S]*)\)(?:{_S}*where{_S}+([\s\S]*))?",
    re.IGNORECASE | re.MULTILINE,
)
COLUMN = re.compile(
    rf"^([\s\S]+?)(?:{_S}+collate{_S}+([A-Za-z0-9_]+))?(?:{_S}+(asc|desc))?$", re.IGNORECASE | re.MULTILINE
)
TRIM = "`\"'[]\r\n\t\f\v "


@dataclass
class Index:
    name: str = ""
    schema: str = ""
    table: str = ""
    where: str = ""
    unique: bool = False
    optional: bool = False
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (name, collate, sort)

    def build(self) -> str:
        """The normal form, or "" when a part is missing."""
        if not (self.name and self.table and self.columns):
            return ""
        out = ["CREATE ", "UNIQUE " if self.unique else "", "INDEX ", "IF NOT EXISTS " if self.optional else ""]
        if self.schema:
            out.append(f"`{self.schema}`.")
        out.append(f"`{self.name}` ON `{self.table}` (")
        several = len(self.columns) > 1
        terms = []
        for name, collate, sort in self.columns:
            trimmed = name.strip()
            if not trimmed:
                continue
            term = trimmed if "(" in name or " " in name else f"`{trimmed}`"
            term += f" COLLATE {collate}" if collate else ""
            term += f" {sort.upper()}" if sort else ""
            terms.append(term)
        if several:
            out.append("\n  " + ",\n  ".join(terms) + ("\n" if terms else ""))
        else:
            out.append("".join(terms))
        out.append(")")
        if self.where:
            out.append(f" WHERE {self.where}")
        return "".join(out)


def parse(sql: str) -> Index:
    """PocketBase's reading of an index statement; an empty ``Index`` when it is none."""
    index = Index()
    match = INDEX.search(sql)
    if match is None:
        return index
    index.unique = bool((match[1] or "").strip())
    index.optional = bool((match[2] or "").strip())
    name_parts = split_tokens(match[3], ".") or [""]
    if len(name_parts) == 2:
        index.schema, index.name = name_parts[0].strip(TRIM), name_parts[1].strip(TRIM)
    else:
        index.name = name_parts[0].strip(TRIM)
    index.table = match[4].strip(TRIM)
    for column in split_tokens(match[5], ",") or []:
        found = COLUMN.search(column)
        if found is None:
            continue
        name = found[1].strip(TRIM)
        if name:
            index.columns.append((name, (found[2] or "").strip(), (found[3] or "").upper()))
    index.where = (match[6] or "").strip()
    return index


def for_table(sql: str, table: str) -> str:
    """``sql`` as PocketBase keeps it on the collection ``table``: unchanged when it already
    names that table (exactly), else rebuilt in the normal form on it."""
    index = parse(sql)
    if index.table == table:
        return sql
    index.table = table
    return index.build() or sql
