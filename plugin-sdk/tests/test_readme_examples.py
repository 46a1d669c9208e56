"""The README's testing examples run as an author would paste them: the first block as
``conftest.py``, the others as a test module, in a pytest subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_the_readme_examples_pass(tmp_path: Path) -> None:
    conftest, *tests = PYTHON_BLOCK.findall(README.read_text())
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_readme.py").write_text("\n\n".join(tests))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_readme.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
