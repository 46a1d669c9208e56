"""SQLite's ``?`` (and ``:name``) placeholders to psycopg's ``%s`` (and ``%(name)s``).

pbk's SQL binds values as ``?`` (apsw's qmark style); psycopg takes ``%s`` and reads every
``%`` in the text as the start of one. So ``?`` outside string literals, quoted identifiers,
dollar-quoted strings and comments becomes ``%s``, and every literal ``%`` (in a ``LIKE`` pattern
or a string) becomes ``%%``. The result is cached: pbk runs the same few statement texts.
"""

from __future__ import annotations

import functools
import re

#: Where a quoted or commented span starts, or a placeholder / percent sign outside one.
_TOKEN = re.compile(
    r"""(?<![A-Za-z0-9_])[Ee]'|'|"|`|--|/\*|\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$|\?\d*|%|::|:[A-Za-z_][A-Za-z_0-9]*"""
)


class PlaceholderError(ValueError):
    """SQL text with a placeholder style the adapter does not translate (``?NNN``)."""


@functools.lru_cache(maxsize=2048)
def to_pyformat(sql: str, named: bool = False) -> str:
    """``sql`` with each ``?`` outside literals as ``%s`` and each ``%`` as ``%%``; ``named``
    (values given as a mapping): each ``:name`` as ``%(name)s`` instead (``::`` casts kept)."""
    if "?" not in sql and "%" not in sql and not named:
        return sql
    out: list[str] = []
    pos = 0
    while (match := _TOKEN.search(sql, pos)) is not None:
        token = match.group()
        start, end = match.span()
        out.append(sql[pos:start])
        if token == "%":
            out.append("%%")
            pos = end
        elif token.startswith(":"):
            out.append(f"%({token[1:]})s" if named and token != "::" else token)
            pos = end
        elif token.startswith("?"):
            if token != "?":
                raise PlaceholderError(f"numbered placeholder {token} is not supported on PostgreSQL")
            out.append("%s")
            pos = end
        else:
            close = _span_end(sql, token, end)
            out.append(sql[start:close].replace("%", "%%"))
            pos = close
    out.append(sql[pos:])
    return "".join(out)


def _span_end(sql: str, opener: str, pos: int) -> int:
    """Where the literal, quoted identifier or comment begun by ``opener`` ends (exclusive)."""
    if opener == "--":
        newline = sql.find("\n", pos)
        return len(sql) if newline < 0 else newline + 1
    if opener == "/*":
        close = sql.find("*/", pos)
        return len(sql) if close < 0 else close + 2
    if opener.startswith("$"):
        close = sql.find(opener, pos)
        return len(sql) if close < 0 else close + len(opener)
    quote = opener[-1]
    backslashes = opener[0] in "Ee"
    i = pos
    while i < len(sql):
        char = sql[i]
        if backslashes and char == "\\":
            i += 2
            continue
        if char == quote:
            if sql.startswith(quote, i + 1):  # a doubled quote stands for one
                i += 2
                continue
            return i + 1
        i += 1
    return len(sql)
