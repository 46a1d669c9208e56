"""The filter AST and its parser (fexpr's state machine, without recursion).

``parse`` turns a filter or rule into a :class:`Group`; the compiler turns that into SQL.
Parsing is cached (``functools.lru_cache``): a repeated filter or rule is parsed once.

The grammar is fexpr's, including what it tolerates (verified on PocketBase 0.40.6):

- a parenthesised group may follow an expression without a join operator and is then joined
  with the last join seen (``a = 1 || b = 2 (c = 3)`` is ``a = 1 || b = 2 || c = 3``);
- a group met in the middle of an expression drops the unfinished expression
  (``title = (views = 1)`` is ``views = 1``);
- an empty group, an empty or blank filter, or one made only of comments is an error.

Limits: at most :data:`MAX_LENGTH` UTF-8 bytes (as the binary counts),
:data:`MAX_EXPRESSIONS` comparisons and :data:`MAX_NESTING` nested parentheses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pbk_sdk.errors import ApiError

from .lexer import LexError, Scanner, Token

#: The longest filter accepted, in UTF-8 bytes (the binary accepts 3500, refuses 3501).
MAX_LENGTH = 3500
#: The most comparisons in one filter.
MAX_EXPRESSIONS = 200
#: The deepest parenthesis nesting (PocketBase itself is only bounded by the length).
MAX_NESTING = 1000
PARSE_CACHE_SIZE = 2048

AND = "&&"
OR = "||"


class FilterError(ApiError):
    """An invalid filter, rule or sort: PocketBase's 400 (or 403) envelope.

    ``detail`` says what is wrong, for logs and tests; it never reaches the client, whose
    message is PocketBase's generic one.
    """

    def __init__(self, detail: str, status: int = 400, message: str = "") -> None:
        super().__init__(status, message)
        self.detail = detail

    def __repr__(self) -> str:
        return f"FilterError({self.status}, {self.detail!r})"


@dataclass(frozen=True, slots=True)
class Operand:
    """One side of a comparison (or a function argument)."""

    kind: str  # "identifier" | "number" | "text" | "placeholder" | "function"
    value: str
    args: tuple[Operand, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True, slots=True)
class Group:
    """Items joined left to right; the join of the first item is meaningless.

    ``&&`` binds tighter than ``||`` as in SQL: the compiler emits the joins as they are.
    """

    items: tuple[tuple[str, Node], ...]


Node = Comparison | Group


def _operand(token: Token) -> Operand:
    if token.kind == "function":
        return Operand("function", token.value, tuple(_operand(a) for a in token.args))
    return Operand(token.kind, token.value)


class _Frame:
    __slots__ = ("items", "join", "left", "op", "scanner", "step")

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.items: list[tuple[str, Node]] = []
        self.step = 0  # 0 before sign, 1 sign, 2 after sign, 3 join
        self.join = AND
        self.left: Operand | None = None
        self.op = ""


_OPERAND_KINDS = frozenset(("identifier", "number", "text", "placeholder", "function"))


def _parse(expression: str) -> Group:
    if len(expression.encode("utf-8", "surrogatepass")) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} bytes")
    groups: dict[int, int] = {}
    stack = [_Frame(Scanner(expression, 0, len(expression), groups))]
    count = 0
    while True:
        frame = stack[-1]
        token = frame.scanner.next()
        kind = token.kind
        if kind == "eof":
            if frame.step != 3:
                raise FilterError("invalid formatted filter expression")
            node = _collapse(Group(tuple(frame.items)))
            stack.pop()
            if not stack:
                return node if isinstance(node, Group) else Group(((AND, node),))
            parent = stack[-1]
            parent.items.append((parent.join, node))
            parent.step = 3
            continue
        if kind == "group":
            if len(stack) > MAX_NESTING:
                raise FilterError(f"more than {MAX_NESTING} nested groups")
            stack.append(_Frame(Scanner(expression, token.start, token.end, groups)))
            continue
        step = frame.step
        if step == 0:
            if kind not in _OPERAND_KINDS:
                raise FilterError(f"expected left operand, got {token.value!r}")
            frame.left = _operand(token)
            frame.step = 1
        elif step == 1:
            if kind != "sign":
                raise FilterError(f"expected a sign operator, got {token.value!r}")
            frame.op = token.value
            frame.step = 2
        elif step == 2:
            if kind not in _OPERAND_KINDS:
                raise FilterError(f"expected right operand, got {token.value!r}")
            count += 1
            if count > MAX_EXPRESSIONS:
                raise FilterError(f"more than {MAX_EXPRESSIONS} expressions")
            assert frame.left is not None
            frame.items.append((frame.join, Comparison(frame.left, frame.op, _operand(token))))
            frame.step = 3
        else:
            if kind != "join":
                raise FilterError(f"expected && or ||, got {token.value!r}")
            frame.join = token.value
            frame.step = 0


def _collapse(group: Group) -> Node:
    """``((a))`` is ``a``: drop groups of one item so the tree is no deeper than it must be."""
    node: Node = group
    while isinstance(node, Group) and len(node.items) == 1:
        node = node.items[0][1]
    return node


@functools.lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_cached(expression: str) -> Group | FilterError:
    try:
        return _parse(expression)
    except FilterError as exc:
        return exc
    except (LexError, RecursionError) as exc:
        return FilterError(str(exc) or exc.__class__.__name__)


def parse(expression: str) -> Group:
    """Parse a filter or rule; raise :class:`FilterError` (400) when it is invalid.

    The result is immutable and cached: parsing the same text again is a dict lookup.
    """
    if not isinstance(expression, str):
        raise FilterError("the filter must be a string")
    result = _parse_cached(expression)
    if isinstance(result, FilterError):
        # a fresh exception each time: a cached one would carry a growing traceback
        raise FilterError(result.detail, result.status)
    return result


def count_expressions(node: Node) -> int:
    if isinstance(node, Comparison):
        return 1
    return sum(count_expressions(child) for _, child in node.items)
