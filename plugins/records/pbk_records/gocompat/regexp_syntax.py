"""Go's ``regexp/syntax.Parse`` (with the Perl flags ``regexp.Compile`` uses): a pattern
becomes a tree of ``Node`` or fails with Go's exact error message.

``regexp`` parses a pattern here for Go's errors before RE2 matches it, and
``random_by_regex`` generates strings from the tree.
"""

from __future__ import annotations

import re

from .regexp_classes import (
    MAX_RUNE,
    PERL_CLASSES,
    POSIX_CLASSES,
    fold_orbit,
    fold_ranges,
    merge_ranges,
    min_fold,
    negate_ranges,
    unicode_table,
)

# Go's regexp/syntax.Op numbers (they appear in "unsupported pattern operator N" errors)
OP_NO_MATCH, OP_EMPTY, OP_LITERAL, OP_CLASS, OP_ANY_NOT_NL, OP_ANY = 1, 2, 3, 4, 5, 6
OP_BEGIN_LINE, OP_END_LINE, OP_BEGIN_TEXT, OP_END_TEXT, OP_WORD, OP_NO_WORD = 7, 8, 9, 10, 11, 12
OP_CAPTURE, OP_STAR, OP_PLUS, OP_QUEST, OP_REPEAT, OP_CONCAT, OP_ALTERNATE = 13, 14, 15, 16, 17, 18, 19


class GoRegexError(ValueError):
    """A Go ``regexp`` syntax error; ``str()`` is Go's ``err.Error()``."""

    def __init__(self, code: str, expr: str) -> None:
        self.code = code
        self.expr = expr
        super().__init__(f"error parsing regexp: {code}: `{expr}`")


class Node:
    """A node of the syntax tree (Go's ``syntax.Regexp``): the op, its sub-nodes, and the
    op's data (class ranges, literal rune and case folding, repeat bounds and greediness)."""

    __slots__ = ("fold", "greedy", "max", "min", "op", "ranges", "rune", "subs")

    def __init__(self, op: int, subs: list[Node] | None = None) -> None:
        self.op = op
        self.subs = subs or []
        self.ranges: list[tuple[int, int]] = []
        self.rune = 0
        self.fold = False
        self.min = 0
        self.max = -1
        self.greedy = True


def _is_word_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


class _GoRegexParser:
    """Go's ``regexp/syntax.Parse`` with the Perl flags ``regexp.Compile`` uses."""

    def __init__(self, pattern: str) -> None:
        self.s = pattern

    def parse(self) -> Node:
        node, pos, _ = self._alternation(0, {"i": False, "m": False, "s": False, "U": False})
        if pos < len(self.s):
            raise GoRegexError("unexpected )", self.s)
        return node

    # -- structure -------------------------------------------------------------

    def _alternation(self, pos: int, flags: dict[str, bool]) -> tuple[Node, int, dict[str, bool]]:
        branches = []
        while True:
            node, pos, flags = self._sequence(pos, flags)
            branches.append(node)
            if pos < len(self.s) and self.s[pos] == "|":
                pos += 1
                continue
            break
        if len(branches) == 1:
            return branches[0], pos, flags
        return Node(OP_ALTERNATE, branches), pos, flags

    def _sequence(self, pos: int, flags: dict[str, bool]) -> tuple[Node, int, dict[str, bool]]:
        s = self.s
        items: list[Node] = []
        last_repeat = -1  # start of the previous repetition operator, -1 if the last item wasn't one
        while pos < len(s) and s[pos] not in "|)":
            c = s[pos]
            start = pos
            repeat = -1
            if c == "(":
                node, pos, flags = self._group(pos, flags)
                if node is not None:
                    items.append(node)
            elif c == "[":
                node, pos = self._class(pos, flags)
                items.append(node)
            elif c in "*+?":
                bounds = {"*": (0, -1), "+": (1, -1), "?": (0, 1)}[c]
                pos = self._repeat(items, bounds, c, start, pos + 1, last_repeat, flags)
                repeat = start
            elif c == "{":
                parsed = self._repeat_braces(pos)
                if parsed is None:
                    items.append(self._literal(ord("{"), flags))
                    pos += 1
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > 1000 or hi > 1000 or (hi >= 0 and lo > hi):
                        raise GoRegexError("invalid repeat count", s[start:after])
                    pos = self._repeat(items, (lo, hi), "{", start, after, last_repeat, flags)
                    repeat = start
            elif c == ".":
                items.append(Node(OP_ANY if flags["s"] else OP_ANY_NOT_NL))
                pos += 1
            elif c == "^":
                items.append(Node(OP_BEGIN_LINE if flags["m"] else OP_BEGIN_TEXT))
                pos += 1
            elif c == "$":
                items.append(Node(OP_END_LINE if flags["m"] else OP_END_TEXT))
                pos += 1
            elif c == "\\":
                pos = self._escape_outside(pos, items, flags)
            else:
                items.append(self._literal(ord(c), flags))
                pos += 1
            last_repeat = repeat
        if not items:
            return Node(OP_EMPTY), pos, flags
        if len(items) == 1:
            return items[0], pos, flags
        return Node(OP_CONCAT, items), pos, flags

    def _group(self, pos: int, flags: dict[str, bool]) -> tuple[Node | None, int, dict[str, bool]]:
        s = self.s
        t = s[pos:]
        if t.startswith("(?"):
            if (len(t) > 4 and t[2] == "P" and t[3] == "<") or (len(t) > 3 and t[2] == "<"):
                begin = 4 if t[2] == "P" else 3
                end = t.find(">")
                if end < 0:
                    raise GoRegexError("invalid named capture", t)
                name = t[begin:end]
                if not name or not all(_is_word_char(ch) for ch in name):
                    raise GoRegexError("invalid named capture", t[: end + 1])
                return self._group_body(pos + end + 1, flags, capture=True)
            new = dict(flags)
            sign = 1
            saw_flag = False
            i = 2
            while i < len(t):
                ch = t[i]
                i += 1
                if ch in "imsU":
                    new[ch] = sign > 0
                    saw_flag = True
                elif ch == "-":
                    if sign < 0:
                        break
                    sign = -1
                    saw_flag = False
                elif ch in ":)":
                    if sign < 0 and not saw_flag:
                        break
                    if ch == ")":
                        return None, pos + i, new
                    return self._group_body(pos + i, new, capture=False, outer=flags)
                else:
                    break
            raise GoRegexError("invalid or unsupported Perl syntax", t[:i])
        return self._group_body(pos + 1, flags, capture=True)

    def _group_body(
        self, pos: int, flags: dict[str, bool], *, capture: bool, outer: dict[str, bool] | None = None
    ) -> tuple[Node, int, dict[str, bool]]:
        node, pos, _ = self._alternation(pos, dict(flags))
        if pos >= len(self.s) or self.s[pos] != ")":
            raise GoRegexError("missing closing )", self.s)
        result = Node(OP_CAPTURE, [node]) if capture else node
        return result, pos + 1, outer if outer is not None else flags

    def _repeat_braces(self, pos: int) -> tuple[int, int, int] | None:
        m = re.match(r"\{([0-9]+)(,([0-9]*))?\}", self.s[pos:])
        if not m:
            return None

        def number(text: str) -> int | None:
            if len(text) >= 2 and text[0] == "0":
                return None  # leading zeros: not a repeat, "{" is a literal
            return -1 if len(text) > 9 else int(text)  # -1: too big

        lo = number(m.group(1))
        if lo is None:
            return None
        if m.group(2) is None:
            return lo, lo, pos + m.end()
        if m.group(3) == "":
            return lo, -1, pos + m.end()
        hi = number(m.group(3))
        if hi is None:
            return None
        if hi < 0:
            lo = -1
        return lo, hi, pos + m.end()

    def _repeat(
        self,
        items: list[Node],
        bounds: tuple[int, int],
        kind: str,
        start: int,
        after: int,
        last_repeat: int,
        flags: dict[str, bool],
    ) -> int:
        greedy = not flags["U"]
        if after < len(self.s) and self.s[after] == "?":
            greedy = not greedy
            after += 1
        if last_repeat >= 0:
            raise GoRegexError("invalid nested repetition operator", self.s[last_repeat:after])
        if not items:
            raise GoRegexError("missing argument to repetition operator", self.s[start:after])
        op = {"*": OP_STAR, "+": OP_PLUS, "?": OP_QUEST}.get(kind, OP_REPEAT)
        node = Node(op, [items[-1]])
        node.min, node.max = bounds
        node.greedy = greedy
        if op == OP_REPEAT and (node.min >= 2 or node.max >= 2) and not _repeat_is_valid(node, 1000):
            raise GoRegexError("invalid repeat count", self.s[start:after])
        items[-1] = node
        return after

    # -- atoms -----------------------------------------------------------------

    def _literal(self, cp: int, flags: dict[str, bool]) -> Node:
        node = Node(OP_LITERAL)
        node.fold = flags["i"] and min_fold(cp) != max(fold_orbit(cp))
        node.rune = min_fold(cp) if node.fold else cp
        return node

    def _class_node(self, ranges: list[tuple[int, int]], flags: dict[str, bool]) -> Node:
        ranges = merge_ranges(ranges)
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            node = Node(OP_LITERAL)
            node.rune = ranges[0][0]
            return node
        if (
            len(ranges) == 2
            and ranges[0][0] == ranges[0][1]
            and ranges[1][0] == ranges[1][1]
            and fold_orbit(ranges[0][0]) == {ranges[0][0], ranges[1][0]}
        ):
            node = Node(OP_LITERAL)  # [Aa] is a case-insensitive literal
            node.rune = ranges[0][0]
            node.fold = True
            return node
        node = Node(OP_CLASS)
        node.ranges = ranges
        return node

    def _escape_outside(self, pos: int, items: list[Node], flags: dict[str, bool]) -> int:
        s = self.s
        t = s[pos:]
        if len(t) >= 2:
            c = t[1]
            simple = {"A": OP_BEGIN_TEXT, "b": OP_WORD, "B": OP_NO_WORD, "z": OP_END_TEXT}
            if c in simple:
                items.append(Node(simple[c]))
                return pos + 2
            if c == "C":
                raise GoRegexError("invalid escape sequence", t[:2])
            if c == "Q":
                end = t.find("\\E", 2)
                lit = t[2:] if end < 0 else t[2:end]
                items.extend(self._literal(ord(ch), flags) for ch in lit)
                return len(s) if end < 0 else pos + end + 2
            if c in "pP":
                ranges, nxt = self._unicode_class(pos)
                items.append(self._class_node(fold_ranges(ranges) if flags["i"] else ranges, flags))
                return nxt
            perl = self._perl_class(t)
            if perl is not None:
                items.append(self._class_node(perl, flags))
                return pos + 2
        cp, nxt = self._escape(pos)
        items.append(self._literal(cp, flags))
        return nxt

    def _perl_class(self, t: str) -> list[tuple[int, int]] | None:
        if len(t) >= 2 and t[0] == "\\" and t[1].lower() in PERL_CLASSES:
            ranges = PERL_CLASSES[t[1].lower()]
            return negate_ranges(ranges) if t[1].isupper() else list(ranges)
        return None

    def _unicode_class(self, pos: int) -> tuple[list[tuple[int, int]], int]:
        s = self.s
        t = s[pos:]
        negated = t[1] == "P"
        if len(t) < 3:
            raise GoRegexError("invalid character class range", t)
        if t[2] != "{":
            seq, name = t[:3], t[2]
        else:
            end = t.find("}")
            if end < 0:
                raise GoRegexError("invalid character class range", t)
            seq, name = t[: end + 1], t[3:end]
        if name.startswith("^"):
            negated = not negated
            name = name[1:]
        table = unicode_table(name)
        if table is None:
            raise GoRegexError("invalid character class range", seq)
        ranges = list(table)
        return (negate_ranges(ranges) if negated else ranges), pos + len(seq)

    def _escape(self, pos: int) -> tuple[int, int]:
        """``parseEscape``: one escaped rune; (code point, next position)."""
        s = self.s
        t = s[pos + 1:]
        if not t:
            raise GoRegexError("trailing backslash at end of expression", "")
        c = t[0]
        i = pos + 2
        if c.isascii() and not c.isalnum():
            return ord(c), i
        if c in "1234567" and not (i < len(s) and "0" <= s[i] <= "7"):
            raise GoRegexError("invalid escape sequence", s[pos:i])
        if c in "01234567":
            r = ord(c) - 48
            for _ in range(2):
                if i < len(s) and "0" <= s[i] <= "7":
                    r = r * 8 + ord(s[i]) - 48
                    i += 1
                else:
                    break
            return r, i
        if c == "x":
            if i >= len(s):
                raise GoRegexError("invalid escape sequence", s[pos:i])
            if s[i] == "{":
                j = i + 1
                r = 0
                nhex = 0
                while True:
                    if j >= len(s):
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                    ch = s[j]
                    j += 1
                    if ch == "}":
                        break
                    if ch not in "0123456789abcdefABCDEF":
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                    r = r * 16 + int(ch, 16)
                    nhex += 1
                    if r > MAX_RUNE:
                        raise GoRegexError("invalid escape sequence", s[pos:j])
                if nhex == 0:
                    raise GoRegexError("invalid escape sequence", s[pos:j])
                return r, j
            pair = s[i:i + 2]
            if len(pair) < 2 or any(ch not in "0123456789abcdefABCDEF" for ch in pair):
                raise GoRegexError("invalid escape sequence", s[pos:i + min(2, len(pair))])
            return int(pair, 16), i + 2
        simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
        if c in simple:
            return simple[c], i
        raise GoRegexError("invalid escape sequence", s[pos:i])

    def _class(self, pos: int, flags: dict[str, bool]) -> tuple[Node, int]:
        s = self.s
        whole = s[pos:]
        i = pos + 1
        negated = False
        if i < len(s) and s[i] == "^":
            negated = True
            i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while i >= len(s) or s[i] != "]" or first:
            first = False
            if i < len(s) - 2 and s[i] == "[" and s[i + 1] == ":":
                end = s.find(":]", i + 2)
                if end >= 0:
                    name = s[i:end + 2]
                    inner = name[2:-2]
                    neg = inner.startswith("^")
                    table = POSIX_CLASSES.get(inner[1:] if neg else inner)
                    if table is None:
                        raise GoRegexError("invalid character class range", name)
                    ranges.extend(negate_ranges(table) if neg else table)
                    i = end + 2
                    continue
            if i + 1 < len(s) and s[i] == "\\" and s[i + 1] in "pP":
                uni, i = self._unicode_class(i)
                ranges.extend(uni)
                continue
            perl = self._perl_class(s[i:i + 2])
            if perl is not None:
                ranges.extend(perl)
                i += 2
                continue
            rng_start = i
            lo, i = self._class_char(i, whole)
            hi = lo
            if i + 1 < len(s) and s[i] == "-" and s[i + 1] != "]":
                hi, i = self._class_char(i + 1, whole)
                if hi < lo:
                    raise GoRegexError("invalid character class range", s[rng_start:i])
            ranges.append((lo, hi))
        i += 1
        if flags["i"]:
            ranges = fold_ranges(ranges)
        if negated:
            ranges = negate_ranges(ranges)
        if not ranges:
            node = Node(OP_CLASS)
            return node, i
        return self._class_node(ranges, flags), i

    def _class_char(self, i: int, whole: str) -> tuple[int, int]:
        s = self.s
        if i >= len(s):
            raise GoRegexError("missing closing ]", whole)
        if s[i] == "\\":
            return self._escape(i)
        return ord(s[i]), i + 1


def _repeat_is_valid(node: Node, n: int) -> bool:
    if node.op == OP_REPEAT:
        m = node.max
        if m == 0:
            return True
        if m < 0:
            m = node.min
        if m > n:
            return False
        if m > 0:
            n //= m
    return all(_repeat_is_valid(sub, n) for sub in node.subs)


def parse(pattern: str) -> Node:
    """The syntax tree of a Go regexp; raises ``GoRegexError`` where Go's parser fails."""
    return _GoRegexParser(pattern).parse()
