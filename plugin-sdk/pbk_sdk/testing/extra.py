"""What the SDK's ``[testing]`` extra brings, imported only when a fixture needs it.

pytest loads the ``pbk`` plugin through the SDK's ``pytest11`` entry point in every environment
that has the SDK, with or without the extra. So nothing here is imported at plugin load: a
fixture that needs the kernel, httpx or pytest-asyncio imports it when used, and the test
fails with the command that installs the extra when it is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn, TypeVar, cast

import pytest

INSTALL_HINT = "pip install 'pbk-plugin-sdk[testing]'"

F = TypeVar("F", bound=Callable[..., Any])


def missing_extra_message(user: str, module: str, error: ImportError) -> str:
    return (
        f"{user} needs {module!r}, which the pbk SDK's [testing] extra brings "
        f"({error}); install it with: {INSTALL_HINT}"
    )


def require(module: str, user: str) -> ModuleType:
    """Import ``module`` for ``user`` (a fixture or helper name); without it, fail the
    calling test with the command that installs the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = missing_extra_message(user, module, error)
    pytest.fail(message, pytrace=False)  # outside ``except``: no chained import traceback


def async_fixture(fn: F) -> F:
    """``pytest_asyncio.fixture(fn)``; without pytest-asyncio, a fixture of the same name and
    docstring that fails the test using it with the install command."""
    try:
        pytest_asyncio = importlib.import_module("pytest_asyncio")
    except ImportError as error:
        message = missing_extra_message(f"the {fn.__name__} fixture", "pytest_asyncio", error)

        def unavailable() -> NoReturn:
            pytest.fail(message, pytrace=False)

        unavailable.__doc__ = fn.__doc__
        return cast(F, pytest.fixture(name=fn.__name__)(unavailable))
    return cast(F, pytest_asyncio.fixture(fn))
