"""The logos the dashboard shows for the providers shipped here.

Plain monograms of our own (a letter on the brand's colour): the vendors' marks are theirs to
license, and a provider published on its own can set ``logo`` to any SVG it may ship.
"""

from html import escape


def monogram(letters: str, background: str, foreground: str = "#fff") -> str:
    """A square SVG with ``letters`` centred on ``background``."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="12" fill="{escape(background)}"/>'
        f'<text x="32" y="43" font-family="Arial,sans-serif" font-size="{30 if len(letters) > 1 else 34}"'
        f' font-weight="700" text-anchor="middle" fill="{escape(foreground)}">{escape(letters)}</text>'
        "</svg>"
    )
