"""Go regexps run by Python's ``re``: ``regexp.Compile`` errors and ``regexp.MatchString``.

A pattern is parsed by ``regexp_syntax`` (Go's errors, Go's syntax) and its tree written
out as a Python pattern with Go's meaning: ``$`` is the end of the text, ``\\d``/``\\w``/
``\\s``/``\\b`` are ASCII, ``.`` never matches a newline without ``(?s)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .regexp_syntax import (
    OP_ALTERNATE,
    OP_ANY,
    OP_ANY_NOT_NL,
    OP_BEGIN_LINE,
    OP_BEGIN_TEXT,
    OP_CAPTURE,
    OP_CLASS,
    OP_CONCAT,
    OP_EMPTY,
    OP_END_LINE,
    OP_END_TEXT,
    OP_LITERAL,
    OP_NO_WORD,
    OP_PLUS,
    OP_QUEST,
    OP_STAR,
    OP_WORD,
    GoRegexError,
    Node,
    parse,
)

#: Ops that always translate to the same Python text.
_FIXED: dict[int, str] = {
    OP_ANY_NOT_NL: "[^\\n]",
    OP_ANY: "[\\s\\S]",
    OP_BEGIN_LINE: "(?m:^)",
    OP_END_LINE: "(?m:$)",
    OP_BEGIN_TEXT: "\\A",
    OP_END_TEXT: "\\Z",
    OP_WORD: "(?a:\\b)",
    OP_NO_WORD: "(?a:\\B)",
    OP_EMPTY: "",
}
_QUANTIFIERS = {OP_STAR: "*", OP_PLUS: "+", OP_QUEST: "?"}


def _py_char(cp: int) -> str:
    return f"\\U{cp:08x}"


def _literal(node: Node) -> str:
    text = re.escape(chr(node.rune))
    return f"(?i:{text})" if node.fold else text


def _char_class(node: Node) -> str:
    if not node.ranges:
        return "(?!)"
    parts = (_py_char(lo) if lo == hi else f"{_py_char(lo)}-{_py_char(hi)}" for lo, hi in node.ranges)
    return "[" + "".join(parts) + "]"


def _capture(node: Node) -> str:
    return f"({to_python(node.subs[0])})"


def _concat(node: Node) -> str:
    return "(?:" + "".join(to_python(sub) for sub in node.subs) + ")"


def _alternate(node: Node) -> str:
    return "(?:" + "|".join(to_python(sub) for sub in node.subs) + ")"


def _repeat(node: Node) -> str:
    """``*``, ``+``, ``?`` and ``{min,max}``, lazy when not greedy."""
    lazy = "" if node.greedy else "?"
    inner = f"(?:{to_python(node.subs[0])})"
    quantifier = _QUANTIFIERS.get(node.op)
    if quantifier is not None:
        return f"{inner}{quantifier}{lazy}"
    if node.max == node.min:
        return f"{inner}{{{node.min}}}{lazy}"
    hi = "" if node.max < 0 else str(node.max)
    return f"{inner}{{{node.min},{hi}}}{lazy}"


_TRANSLATORS: dict[int, Callable[[Node], str]] = {
    OP_LITERAL: _literal,
    OP_CLASS: _char_class,
    OP_CAPTURE: _capture,
    OP_CONCAT: _concat,
    OP_ALTERNATE: _alternate,
}


def to_python(node: Node) -> str:
    """The Python ``re`` pattern of a Go syntax tree (repeat ops are the ones left over)."""
    fixed = _FIXED.get(node.op)
    if fixed is not None:
        return fixed
    return _TRANSLATORS.get(node.op, _repeat)(node)


@lru_cache(maxsize=512)
def go_regex(pattern: str) -> tuple[Node, re.Pattern[str]]:
    """The syntax tree and compiled Python pattern of a Go regexp (cached).

    Raises ``GoRegexError`` where Go's parser fails.
    """
    tree = parse(pattern)
    return tree, re.compile(to_python(tree))


def go_regex_error(pattern: str) -> str | None:
    """Go's ``regexp.Compile`` error message for ``pattern``, or None when it compiles."""
    try:
        go_regex(pattern)
    except GoRegexError as exc:
        return str(exc)
    except re.error as exc:  # a translation Python rejects (should not happen)
        return f"error parsing regexp: {exc}"
    return None


def go_regex_match(pattern: str, value: str) -> bool:
    """``regexp.MatchString(pattern, value)`` (unanchored; an invalid pattern never matches)."""
    try:
        return go_regex(pattern)[1].search(value) is not None
    except (GoRegexError, re.error):
        return False
