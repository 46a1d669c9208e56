"""PocketBase's ``security.RandomStringByRegex``: a random string an ``autogeneratePattern``
matches, drawn from the OS's secure randomness (``os.urandom``, which ``secrets`` uses), with
PocketBase's quirks (repeat counts from ``[min, max)``, ``*`` and ``+`` at most 5, ``.`` an
ASCII letter or digit).

Every record create draws an id this way, so the bytes are read in blocks (one system call per
id, not one or two per character) and each draw is uniform by rejection sampling.
"""

from __future__ import annotations

import functools
import os

from .regexp import go_regex_tree
from .regexp_syntax import (
    OP_ALTERNATE,
    OP_ANY,
    OP_ANY_NOT_NL,
    OP_CAPTURE,
    OP_CLASS,
    OP_CONCAT,
    OP_LITERAL,
    OP_PLUS,
    OP_QUEST,
    OP_REPEAT,
    OP_STAR,
    Node,
)

_ANY_CHAR_NOT_NL = [(0x41, 0x5A), (0x61, 0x7A), (0x30, 0x39)]


class _Entropy:
    """Uniform draws from ``os.urandom`` bytes, read a block at a time."""

    BLOCK = 64

    def __init__(self) -> None:
        self._bytes = b""
        self._position = 0

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)``: the low bits of fresh bytes, redrawn when too big."""
        if n <= 1:
            return 0
        bits = (n - 1).bit_length()
        size, mask = (bits + 7) // 8, (1 << bits) - 1
        while True:
            if self._position + size > len(self._bytes):
                self._bytes, self._position = os.urandom(max(self.BLOCK, size)), 0
            value = int.from_bytes(self._bytes[self._position : self._position + size], "big") & mask
            self._position += size
            if value < n:
                return value


def _random_rune(ranges: list[tuple[int, int]], entropy: _Entropy) -> str:
    total = sum(hi - lo + 1 for lo, hi in ranges)
    if total == 0:
        raise ValueError("no runes to choose from")
    pick = entropy.below(total)
    for lo, hi in ranges:
        size = hi - lo + 1
        if pick < size:
            cp = lo + pick
            return "\ufffd" if 0xD800 <= cp <= 0xDFFF else chr(cp)
        pick -= size
    raise AssertionError("unreachable")


def _generate(node: Node, out: list[str], entropy: _Entropy) -> None:
    op = node.op
    if op == OP_CLASS:
        out.append(_random_rune(node.ranges, entropy))
    elif op in (OP_ANY, OP_ANY_NOT_NL):
        out.append(_random_rune(_ANY_CHAR_NOT_NL, entropy))
    elif op == OP_ALTERNATE:
        _generate(node.subs[entropy.below(len(node.subs))], out, entropy)
    elif op == OP_CONCAT:
        for sub in node.subs:
            _generate(sub, out, entropy)
    elif op in (OP_REPEAT, OP_QUEST, OP_PLUS, OP_STAR):
        lo, hi = node.min, node.max
        if op == OP_QUEST:
            lo, hi = 0, 1
        elif op == OP_PLUS:
            lo, hi = 1, -1
        elif op == OP_STAR:
            lo, hi = 0, -1
        if hi < 0:
            hi = 6
        hi = max(hi, lo)
        # PocketBase draws from [min, max) – `x?` never produces x, `{2,4}` gives 2 or 3
        count = lo if hi == lo else lo + entropy.below(hi - lo)
        for _ in range(count):
            _generate(node.subs[0], out, entropy)
    elif op == OP_CAPTURE:
        _generate(node.subs[0], out, entropy)
    elif op == OP_LITERAL:
        out.append(chr(node.rune))
    else:
        raise ValueError(f"unsupported pattern operator {op}")


def generate_from_pattern(pattern: str) -> str:
    """A random string for an ``autogeneratePattern`` (e.g. ``[a-z0-9]{15}``), made the way
    PocketBase's ``security.RandomStringByRegex`` makes it, with the OS's secure randomness.

    Raises ``GoRegexError`` for a pattern Go cannot parse and ``ValueError`` for constructs
    PocketBase cannot generate from (anchors, ``\\b``, empty alternatives: "unsupported
    pattern operator N").
    """
    fixed = _fixed_ascii_class(pattern)
    if fixed is not None:
        return _draw_fixed(*fixed)
    tree = go_regex_tree(pattern)
    out: list[str] = []
    _generate(tree, out, _Entropy())
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _fixed_ascii_class(pattern: str) -> tuple[int, bytes, bytes] | None:
    """For a pattern that is a class of ASCII characters repeated a fixed number of times (the
    default ``[a-z0-9]{15}`` of every id): the count, and a byte translation table and the
    bytes it deletes, so that ``_draw_fixed`` makes the draws ``_generate`` makes (the low
    bits of each random byte, redrawn when past the class's size) in one C call; else None."""
    node = go_regex_tree(pattern)
    while node.op == OP_CAPTURE:
        node = node.subs[0]
    if node.op != OP_REPEAT or node.min != node.max or node.min < 1 or node.subs[0].op != OP_CLASS:
        return None
    ranges = node.subs[0].ranges
    if any(hi > 0x7F for _, hi in ranges):
        return None
    alphabet = bytes(c for lo, hi in ranges for c in range(lo, hi + 1))
    if len(alphabet) < 2:
        return None
    mask = (1 << (len(alphabet) - 1).bit_length()) - 1
    table = bytes(alphabet[b & mask] if b & mask < len(alphabet) else 0 for b in range(256))
    rejected = bytes(b for b in range(256) if b & mask >= len(alphabet))
    return node.min, table, rejected


def _draw_fixed(count: int, table: bytes, rejected: bytes) -> str:
    drawn = b""
    while len(drawn) < count:
        drawn += os.urandom(2 * count).translate(table, rejected)
    return drawn[:count].decode("ascii")