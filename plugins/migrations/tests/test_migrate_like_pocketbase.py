"""``pbk migrate`` says what PocketBase's ``migrate`` says, step for step, on a new project:
create (asked), up, down (asked), history-sync, up twice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from migrations_testing import pbk
from pbk_sdk.testing.pocketbase import pocketbase_binary

STEPS = [(("create", "add_things"), "y\n"), (("up",), None), (("down",), "y\n"), (("history-sync",), None),
         (("up",), None), (("up",), None)]
RESULT = re.compile(r"^(Successfully created file|Applied|Reverted|No new|No migrations|The _migrations|The command).*$",
                    re.MULTILINE)


def results(output: str, folder: Path) -> list[str]:
    """The result lines, with the project folder, the time stamps and the language made alike."""
    return [re.sub(r"\d{10}_(\w+)\.(js|py)", r"<ts>_\1", m.group(0).replace(str(folder), "<dir>"))
            for m in RESULT.finditer(output)]


def test_migrate_answers_as_pocketbase_does(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "pbk", tmp_path / "pocketbase"
    binary = pocketbase_binary()
    for args, answer in STEPS:
        real = subprocess.run([binary, "migrate", *args, "--dir", str(theirs / "pb_data")], input=answer or "",
                              capture_output=True, text=True, timeout=60, check=False)
        mine = pbk(ours / "pb_data", "migrate", *args, input=answer)
        assert results(mine.output, ours) == results(real.stdout + real.stderr, theirs), (args, mine.output, real)
        assert results(mine.output, ours), (args, mine.output)
    assert results(mine.output, ours) == ["No new migrations to apply."]
