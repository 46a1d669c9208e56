"""PocketBase's mail templates: placeholders, the HTML layout and the plain-text part."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

#: Placeholders PocketBase replaces in template subjects and bodies.
PLACEHOLDERS = ("{APP_NAME}", "{APP_URL}", "{TOKEN}", "{OTP}", "{OTP_ID}", "{ALERT_INFO}")
RECORD_PLACEHOLDER = re.compile(r"\{RECORD:(\w+)\}")

LAYOUT = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
    <meta name="viewport" content="width=device-width,initial-scale=1" />
    <style>
        body, html {{ padding: 0; margin: 0; border: 0; color: #16161a; background: #fff;
            font-size: 14px; line-height: 20px; font-family: Source Sans Pro, sans-serif, emoji; }}
        body {{ padding: 20px 30px; }}
        p {{ display: block; margin: 10px 0; font-family: inherit; }}
        a {{ color: inherit; }}
        .btn {{ display: inline-block; color: #fff !important; background: #16161a !important;
            text-decoration: none !important; line-height: 40px; min-width: 150px; text-align: center;
            padding: 0 20px; margin: 5px 0; font-weight: bold; border-radius: 6px; }}
    </style>
</head>
<body>
    {body}
</body>
</html>
"""


def render(
    text: str,
    params: Mapping[str, Any],
    record: Mapping[str, Any] | None = None,
    *,
    escape: bool = True,
    hidden: frozenset[str] = frozenset({"password", "tokenKey"}),
) -> str:
    """Replace ``{APP_NAME}`` ... and ``{RECORD:field}`` in ``text``.

    ``params`` maps placeholder names without braces (``APP_NAME``) to values. Record values
    are HTML-escaped when ``escape`` (bodies, not subjects); hidden fields render empty.
    """
    for name, value in params.items():
        text = text.replace("{" + name + "}", "" if value is None else str(value))

    def record_value(match: re.Match[str]) -> str:
        name = match.group(1)
        if record is None or name in hidden:
            return ""
        value = record.get(name, "")
        value = "" if value is None else value if isinstance(value, str) else str(value)
        # Bodies are HTML; a subject is a header line, so no line breaks may come in.
        return html.escape(value) if escape else value.replace("\r", " ").replace("\n", " ")

    return RECORD_PLACEHOLDER.sub(record_value, text)


def render_mail(
    template: Mapping[str, Any], params: Mapping[str, Any], record: Mapping[str, Any] | None = None
) -> tuple[str, str, str]:
    """(subject, HTML, text) of a PocketBase template ``{subject, body}``: the HTML is the body
    inside the mail layout, the text part is made from the body alone."""
    subject = render(str(template.get("subject", "")), params, record, escape=False)
    body = render(str(template.get("body", "")), params, record)
    return subject, wrap(body), html_to_text(body)


def wrap(body_html: str) -> str:
    """The template body inside PocketBase's HTML mail layout."""
    return LAYOUT.format(body=body_html)


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.link: str | None = None
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag == "a":
            self.link = dict(attrs).get("href") or ""
            self.link_text = []
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag == "a" and self.link is not None:
            label = "".join(self.link_text).strip()
            self.parts.append(f"[{label}]({self.link})" if self.link and label else label or self.link)
            self.link = None
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.link is not None:
            self.link_text.append(data)
        else:
            self.parts.append(data)


def html_to_text(source: str) -> str:
    """A plain-text rendering of an HTML mail (links become ``[label](url)``, as in PocketBase)."""
    parser = _TextExtractor()
    parser.feed(source)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(line for line in lines if line)
    return text.strip()
