from __future__ import annotations

import sys
from pathlib import Path

# the aiosmtpd test server lives with the mailer plugin's tests
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mailer" / "tests"))
