"""Go's ``tools/tokenizer`` as PocketBase uses it to read index statements and view queries."""

from __future__ import annotations

#: The tokenizer's whitespace; each token is trimmed of it, less the separators.
WHITESPACE = "\t\n\v\f\r \x85\xa0"
QUOTES = "\"'`"


def split_tokens(text: str, separators: str, *, keep_separator: bool = False) -> list[str] | None:
    """``tokenizer.ScanAll``: ``text`` cut after each separator outside parentheses and quotes
    (a ``\\`` escapes the next character), each part trimmed, empty parts dropped; None when a
    parenthesis or quote is left open."""
    trim = "".join(ch for ch in WHITESPACE if ch not in separators)
    tokens: list[str] = []
    current: list[str] = []
    depth, quote, previous = 0, "", ""
    for ch in text:
        if previous != "\\":
            if ch == "(" and not quote:
                depth += 1
            elif ch == ")" and depth > 0 and not quote:
                depth -= 1
            elif ch in QUOTES:
                quote = "" if quote == ch else (ch if not quote else quote)
        if ch in separators and depth == 0 and not quote:
            if keep_separator:
                current.append(ch)
            tokens.append("".join(current))
            current, previous = [], ""
            continue
        previous = ch
        current.append(ch)
    if depth or quote:
        return None
    tokens.append("".join(current))
    return [t for t in (token.strip(trim) for token in tokens) if t]
