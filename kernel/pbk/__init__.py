"""pbk kernel: plugin loading, event bus, SQLite access, settings, HTTP app and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pbk-kernel")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

from .app import App, build_app
from .config import Config

__all__ = ["App", "Config", "__version__", "build_app"]
