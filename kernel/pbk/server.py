"""``pbk serve``: the app under uvicorn, started before the socket opens."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator

import click
import uvicorn
from pbk_sdk.events import SERVE, ServeEvent

from .app import App
from .config import parse_address

GRACEFUL_SHUTDOWN_SECONDS = 3


class _Server(uvicorn.Server):
    """Prints PocketBase's banner once the socket is bound."""

    def __init__(self, config: uvicorn.Config, app: App) -> None:
        super().__init__(config)
        self.address = app.config.http
        self.pbk_app = app

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        # Let long-lived responses (realtime streams) end before uvicorn waits for them.
        await self.pbk_app.terminate()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop gracefully on SIGINT/SIGTERM and exit 0 afterwards.

        uvicorn re-raises the signal once it has shut down, which would kill the process
        before the app's shutdown hooks run; pbk stops the app after the server instead.
        """
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.started:
            base = f"http://{self.address}"
            click.echo(f"Server started at {base}\n└─ REST API:  {base}/api/")


def serve(app: App) -> None:
    """Start ``app``, serve it until SIGINT/SIGTERM, then stop it gracefully."""
    host, port = parse_address(app.config.http)
    config = uvicorn.Config(
        app.asgi,
        host=host,
        port=port,
        lifespan="off",  # the app is started here, so start-up errors are reported plainly
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    server = _Server(config, app)

    async def main() -> None:
        await app.start()
        try:
            await app.events.trigger(SERVE, ServeEvent(app=app, address=app.config.http))
            await server.serve()
        finally:
            await app.stop()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but optional at runtime
        asyncio.run(main())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    if not server.started:
        sys.exit(1)
