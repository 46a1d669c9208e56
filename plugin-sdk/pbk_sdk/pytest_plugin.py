"""The ``pbk`` pytest plugin (entry point ``pytest11``), which pytest loads wherever the SDK
is installed.

Its fixtures (``pbk_sdk.testing``) need the ``[testing]`` extra: pytest-asyncio, the kernel
and httpx. Without the extra they are left out, so that pytest still starts.
"""

from importlib.util import find_spec

TESTING_EXTRA_MODULES = ("pytest_asyncio", "pbk", "httpx")

pytest_plugins = ["pbk_sdk.testing"] if all(find_spec(name) for name in TESTING_EXTRA_MODULES) else []
