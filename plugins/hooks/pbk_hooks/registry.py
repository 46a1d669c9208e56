"""What one hook file registers, collected while it runs and applied to the app as one step.

A hook file runs with a ``HookFile`` as the current collector; the decorators of
``pbk_hooks`` add to it. Nothing reaches the app until the whole file ran: then ``swap``
adds the new file's handlers, routes and jobs and removes the previous version's, with no
``await`` in between, so each event's chain runs wholly on one version (a request firing
several events during a reload may meet the old version first, then the new one).
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pbk_sdk.errors import ApiError, BadRequestError
from pbk_sdk.interfaces import CRON_JOBS, App

from .route_event import RouteEvent

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]


class HookLineError(Exception):
    """What a hook file got wrong that only shows once applied, with the line to blame."""

    def __init__(self, line: int, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.line = line


@dataclass(frozen=True)
class EventHook:
    name: str
    handler: Handler
    collections: Sequence[str] | None
    priority: int


@dataclass(frozen=True)
class RouteHook:
    method: str
    template: str
    handler: Handler
    middlewares: tuple[Handler, ...]


@dataclass(frozen=True)
class CronHook:
    job_id: str
    expression: str
    run: Callable[[], Awaitable[None]]


@dataclass
class HookFile:
    """One hook file's registrations, and once applied the handles that take them off."""

    path: Path
    events: list[EventHook] = field(default_factory=list)
    routes: list[RouteHook] = field(default_factory=list)
    crons: list[CronHook] = field(default_factory=list)
    _handles: list[Any] = field(default_factory=list)

    def activate(self, app: App, replacing: HookFile | None = None) -> None:
        """Add everything to the app, in place of ``replacing`` (this file's previous version);
        on a failure, what was added is removed and it raises."""
        self._check_job_ids(app, replacing)
        try:
            for hook in self.events:
                self._handles.append(app.events.on(
                    hook.name, guarded(hook.handler, self.path), priority=hook.priority,
                    collections=list(hook.collections) if hook.collections else None))
            for route in self.routes:
                try:
                    self._handles.append(app.routes.add(route.method, route.template, responder(app, route, self.path)))
                except ValueError as exc:  # a malformed template: blame its decorator line
                    raise HookLineError(route.handler.__code__.co_firstlineno, exc) from exc
            jobs = app.state[CRON_JOBS] if self.crons else None
            for job in self.crons:
                assert jobs is not None
                jobs.add(job.job_id, job.expression, job.run)
        except BaseException:
            self.deactivate(app, keep_jobs=())
            raise

    def _check_job_ids(self, app: App, replacing: HookFile | None) -> None:
        """Refuse a cron job id another hook file or a plugin uses: removing either's would
        unschedule the other's (PocketBase's ``cronAdd`` ids are one namespace too)."""
        if not self.crons:
            return
        taken = {job_id for job_id, _ in app.state[CRON_JOBS].jobs()}
        taken -= {job.job_id for job in replacing.crons} if replacing else set()
        for job in self.crons:
            if job.job_id in taken:
                raise HookLineError(job.run.__code__.co_firstlineno, ValueError(
                    f"cron job {job.job_id!r} already exists (another hook file's or a plugin's)"))
            taken.add(job.job_id)

    def deactivate(self, app: App, keep_jobs: Sequence[str]) -> None:
        """Remove everything this file added, except the jobs ``keep_jobs`` names (a newer
        version of the file replaced them already)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self.crons:
            jobs = app.state[CRON_JOBS]
            for job in self.crons:
                if job.job_id not in keep_jobs:
                    jobs.remove(job.job_id)


def check_routes_free(new: HookFile, others: Iterable[HookFile]) -> None:
    """Refuse a route another hook file adds with the same method and template (PocketBase
    refuses such duplicates at start)."""
    taken = {(route.method, route.template): other.path.name for other in others for route in other.routes}
    for route in new.routes:
        owner = taken.get((route.method, route.template))
        if owner is not None:
            raise HookLineError(route.handler.__code__.co_firstlineno, ValueError(
                f"route {route.method} {route.template} is already added by {owner}"))


def swap(app: App, old: HookFile | None, new: HookFile | None) -> None:
    """Replace ``old`` by ``new`` (either may be None) in one step; raises, with ``old`` kept,
    when ``new`` cannot be added."""
    if new is not None:
        new.activate(app, replacing=old)
    if old is not None:
        old.deactivate(app, keep_jobs=[job.job_id for job in new.crons] if new else ())


_loading: contextvars.ContextVar[HookFile] = contextvars.ContextVar("pbk_hooks_loading")


def current() -> HookFile:
    """The hook file running now; the decorators of ``pbk_hooks`` work only while it loads."""
    try:
        return _loading.get()
    except LookupError:
        raise RuntimeError("pbk_hooks decorators work only in a hook file (pb_hooks/*.pb.py)") from None


def collecting(hook_file: HookFile) -> contextvars.Token[HookFile]:
    return _loading.set(hook_file)


def done_collecting(token: contextvars.Token[HookFile]) -> None:
    _loading.reset(token)


def guarded(handler: Handler, path: Path) -> Handler:
    """``handler`` with PocketBase's treatment of errors: an ``ApiError`` is answered as it is,
    anything else the hook itself raised is logged with the hook file and answered 400
    (PocketBase's generic ``Something went wrong while processing your request.``)."""

    @functools.wraps(handler)
    async def run(event: Any) -> None:
        # What the rest of the chain raises through ``e.next()`` is not this hook's doing: it
        # passes on untouched, as in PocketBase. ``type(event).next`` is the chain's own step,
        # under any outer hook's wrapper, which is put back once this hook returns.
        passed_on: list[BaseException] = []

        async def next_step() -> None:
            try:
                await type(event).next(event)
            except BaseException as exc:
                passed_on.append(exc)
                raise

        outer = event.__dict__.get("next")
        event.next = next_step
        try:
            await handler(event)
        except ApiError:
            raise
        except Exception as exc:
            if any(exc is seen for seen in passed_on):
                raise
            log.error("hook %s in %s raised %s", getattr(handler, "__name__", handler), path.name,
                      f"{type(exc).__name__}: {exc}", exc_info=exc)
            raise BadRequestError() from exc
        finally:
            if outer is None:
                del event.next
            else:
                event.next = outer

    return run


def responder(app: App, route: RouteHook, path: Path) -> Callable[..., Awaitable[None]]:
    """The responder ``app.routes`` calls: the route's middlewares, then its handler."""
    steps = tuple(guarded(step, path) for step in (*route.middlewares, route.handler))

    async def respond(req: Any, resp: Any, **params: Any) -> None:
        await RouteEvent(request=req, response=resp, params=params, app=app, steps=steps).next()

    return respond
