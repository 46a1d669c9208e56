"""Where a storage key lands on disk: under the storage root, as ``Path.resolve`` would put it,
with a symlink in the key followed, and refused when it leads out of the root."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from pbk_files.storage import LocalStorage


def test_keys_resolve_under_the_root_and_symlinks_out_of_it_are_refused(tmp_path: Path):
    root = tmp_path / "storage"
    (root / "col" / "rec").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "col" / "escape").symlink_to(outside)
    (root / "col" / "alias").symlink_to(root / "col" / "rec")
    storage = LocalStorage(app=None, root=root)  # type: ignore[arg-type]

    assert storage.path("col/rec/a.txt") == (root / "col/rec/a.txt").resolve()
    assert storage.path("col/new/a.txt") == (root / "col/new/a.txt").resolve()  # not there yet
    assert storage.path("col/alias/a.txt") == (root / "col/rec/a.txt").resolve()
    with pytest.raises(ValueError):
        storage.path("col/escape/a.txt")
    with pytest.raises(ValueError):
        storage.path("col/../../a.txt")


def test_a_small_upload_is_stored_with_its_attrs(tmp_path: Path):
    storage = LocalStorage(app=None, root=tmp_path)  # type: ignore[arg-type]
    asyncio.run(storage.save_file("c/r/a.txt", io.BytesIO(b"hello"), 5, metadata={"original-filename": "a.txt"}))
    assert (tmp_path / "c/r/a.txt").read_bytes() == b"hello"
    assert '"md5":"XUFAKrxLKna5cZ2REBfFkg=="' in (tmp_path / "c/r/a.txt.attrs").read_text()
    assert [p.name for p in (tmp_path / "c/r").iterdir() if p.name.endswith(".tmp")] == []
