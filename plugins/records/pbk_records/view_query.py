"""The checks PocketBase makes on a view query before SQLite sees it.

PocketBase trims the query of whitespace and ``;``, refuses several statements, and reads the
identifiers of its SELECT, FROM and JOIN parts with a small parser of its own (to type the
view's fields). What that parser cannot read it refuses, such as ``... FROM a UNION SELECT ...
FROM b`` ("expected as, got UNION"). pbk types fields from SQLite's column metadata instead, but
makes the same checks, so it refuses the same queries with the same words; the query then runs
wrapped as ``SELECT * FROM (query)``, which makes a trailing ``--`` comment an incomplete input.
"""

from __future__ import annotations

import re

from .tokens import split_tokens

COMMENTS = re.compile(r"(/\*[\s\S]*?\*/)|(--.+$)", re.MULTILINE)
JOINS = re.compile(
    r"[\t\n\f\r ]+(full[\t\n\f\r ]+outer[\t\n\f\r ]+join|left[\t\n\f\r ]+outer[\t\n\f\r ]+join|"
    r"right[\t\n\f\r ]+outer[\t\n\f\r ]+join|full[\t\n\f\r ]+join|cross[\t\n\f\r ]+join|"
    r"inner[\t\n\f\r ]+join|outer[\t\n\f\r ]+join|left[\t\n\f\r ]+join|right[\t\n\f\r ]+join|join)"
    r"[\t\n\f\r ]+?",
    re.IGNORECASE | re.MULTILINE,
)
DISCARDS = re.compile(
    r"[\t\n\f\r ]+(where|group[\t\n\f\r ]+by|having|order|limit|with)[\t\n\f\r ]+?", re.IGNORECASE | re.MULTILINE
)


class ViewQueryError(ValueError):
    """Why PocketBase would refuse the view query (its words)."""


def normalize(query: str) -> str:
    """The query as PocketBase runs it: trimmed of whitespace and ``;``, one statement only."""
    query = query.strip().strip(";")
    if len(split_tokens(query, ";") or [query]) > 1:
        raise ViewQueryError("multiple statements are not supported")
    return query


def check_identifiers(query: str) -> None:
    """Raise ``ViewQueryError`` where PocketBase's identifier parser fails on ``query``."""
    text = COMMENTS.sub(" ", query.strip().strip(";"))
    text = JOINS.sub(" __pb_join__ ", text)
    text = DISCARDS.sub(" __pb_discard__ ", text)
    tokens = split_tokens(text, ", \n\t", keep_separator=True)
    if tokens is None:
        raise ViewQueryError(f"unbalanced parenthesis or quoted expression: {text!r}")
    parts: dict[str, list[str]] = {"select": [], "from": [], "join": []}
    active: list[str] | None = None
    part, skip = "", False
    for token in tokens:
        word = token.strip().lower()
        if word in ("select", "from"):
            skip, part = False, word
            active = parts[word]
        elif word == "distinct":
            continue
        elif word == "__pb_join__":
            skip = False
            if part == "join":
                parts["join"].append(",")
            part = "join"
            active = parts["join"]
        elif word == "__pb_discard__":
            skip = True
        else:
            if part == "join" and word == "on":
                skip = True
            if not skip and active is not None:
                active.append(" " + token)
    for collected in parts.values():
        _identifiers("".join(collected))


def _identifiers(expression: str) -> None:
    for raw in split_tokens(expression, ",") or []:
        words = split_tokens(raw, " \n\t") or []
        if len(words) == 3 and words[1].lower() != "as":
            raise ViewQueryError(f'invalid identifier part - expected "as", got {words[1]}')
        if not 1 <= len(words) <= 3:
            raise ViewQueryError(f"invalid identifier parts [{' '.join(words)}]")


def sqlite_message(exc: Exception) -> str:
    """An SQLite error in the words of PocketBase's driver (``SQL logic error: ... (1)``)."""
    text = str(exc).removeprefix(f"{type(exc).__name__}: ")  # APSW names the class first
    if getattr(exc, "result", None) == 1:
        return f"SQL logic error: {text} (1)"
    return text
