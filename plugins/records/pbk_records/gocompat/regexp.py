"""Go regexps: ``regexp.Compile`` errors and ``regexp.MatchString`` in linear time.

``regexp_syntax`` parses a pattern as Go does (Go's errors, and the tree ``random_by_regex``
generates from). A pattern Go accepts is then matched by RE2 (``google-re2``), the C++ engine
Go's ``regexp`` was ported from: the same syntax and meaning (``$`` is the end of the text,
ASCII ``\\d``/``\\w``/``\\s``/``\\b``, Unicode classes and case folding) and, like Go, time
linear in the value, so no pattern makes a guest's value stall the server. Python's ``re``
backtracks: ``^([a-z0-9]+\\.?)+$`` took seconds on 28 characters.

RE2 scans UTF-8 bytes where Go scans runes; the one place that shows is ``\\B``, true between
two bytes of one character, so a match of a pattern with ``\\B`` counts only where a character
starts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import re2

from .regexp_syntax import OP_NO_WORD, GoRegexError, Node, parse

#: RE2's memory budget for one compiled pattern. Its 8 MiB default refuses patterns Go
#: accepts, e.g. ``[\\p{L} ]{1,1000}`` (each Unicode class is hundreds of UTF-8 byte ranges).
RE2_MAX_MEM = 64 << 20
#: Go's own message for a pattern too big to compile, for one RE2 cannot fit in the budget.
TOO_LARGE = "error parsing regexp: expression too large"
#: Compiled patterns kept; fields share a few patterns, so this bounds memory, not hits.
CACHE_SIZE = 256
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _re2_options() -> Any:
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False  # a refused pattern is reported to the caller, not on stderr
    return options


_OPTIONS = _re2_options()


@lru_cache(maxsize=CACHE_SIZE)
def go_regex_tree(pattern: str) -> Node:
    """The syntax tree of a Go regexp (cached); raises ``GoRegexError`` where Go's parser fails."""
    return parse(pattern)


def _has_no_word_boundary(tree: Node) -> bool:
    pending = [tree]
    while pending:
        node = pending.pop()
        if node.op == OP_NO_WORD:
            return True
        pending.extend(node.subs)
    return False


@lru_cache(maxsize=CACHE_SIZE)
def _compiled(pattern: str) -> tuple[Any, bool]:
    """RE2's compiled form of a pattern Go accepts, and whether it has ``\\B``; raises
    ``GoRegexError`` where Go's parser fails and ``re2.error`` where RE2 cannot compile it
    within ``RE2_MAX_MEM``."""
    tree = go_regex_tree(pattern)
    return re2.compile(pattern, _OPTIONS), _has_no_word_boundary(tree)


def _matches_at_a_character_start(compiled: Any, text: bytes) -> bool:
    """Whether a match starts where a character starts (not on a UTF-8 continuation byte).
    Each search resumes past the previous match's start, so the text is scanned about once."""
    position = 0
    while (match := compiled.search(text, position)) is not None:
        start = match.start()
        if start == len(text) or text[start] & 0xC0 != 0x80:
            return True
        position = start + 1
    return False


def go_regex_error(pattern: str) -> str | None:
    """Go's ``regexp.Compile`` error message for ``pattern``, or None when it compiles."""
    try:
        _compiled(pattern)
    except GoRegexError as exc:
        return str(exc)
    except re2.error:
        return TOO_LARGE
    return None


def go_regex_match(pattern: str, value: str) -> bool:
    """``regexp.MatchString(pattern, value)`` (unanchored; an invalid pattern never matches).

    A lone surrogate (which Python's JSON decoder lets through) is U+FFFD, as Go decodes it.
    """
    try:
        compiled, has_no_word_boundary = _compiled(pattern)
    except (GoRegexError, re2.error):
        return False
    try:
        text = value.encode()
    except UnicodeEncodeError:
        text = LONE_SURROGATE.sub("\ufffd", value).encode()
    if has_no_word_boundary:
        return _matches_at_a_character_start(compiled, text)
    return compiled.search(text) is not None
