"""The falcon ASGI app: routes from plugins, PocketBase's envelope, CORS, limits, pb_public.

What PocketBase 0.40 does and this copies: every error is ``{"data","message","status"}``;
unknown GET paths fall through to the public dir (``File not found.``), other methods get
``The requested resource wasn't found.``; no 405s; HEAD on every GET route; security headers
and ``Vary: Origin`` on every response; CORS preflight answered with 204.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import posixpath
from collections.abc import Iterable, Sequence
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

import falcon
import falcon.asgi
import falcon.media
import orjson
from pbk_sdk.errors import ApiError
from pbk_sdk.events import HEALTH_REQUEST, REQUEST, RequestEvent
from pbk_sdk.http import BODY_LIMIT_SCOPE_KEY, BodyLimit
from pbk_sdk.routes import HEALTH, Route

from .config import Config
from .events import EventBus

log = logging.getLogger(__name__)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
SECURITY_HEADERS = {
    "X-XSS-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"
STATIC_CHUNK = 256 * 1024

#: orjson's bytes are the body as they are (a ``str`` would be decoded and encoded again).
_json = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)


# --------------------------------------------------------------------------- errors


def _falcon_error_to_api(ex: falcon.HTTPError) -> ApiError:
    status = ex.status_code
    if isinstance(ex, falcon.HTTPMethodNotAllowed | falcon.HTTPNotFound):
        return ApiError(404)
    if isinstance(ex, falcon.HTTPUnsupportedMediaType):
        return ApiError(400, "Unsupported Content-Type.")
    if isinstance(ex, falcon.HTTPContentTooLarge):
        return ApiError(413)
    if 400 <= status < 500 and status not in (401, 403, 429):
        # Malformed bodies, bad query params, invalid headers: PocketBase's generic 400.
        return ApiError(400)
    return ApiError(status, ex.title or "")


def install_error_envelope(api: falcon.asgi.App) -> None:
    async def api_error(req: falcon.asgi.Request, resp: falcon.asgi.Response, ex: ApiError, params: Any) -> None:
        resp.status = ex.status
        resp.media = ex.to_json()
        for name, value in ex.headers.items():
            resp.set_header(name, value)
        resp.complete = True

    async def http_error(req: Any, resp: Any, ex: falcon.HTTPError, params: Any) -> None:
        if req.method not in falcon.COMBINED_METHODS:
            # falcon answers a method it does not know (`get`, `FOO`) with 400; PocketBase's
            # router finds no route for it: 404.
            ex = falcon.HTTPNotFound()
        await api_error(req, resp, _falcon_error_to_api(ex), params)

    async def unexpected(req: Any, resp: Any, ex: Exception, params: Any) -> None:
        log.error("unhandled error on %s %s", req.method, req.path, exc_info=ex)
        await api_error(req, resp, ApiError(500), params)

    api.add_error_handler(Exception, unexpected)  # falcon picks the most specific handler
    api.add_error_handler(falcon.HTTPError, http_error)
    api.add_error_handler(ApiError, api_error)


# --------------------------------------------------------------------------- middleware


class KernelMiddleware:
    """Security headers, CORS and preflight, as PocketBase's default middlewares do."""

    def __init__(self, origins: Sequence[str]) -> None:
        self._any_origin = "*" in origins
        self._origins = frozenset(origins)

    def _allowed_origin(self, origin: str) -> str | None:
        if self._any_origin:
            return "*"
        return origin if origin in self._origins else None

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.method != "OPTIONS":
            return
        # As PocketBase (echo's CORS middleware): every OPTIONS is answered here with 204; one
        # with an allowed Origin is a preflight (Access-Control-Request-Method is not needed).
        resp.status = 204
        resp.complete = True
        resp.append_header("Vary", "Origin")
        origin = req.get_header("Origin")
        allowed = self._allowed_origin(origin) if origin else None
        if not allowed:
            return
        resp.append_header("Vary", "Access-Control-Request-Method")
        resp.append_header("Vary", "Access-Control-Request-Headers")
        resp.set_header("Access-Control-Allow-Origin", allowed)
        resp.set_header("Access-Control-Allow-Methods", CORS_METHODS)
        headers = req.get_header("Access-Control-Request-Headers")
        if headers:
            resp.set_header("Access-Control-Allow-Headers", headers)

    async def process_response(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, resource: Any, req_succeeded: bool
    ) -> None:
        if req.method == "OPTIONS":
            return  # answered (Vary included) by process_request
        resp.set_headers(SECURITY_HEADERS)  # one call, not one per header
        origin = req.get_header("Origin")
        if origin:
            allowed = self._allowed_origin(origin)
            if allowed:
                resp.set_header("Access-Control-Allow-Origin", allowed)
        resp.append_header("Vary", "Origin")


# --------------------------------------------------------------------------- routes


class RoutedResource:
    """Presents a plugin resource to falcon with ``request`` events and GET-for-HEAD."""

    def __init__(
        self, resource: Any, suffix: str | None, events: EventBus, fallback: Any = None
    ) -> None:
        self._resource = resource
        for method in HTTP_METHODS:
            name = f"on_{method.lower()}" + (f"_{suffix}" if suffix else "")
            responder = getattr(resource, name, None)
            if responder is None and method == "HEAD":
                responder = getattr(resource, "on_get" + (f"_{suffix}" if suffix else ""), None)
            if responder is not None:
                if not asyncio.iscoroutinefunction(responder):
                    raise TypeError(f"{type(resource).__name__}.{name} must be async def")
                setattr(self, f"on_{method.lower()}", _with_request_event(responder, events))
            elif method in ("GET", "HEAD") and fallback is not None:
                # PocketBase: a GET the route does not serve falls through to pb_public.
                setattr(self, f"on_{method.lower()}", fallback)

    def __repr__(self) -> str:
        return f"RoutedResource({self._resource!r})"


def _with_request_event(responder: Any, events: EventBus) -> Any:
    async def respond(req: falcon.asgi.Request, resp: falcon.asgi.Response, **params: Any) -> None:
        if not events.has(REQUEST):
            await responder(req, resp, **params)
            return

        async def default(_: RequestEvent) -> None:
            await responder(req, resp, **params)

        await events.trigger(REQUEST, RequestEvent(request=req, response=resp, params=params), default)

    return respond


class Health:
    """``GET|HEAD /api/health``, as PocketBase answers it (note ``code``, not ``status``);
    ``health_request`` handlers add to ``data`` (the kernel knows no superuser)."""

    def __init__(self, events: EventBus) -> None:
        self._events = events

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if self._events.has(HEALTH_REQUEST):
            await self._events.trigger(HEALTH_REQUEST, RequestEvent(request=req, response=resp), _healthy)
        else:  # health checks come often: no event for no listener
            resp.media = _healthy_body()


def _healthy_body() -> dict[str, Any]:
    return {"message": "API is healthy.", "code": 200, "data": {}}


async def _healthy(event: RequestEvent) -> None:
    event.response.media = _healthy_body()


# --------------------------------------------------------------------------- static files


class Unrouted:
    """Where requests no build-time route answers go: the runtime routes (``app.routes``),
    then the public files."""

    def __init__(self, runtime: Any, public: PublicFiles) -> None:
        self._runtime = runtime
        self._public = public

    async def __call__(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **_: Any) -> None:
        if not await self._runtime.dispatch(req, resp):
            await self._public(req, resp)


class PublicFiles:
    """The fallback for every unrouted request: ``pb_public`` for GET/HEAD, else 404."""

    def __init__(self, public_dir: Path, index_fallback: bool) -> None:
        self._root = public_dir
        self._index_fallback = index_fallback

    async def __call__(self, req: falcon.asgi.Request, resp: falcon.asgi.Response, **_: Any) -> None:
        if req.method not in ("GET", "HEAD"):
            raise ApiError(404)
        path = req.path
        cleaned = posixpath.normpath(path) if path not in ("", "/") else "/"
        if cleaned.startswith("//"):
            cleaned = "/" + cleaned.lstrip("/")
        if path.endswith("/") and cleaned != "/":
            cleaned += "/"
        if cleaned != path:
            # Go's ServeMux cleans the path first (307, query kept).
            raise _redirect(307, cleaned, req.query_string)
        target = await asyncio.to_thread(self._resolve, path)
        if isinstance(target, str):
            raise _redirect(301, target, "")  # PocketBase's canonical redirects drop the query
        if target is None:
            raise ApiError(404, "File not found.")
        await _send_file(req, resp, target)

    def _resolve(self, path: str) -> Path | str | None:
        """The file to send, the path to redirect to (PocketBase's ``apis.Static``), or None."""
        try:
            root = self._root.resolve(strict=True)
        except OSError:
            return None
        try:
            candidate = (root / path.lstrip("/")).resolve()
            inside = candidate == root or root in candidate.parents  # no symlinks out
            if inside and candidate.is_dir():
                if not path.endswith("/"):
                    return path + "/"
                if (candidate / "index.html").is_file():
                    return candidate / "index.html"
            elif inside and candidate.is_file():
                if path.endswith("/"):
                    return path.rstrip("/")
                if path.endswith("/index.html"):
                    return path[: -len("index.html")]
                return candidate
        except (OSError, ValueError):  # a name too long, an embedded NUL: not a file
            pass
        index = root / "index.html"
        if self._index_fallback and index.is_file():
            return index
        return None


def _redirect(status: int, location: str, query: str) -> falcon.HTTPError:
    target = location + (f"?{query}" if query else "")
    if status == 301:
        return falcon.HTTPMovedPermanently(target)
    return falcon.HTTPTemporaryRedirect(target)


async def _send_file(req: falcon.asgi.Request, resp: falcon.asgi.Response, path: Path) -> None:
    stat = await asyncio.to_thread(path.stat)
    resp.set_header("Last-Modified", formatdate(int(stat.st_mtime), usegmt=True))
    since = req.get_header("If-Modified-Since")
    if since:
        try:
            if int(stat.st_mtime) <= parsedate_to_datetime(since).timestamp():
                resp.status = 304
                return
        except (TypeError, ValueError):
            pass
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/"):  # as Go's mime package: text types only
        content_type += "; charset=utf-8"
    resp.content_type = content_type
    resp.content_length = stat.st_size
    if req.method == "HEAD":
        return
    if stat.st_size <= STATIC_CHUNK:
        resp.data = await asyncio.to_thread(path.read_bytes)
    else:
        resp.stream = _file_chunks(path)


async def _file_chunks(path: Path):  # type: ignore[no-untyped-def]
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, STATIC_CHUNK):
            yield chunk
    finally:
        handle.close()


# --------------------------------------------------------------------------- assembly


def build_falcon_app(
    config: Config,
    events: EventBus,
    routes: Iterable[tuple[str, Route]],
    middleware: Iterable[Any],
    runtime: Any,
) -> falcon.asgi.App:
    """The falcon app; ``routes`` are ``(plugin name, Route)`` pairs in plugin order, ``runtime``
    the routes added while it runs (``RuntimeRoutes``)."""
    api = falcon.asgi.App(middleware=[KernelMiddleware(config.origins), *middleware])
    api.req_options.media_handlers.update({falcon.MEDIA_JSON: _json})
    api.resp_options.media_handlers.update({falcon.MEDIA_JSON: _json})
    api.req_options.auto_parse_qs_csv = False
    install_error_envelope(api)
    public = Unrouted(runtime, PublicFiles(config.public_dir, config.index_fallback))
    api.add_route(HEALTH, RoutedResource(Health(events), None, events))
    owners = {HEALTH: "the kernel"}
    for plugin, route in routes:
        try:
            if route.template in owners:
                # falcon would silently replace the earlier resource.
                raise ValueError(f"already served by {owners[route.template]}")
            resource = RoutedResource(route.resource, route.suffix, events, public)
            api.add_route(route.template, resource)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"plugin {plugin!r} cannot serve {route.template!r}: {exc}") from exc
        owners[route.template] = f"plugin {plugin!r}"
    api.add_sink(public, prefix="/")
    runtime.refuse_served(lambda method, path: _served_at_build_time(api, method, path))
    return api


def _served_at_build_time(api: falcon.asgi.App, method: str, path: str) -> bool:
    """Whether a build-time route answers ``method`` at ``path``: falcon answers every method
    of a route it finds (405 for those the resource lacks), but hands a GET or HEAD the
    resource lacks to ``Unrouted``."""
    found = api._router.find(path)  # falcon has no public router lookup
    if found is None:
        return False
    fallback = isinstance(getattr(found[0], "on_get", None), Unrouted)
    return not (fallback and method in ("GET", "HEAD"))


class AsgiApp:
    """The ASGI callable uvicorn serves: lifespan drives the pbk app; bodies are bounded."""

    def __init__(self, app: Any, api: falcon.asgi.App, max_body_size: int) -> None:
        self.app = app
        self.api = api
        self.max_body_size = max_body_size

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if self.app.cluster.stale():
                await self.app.cluster.sync()  # another worker changed the schema or settings
            # ASGI allows iterables (falcon's test client passes iterators): read them once.
            scope["headers"] = [tuple(header) for header in scope.get("headers", ())]
            content_length = _content_length(scope)
            limit = BodyLimit(self.max_body_size, content_length)
            scope[BODY_LIMIT_SCOPE_KEY] = limit
            if content_length or _chunked(scope):
                receive = _whole_body_or_error(receive)
            nodes = self.app.cluster.nodes
            if nodes is not None:  # what this request changes is known to every node before it is answered
                send = nodes.settling(send)
            await self.api(scope, _body_read_by_responder(limit.wrap(receive)), send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.api(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.app.start()
                except Exception as exc:
                    log.debug("start-up failed", exc_info=True)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.app.stop()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return


def _body_read_by_responder(receive: Any) -> Any:
    """Answer falcon's eager first ``receive()`` with an empty chunk.

    falcon awaits one ``http.request`` message before routing, outside its error handling, so
    a 413 raised there would escape as a bare 500 and ``set_body_limit`` could not apply to
    it. With an empty first chunk every body byte is received (and limited) when the
    responder reads the stream.
    """
    first = True

    async def deferred_receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": True}
        return await receive()  # type: ignore[no-any-return]

    return deferred_receive


def _whole_body_or_error(receive: Any) -> Any:
    """Refuse a body cut short by a disconnect (the client's, or the server's read timeout).

    falcon reads ``http.disconnect`` as the end of the body, so a truncated form would be
    handled as a complete one; PocketBase's handlers get a read error instead.
    """
    complete = False

    async def receive_whole() -> dict[str, Any]:
        nonlocal complete
        message: dict[str, Any] = await receive()
        if message["type"] == "http.request":
            complete = not message.get("more_body", False)
        elif not complete:
            raise ApiError(400)
        return message

    return receive_whole


def _chunked(scope: dict[str, Any]) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
