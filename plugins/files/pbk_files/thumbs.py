"""Thumbnails with Pillow, as PocketBase makes them with ``disintegration/imaging``.

``WxH`` crops to fill from the centre, ``WxHt`` from the top, ``WxHb`` from the bottom,
``WxHf`` fits inside (never enlarging), ``0xH``/``Wx0`` resize keeping the ratio.
"""

from __future__ import annotations

import io
import re

THUMB = re.compile(r"^(\d+)x(\d+)(t|b|f)?$")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
DEFAULT_THUMB = "100x100"


def parse(size: str) -> tuple[int, int, str] | None:
    match = THUMB.fullmatch(size or "")
    if match is None:
        return None
    width, height, mode = int(match[1]), int(match[2]), match[3] or ""
    if width == 0 and height == 0:
        return None
    if (width == 0 or height == 0) and mode:
        return None
    return width, height, mode


#: Only these decoders run on uploaded bytes (a file named .png may hold anything).
DECODERS = ("PNG", "JPEG", "GIF", "WEBP")
#: Larger images are served as they are, without a thumb.
MAX_PIXELS = 40_000_000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def make(data: bytes, size: str) -> tuple[bytes, str]:
    """The thumbnail of ``data`` (an image) at ``size``; returns (bytes, content type)."""
    from PIL import Image, ImageOps

    parsed = parse(size)
    if parsed is None:
        raise ValueError(f"invalid thumb size {size!r}")
    width, height, mode = parsed
    with Image.open(io.BytesIO(data), formats=DECODERS) as image:
        # NOTE: checked from the header, before any pixel is decoded: a few hundred KiB of PNG
        # can decode to gigabytes.
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"image too large for a thumb: {image.width}x{image.height}")
        fmt = (image.format or "PNG").upper()
        image.seek(0)
        if fmt == "JPEG":
            image.draft("RGB", (max(width, 1) * 2, max(height, 1) * 2))  # decode at a reduced scale
        image.load()
        frame: Image.Image = image
    if fmt == "JPEG" and frame.mode not in ("RGB", "L"):
        frame = frame.convert("RGB")
    resample = Image.Resampling.LANCZOS
    if width == 0:
        width = max(1, round(frame.width * height / frame.height))
        result = frame.resize((width, height), resample)
    elif height == 0:
        height = max(1, round(frame.height * width / frame.width))
        result = frame.resize((width, height), resample)
    elif mode == "f":
        result = frame.copy()
        result.thumbnail((width, height), resample)
    else:
        centering = {"": (0.5, 0.5), "t": (0.5, 0.0), "b": (0.5, 1.0)}[mode]
        result = ImageOps.fit(frame, (width, height), resample, centering=centering)
    out = io.BytesIO()
    save_format = fmt if fmt in ("PNG", "JPEG", "GIF", "WEBP") else "PNG"
    result.save(out, format=save_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}[save_format]
    return out.getvalue(), content_type
