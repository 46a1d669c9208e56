"""The tokenizer of PocketBase's filter language (``fexpr`` 0.5, as PocketBase 0.40 ships it).

The scanner works on a region ``[start, end)`` of the source string, so that a parenthesised
group is tokenized in place instead of being copied out. It follows fexpr rune for rune,
including its quirks (verified on the PocketBase 0.40.6 binary):

- whitespace is only space, tab and newline (``\\r`` is an error);
- a number starts with a digit or ``-`` and goes on with digits and dots; ``-.5`` is a number,
  ``.5``, ``1.`` and ``1e3`` are errors;
- a quoted text ends at the first unescaped matching quote; ``\\\\ \\n \\r \\t \\" \\'`` are
  escapes, any other ``\\x`` is kept verbatim;
- ``//`` starts a comment that runs to the end of the line;
- an identifier immediately followed by ``(`` is a function call whose arguments are
  identifiers, numbers or texts separated by commas, with whitespace and comments between
  them and an optional trailing comma;
- ``{:name}`` (outside quoted text) is a placeholder: a value the caller passes beside the
  filter (dbx's syntax), bound by the compiler as an SQL parameter, never spliced into the
  text. Inside quoted text it is just text. PocketBase has no such token (it substitutes the
  values as text first); the token keeps a value from changing the expression around it;
- a group ``( ... )`` is found by counting parentheses while skipping quoted texts, but not
  comments: a ``)`` inside a comment inside a group closes the group, as in fexpr.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal[
    "identifier", "number", "text", "placeholder", "function", "sign", "join", "group", "eof"
]

WHITESPACE = frozenset(" \t\n")
SIGN_CHARS = frozenset("=!<>~?")
JOIN_CHARS = frozenset("&|")
SIGNS = frozenset(
    ("=", "!=", "<", "<=", ">", ">=", "~", "!~", "?=", "?!=", "?<", "?<=", "?>", "?>=", "?~", "?!~")
)
JOINS = frozenset(("&&", "||"))
ESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t", '"': '"', "'": "'"}

#: fexpr's ``isIdentifier``: an optional ``@``/``#``/``_`` and word characters, dots and colons,
#: ending with a word character. ``\w`` is ASCII-only in Go's RE2.
IDENTIFIER_RE = re.compile(r"[@#_]?[A-Za-z0-9_.:]*[A-Za-z0-9_]", re.ASCII)
#: ``{:name}``: a placeholder (dbx's ``\{:(\w+)\}``, ASCII as in Go).
PLACEHOLDER_RE = re.compile(r"\{:(\w+)\}", re.ASCII)


class LexError(ValueError):
    """A malformed token; the parser turns it into a 400."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str = ""
    #: function arguments (identifier, number, text or placeholder tokens)
    args: tuple[Token, ...] = ()
    #: for ``group`` tokens: the region of the group's content in the source
    start: int = 0
    end: int = 0


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def is_identifier_start(ch: str) -> bool:
    return _is_letter(ch) or ch in "_@#"


def _is_identifier_char(ch: str) -> bool:
    return _is_letter(ch) or _is_digit(ch) or ch in "_@#.:"


def is_valid_number(literal: str) -> bool:
    """fexpr's ``isNumber``: Go's ParseFloat, but never a trailing dot."""
    if not literal or literal.endswith("."):
        return False
    body = literal.removeprefix("-")
    if not body or not all(_is_digit(c) or c == "." for c in body) or body.count(".") > 1:
        return False
    return any(_is_digit(c) for c in body)


class Scanner:
    """Tokens of ``source[start:end]``. Comments and whitespace are skipped."""

    __slots__ = ("end", "groups", "pos", "source")

    def __init__(self, source: str, start: int, end: int, groups: dict[int, int]) -> None:
        self.source = source
        self.pos = start
        self.end = end
        # shared cache of matching parentheses: position of "(" -> position of ")"
        self.groups = groups

    def _peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.source[i] if i < self.end else ""

    def _skip_blanks(self) -> None:
        """Move past whitespace and ``//`` comments (each runs to the end of its line)."""
        src, end = self.source, self.end
        while self.pos < end:
            ch = src[self.pos]
            if ch in WHITESPACE:
                self.pos += 1
            elif ch == "/" and self._peek(1) == "/":
                nl = src.find("\n", self.pos, end)
                self.pos = end if nl < 0 else nl
            else:
                return

    def next(self) -> Token:
        src, end = self.source, self.end
        self._skip_blanks()
        if self.pos >= end:
            return Token("eof")
        ch = src[self.pos]
        if ch == "(":
            return self._scan_group()
        if is_identifier_start(ch):
            return self._scan_identifier()
        if _is_digit(ch) or ch == "-":
            return self._scan_number()
        if ch in "'\"":
            value, self.pos = scan_text(src, self.pos, end)
            return Token("text", value)
        if ch == "{":
            return self._scan_placeholder()
        if ch in SIGN_CHARS:
            return self._scan_run(SIGN_CHARS, SIGNS, "sign")
        if ch in JOIN_CHARS:
            return self._scan_run(JOIN_CHARS, JOINS, "join")
        raise LexError(f"unexpected character {ch!r}")

    def _scan_run(self, chars: frozenset[str], valid: frozenset[str], kind: TokenKind) -> Token:
        start = self.pos
        while self.pos < self.end and self.source[self.pos] in chars:
            self.pos += 1
        literal = self.source[start : self.pos]
        if literal not in valid:
            raise LexError(f"invalid {kind} operator {literal!r}")
        return Token(kind, literal)

    def _scan_identifier(self) -> Token:
        start = self.pos
        while self.pos < self.end and _is_identifier_char(self.source[self.pos]):
            self.pos += 1
        literal = self.source[start : self.pos]
        if not IDENTIFIER_RE.fullmatch(literal):
            raise LexError(f"invalid identifier {literal!r}")
        if self._peek() == "(":
            return self._scan_function(literal)
        return Token("identifier", literal)

    def _scan_number(self) -> Token:
        start = self.pos
        self.pos += 1
        while self.pos < self.end and (
            _is_digit(self.source[self.pos]) or self.source[self.pos] == "."
        ):
            self.pos += 1
        literal = self.source[start : self.pos]
        if not is_valid_number(literal):
            raise LexError(f"invalid number {literal!r}")
        return Token("number", literal)

    def _scan_placeholder(self) -> Token:
        match = PLACEHOLDER_RE.match(self.source, self.pos, self.end)
        if match is None:
            raise LexError("invalid placeholder, expected {:name}")
        self.pos = match.end()
        return Token("placeholder", match.group(1))

    def _scan_function(self, name: str) -> Token:
        self.pos += 1  # "("
        args: list[Token] = []
        expect_arg = True
        while True:
            self._skip_blanks()
            if self.pos >= self.end:
                raise LexError(f"unterminated function call {name}(")
            ch = self.source[self.pos]
            if ch == ")":  # after a trailing comma too, as fexpr allows
                self.pos += 1
                return Token("function", name, tuple(args))
            if not expect_arg:
                if ch != ",":
                    raise LexError(f"expected , or ) in {name}()")
                self.pos += 1
                expect_arg = True
                continue
            if is_identifier_start(ch):
                start = self.pos
                while self.pos < self.end and _is_identifier_char(self.source[self.pos]):
                    self.pos += 1
                literal = self.source[start : self.pos]
                if not IDENTIFIER_RE.fullmatch(literal) or self._peek() == "(":
                    raise LexError(f"invalid function argument {literal!r}")
                args.append(Token("identifier", literal))
            elif _is_digit(ch) or ch == "-":
                args.append(self._scan_number())
            elif ch in "'\"":
                value, self.pos = scan_text(self.source, self.pos, self.end)
                args.append(Token("text", value))
            elif ch == "{":
                args.append(self._scan_placeholder())
            else:
                raise LexError(f"invalid function argument in {name}()")
            expect_arg = False

    def _scan_group(self) -> Token:
        start = self.pos
        close = self.groups.get(start)
        if close is None or close >= self.end:
            close = match_group(self.source, start, self.end, self.groups)
        self.pos = close + 1
        return Token("group", start=start + 1, end=close)


def scan_text(source: str, pos: int, end: int) -> tuple[str, int]:
    """Decode the quoted text starting at ``pos``; return it and the position after it."""
    quote = source[pos]
    out: list[str] = []
    i = pos + 1
    while i < end:
        ch = source[i]
        if ch == "\\" and i + 1 < end:
            nxt = source[i + 1]
            escaped = ESCAPES.get(nxt)
            if escaped is None:
                out.append("\\")
                out.append(nxt)
            else:
                out.append(escaped)
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise LexError("unterminated quoted text")


def _skip_text(source: str, pos: int, end: int) -> int:
    quote = source[pos]
    i = pos + 1
    while i < end:
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i + 1
        i += 1
    raise LexError("unterminated quoted text")


def match_group(source: str, start: int, end: int, groups: dict[int, int]) -> int:
    """Position of the ``)`` closing the ``(`` at ``start`` (fexpr's ``scanGroup``).

    Every nested pair met on the way is recorded in ``groups``, so tokenizing the nested
    groups later costs nothing: the whole filter is scanned once however deep it nests.
    """
    stack = [start]
    i = start + 1
    while i < end:
        ch = source[i]
        if ch == "(":
            stack.append(i)
        elif ch == ")":
            opened = stack.pop()
            groups[opened] = i
            if not stack:
                return i
        elif ch in "'\"":
            i = _skip_text(source, i, end)
            continue
        i += 1
    raise LexError(f"missing {len(stack)} closing bracket(s)")
