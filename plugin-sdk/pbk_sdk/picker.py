"""``?fields=``: PocketBase's response field picker, for every 2xx JSON response.

``fields=id,title,expand.author.name`` keeps those keys; ``*`` keeps every key at its level;
``body:excerpt(200,true)`` strips HTML and cuts to ~200 characters, adding ``...`` when cut.
On list responses the picker applies to each item and the envelope keys stay. Every plugin
that answers JSON outside an HTTP response (batch results, realtime events) uses ``apply_fields``.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .errors import ApiError
from .gostrconv import parse_bool, parse_int

LIST_KEYS = frozenset({"page", "perPage", "totalItems", "totalPages", "items"})
MODIFIER = re.compile(r"^(?P<name>[^:]+):(?P<modifier>\w+)\((?P<args>[^)]*)\)$")
SPACES = re.compile(r"\s+")
SKIPPED_OPENING = re.compile(r"<(?ai:(script|style))\b")
SKIPPED_CLOSING = {name: re.compile(f"</{name}>", re.IGNORECASE | re.ASCII) for name in ("script", "style")}
#: Go's ``strconv.ParseInt`` range: PocketBase reads a larger ``excerpt`` size as 0 and refuses it.
MAX_EXCERPT = 2**63 - 1
#: From this size on, PocketBase's "stop once ``max + 2`` bytes are gathered" check overflows
#: int64 to a negative bound, so it stops before the first text node: every excerpt is empty.
OVERFLOWING_EXCERPT = MAX_EXCERPT - 1
DECIMAL = re.compile(r"([-+]?[0-9]*)(\.[0-9]*)?")


class Pick:
    __slots__ = ("children", "excerpt")

    def __init__(self) -> None:
        self.children: dict[str, Pick] = {}
        self.excerpt: tuple[int, bool] | None = None


def parse_fields(raw: str) -> Pick:
    """Parse the ``fields`` parameter; 400 for a bad modifier."""
    root = Pick()
    for item in (part.strip() for part in _split(raw)):
        if not item:
            continue
        excerpt = None
        match = MODIFIER.match(item)
        if match:
            if match.group("modifier") != "excerpt":
                raise ApiError(400)
            item = match.group("name")
            excerpt = _excerpt_args(match.group("args"))
        node = root
        for segment in item.split("."):
            node = node.children.setdefault(segment, Pick())
        node.excerpt = excerpt
    return root


def _split(raw: str) -> list[str]:
    """Split on commas outside parentheses (``:excerpt(10,true)`` has one inside)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in raw:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _excerpt_args(raw: str) -> tuple[int, bool]:
    args = [a.strip() for a in raw.split(",") if a.strip()]
    if not args or len(args) > 2:
        raise ApiError(400)
    maximum = _go_to_int(args[0])
    if maximum <= 0:
        raise ApiError(400)
    return maximum, len(args) == 2 and parse_bool(args[1]) is True


def _go_to_int(text: str) -> int:
    """spf13/cast's ``ToInt`` of a string, as PocketBase reads ``excerpt(max)``: a decimal part
    is dropped, then Go's ``strconv.ParseInt(s, 0, 64)``; 0 for anything it refuses."""
    decimal = DECIMAL.fullmatch(text) if "." in text else None
    if decimal is not None:
        text = decimal.group(1) if decimal.group(1) not in ("", "-", "+") else decimal.group(1) + "0"
    return parse_int(text) or 0


def excerpt(value: Any, maximum: int, ellipsis: bool) -> Any:
    if not isinstance(value, str):
        return value
    if maximum >= OVERFLOWING_EXCERPT:
        return ""
    text = _strip_tags(_drop_skipped_blocks(value))
    text = SPACES.sub(" ", html.unescape(text)).strip()
    if len(text) <= maximum:
        return text
    cut = text[:maximum].rstrip()
    return cut + "..." if ellipsis else cut


def _drop_skipped_blocks(text: str) -> str:
    """Each ``<script ...>...</script>`` and ``<style ...>...</style>`` block as one space.

    One pass: every position is scanned a bounded number of times, so text full of ``<``
    costs linear time (the regex ``<(script|style)\\b[^>]*>.*?</\\1>`` it replaces was
    quadratic there).
    """
    out: list[str] = []
    kept_from = 0
    search_from = 0
    known_gt = -1  # the first ">" at or after the last lookup, reused while ahead of us
    unclosed: set[str] = set()  # closing tags absent from the rest of the text
    while (opening := SKIPPED_OPENING.search(text, search_from)) is not None:
        name = "style" if len(opening.group(1)) == 5 else "script"
        if known_gt < opening.end():
            known_gt = text.find(">", opening.end())
        if known_gt < 0:
            break
        closing = None if name in unclosed else SKIPPED_CLOSING[name].search(text, known_gt + 1)
        if closing is None:
            unclosed.add(name)
            search_from = opening.start() + 1
            continue
        out.append(text[kept_from : opening.start()])
        out.append(" ")
        kept_from = search_from = closing.end()
    out.append(text[kept_from:])
    return "".join(out)


def _strip_tags(text: str) -> str:
    """Each ``<...>`` as one space, in one pass (a ``<`` with no ``>`` after it stays)."""
    out: list[str] = []
    kept_from = 0
    while (start := text.find("<", kept_from)) >= 0:
        end = text.find(">", start)
        if end < 0:
            break
        out.append(text[kept_from:start])
        out.append(" ")
        kept_from = end + 1
    out.append(text[kept_from:])
    return "".join(out)


def pick(data: Any, node: Pick) -> Any:
    if isinstance(data, list):
        return [pick(item, node) for item in data]
    if not isinstance(data, dict) or not node.children:
        return data
    everything = node.children.get("*")
    out: dict[str, Any] = {}
    for key, value in data.items():
        child = node.children.get(key)
        if child is None and everything is None:
            continue
        chosen = child or everything
        assert chosen is not None
        if chosen.excerpt is not None:
            out[key] = excerpt(value, *chosen.excerpt)
        else:
            out[key] = pick(value, chosen) if chosen.children else value
    return out


def apply_fields(media: Any, raw: str) -> Any:
    """The response body with ``fields`` applied (list envelopes pick per item)."""
    node = parse_fields(raw)
    if not node.children:
        return media
    if isinstance(media, dict) and LIST_KEYS <= media.keys():
        return {**media, "items": pick(media["items"], node)}
    return pick(media, node)


class FieldsMiddleware:
    """Applies ``?fields=`` to every successful JSON response, as PocketBase does."""

    async def process_response(self, req: Any, resp: Any, resource: Any, req_succeeded: bool) -> None:
        raw = req.get_param("fields")
        if not raw or not req_succeeded or resp.media is None:
            return
        status = int(str(resp.status).split()[0]) if resp.status else 200
        if 200 <= status < 300:
            try:
                resp.media = apply_fields(resp.media, raw)
            except ApiError as error:
                resp.status = error.status
                resp.media = error.to_json()
