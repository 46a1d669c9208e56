"""The kernel's HTTP layer, as PocketBase 0.40 answers on the wire.

Health, the error envelope, security headers, CORS, 404s (never 405s), body limits and the
``request`` event chain, checked through a real app built from a plugin written to disk. The
``slow`` test at the end sends the same requests to the real ``pocketbase`` binary and to
``pbk serve`` and compares the answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pbk
import pytest
from pbk_sdk.errors import ApiError, PluginError
from pbk_sdk.testing import client_for

HEALTHY = {"message": "API is healthy.", "code": 200, "data": {}}
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
FILE_NOT_FOUND = {"data": {}, "message": "File not found.", "status": 404}
TOO_LARGE = {"data": {}, "message": "Request entity too large.", "status": 413}
SOMETHING_WRONG = "Something went wrong while processing your request."
BAD_REQUEST = {"data": {}, "message": SOMETHING_WRONG, "status": 400}
SERVER_ERROR = {"data": {}, "message": SOMETHING_WRONG, "status": 500}
SECURITY_HEADERS = {
    "X-Xss-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"
MAX_BODY = 1024

DEMO = '''
from pbk_sdk import ApiError, FieldError, PluginInfo, Route, hookimpl
from pbk_sdk.http import set_body_limit

PLUGIN = PluginInfo(name="demo")
CALLS = []  # what the responders saw, for the tests to read


class Echo:
    async def on_post(self, req, resp):
        CALLS.append("echo")
        resp.media = {"body": await req.get_media()}


class Size:
    """Reads the raw body, so only the body limit can stop it."""

    async def on_post(self, req, resp):
        data = await req.stream.read()
        resp.media = {"size": len(data)}


class Bigger:
    async def on_post(self, req, resp):
        set_body_limit(req, 4096)
        data = await req.stream.read()
        resp.media = {"size": len(data)}


class Smaller:
    async def on_post(self, req, resp):
        set_body_limit(req, 100)
        data = await req.stream.read()
        resp.media = {"size": len(data)}


class Invalid:
    async def on_post(self, req, resp):
        raise ApiError(
            400,
            "failed to create record",
            {
                "title": FieldError("validation_required", "cannot be blank"),
                "fields": {
                    "1": {
                        "name": FieldError(
                            "validation_max_text_constraint",
                            "must be no more than 3 character(s)",
                            {"max": 3},
                        )
                    }
                },
                "mfaId": "abc",
            },
        )


class Raise:
    async def on_get(self, req, resp, status):
        raise ApiError(int(status), req.get_param("message") or "", headers={"X-Why": "because"})


class Boom:
    async def on_get(self, req, resp):
        raise RuntimeError("the secret detail")


class Item:
    async def on_get(self, req, resp, item_id):
        CALLS.append(("GET", item_id))
        resp.media = {"id": item_id}

    async def on_delete(self, req, resp, item_id):
        CALLS.append(("DELETE", item_id))
        resp.status = 204


@hookimpl
def pbk_register_routes(app):
    return [
        Route("/api/demo/echo", Echo()),
        Route("/api/demo/size", Size()),
        Route("/api/demo/bigger", Bigger()),
        Route("/api/demo/smaller", Smaller()),
        Route("/api/demo/invalid", Invalid()),
        Route("/api/demo/raise/{status}", Raise()),
        Route("/api/demo/boom", Boom()),
        Route("/api/demo/items/{item_id}", Item()),
    ]
'''


@pytest.fixture
def pbk_config(pbk_config: dict[str, Any], plugins_dir: Path, write_plugin: Any) -> dict[str, Any]:
    write_plugin("demo", DEMO)
    return {**pbk_config, "plugins_dir": plugins_dir, "max_body_size": MAX_BODY}


@pytest.fixture
def calls(pbk_app: Any) -> list[Any]:
    """What the demo plugin's responders recorded."""
    (demo,) = [p for p in pbk_app.loaded if p.name == "demo"]
    calls: list[Any] = demo.module.CALLS
    calls.clear()
    return calls


def vary(headers: Any) -> list[str]:
    value = headers.get("Vary") or ""
    return [token.strip() for token in value.split(",") if token.strip()]


def assert_security_headers(result: Any) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert result.headers.get(name) == value, name
    assert vary(result.headers) == ["Origin"]


# --------------------------------------------------------------------------- health


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_health_answers_with_pocketbase_body_and_head_has_no_body(pbk_client, method):
    result = await pbk_client.simulate_request(method, "/api/health")

    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"
    assert result.headers["Content-Length"] == str(len(json.dumps(HEALTHY, separators=(",", ":"))))
    if method == "GET":
        assert result.content == b'{"message":"API is healthy.","code":200,"data":{}}'
    else:
        assert result.content == b""


async def test_health_request_handlers_add_to_the_answer_and_without_them_it_is_plain(pbk_app, pbk_client):
    async def add_uptime(event):
        await event.next()
        event.response.media["data"]["uptime"] = 1

    for registration in pbk_app.events.handlers("health_request"):  # the auth plugin's, if loaded
        registration.remove()
    plain = (await pbk_client.simulate_request("GET", "/api/health")).json
    registration = pbk_app.events.on("health_request", add_uptime)
    extended = (await pbk_client.simulate_request("GET", "/api/health")).json
    registration.remove()

    assert plain == HEALTHY
    assert extended == {**HEALTHY, "data": {"uptime": 1}}
    assert (await pbk_client.simulate_request("GET", "/api/health")).json == HEALTHY


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("HEAD", "/api/health", 200),
        ("GET", "/api/demo/items/a1", 200),
        ("DELETE", "/api/demo/items/a1", 204),
        ("GET", "/nope", 404),
        ("HEAD", "/nope", 404),
        ("POST", "/nope", 404),
        ("POST", "/api/health", 404),
        ("POST", "/api/demo/invalid", 400),
        ("GET", "/api/demo/raise/401", 401),
        ("GET", "/api/demo/boom", 500),
    ],
)
async def test_every_response_carries_the_security_headers_and_vary_origin(
    pbk_client, method, path, status
):
    result = await pbk_client.simulate_request(method, path)

    assert result.status_code == status
    assert_security_headers(result)
    assert "Access-Control-Allow-Origin" not in result.headers


# --------------------------------------------------------------------------- 404s


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/nope", FILE_NOT_FOUND),
        ("GET", "/api/nope", FILE_NOT_FOUND),
        ("GET", "/api/demo", FILE_NOT_FOUND),
        ("GET", "/api/demo/items/a1/more", FILE_NOT_FOUND),
        ("POST", "/nope", NOT_FOUND),
        ("PUT", "/nope", NOT_FOUND),
        ("PATCH", "/api/nope", NOT_FOUND),
        ("DELETE", "/api/nope", NOT_FOUND),
        ("POST", "/", NOT_FOUND),
    ],
)
async def test_an_unknown_path_is_file_not_found_for_get_and_not_found_otherwise(
    pbk_client, method, path, expected
):
    result = await pbk_client.simulate_request(method, path)

    assert result.status_code == 404
    assert result.json == expected


async def test_head_on_an_unknown_path_is_a_404_without_body(pbk_client):
    result = await pbk_client.simulate_request("HEAD", "/nope")

    assert result.status_code == 404
    assert result.content == b""


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/health", NOT_FOUND),
        ("PUT", "/api/health", NOT_FOUND),
        ("PATCH", "/api/health", NOT_FOUND),
        ("DELETE", "/api/health", NOT_FOUND),
        ("POST", "/api/demo/items/a1", NOT_FOUND),
        ("PATCH", "/api/demo/items/a1", NOT_FOUND),
        # A GET the route does not serve falls through to pb_public, as in PocketBase.
        ("GET", "/api/demo/echo", FILE_NOT_FOUND),
        ("HEAD", "/api/demo/echo", None),
    ],
)
async def test_a_method_the_route_does_not_serve_is_a_404_never_a_405(
    pbk_client, calls, method, path, expected
):
    result = await pbk_client.simulate_request(method, path)

    assert result.status_code == 404
    assert "Allow" not in result.headers
    if expected is None:
        assert result.content == b""
    else:
        assert result.json == expected
    assert calls == []


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/health/", FILE_NOT_FOUND),
        ("GET", "/api/demo/items/a1/", FILE_NOT_FOUND),
        ("POST", "/api/demo/echo/", NOT_FOUND),
        ("DELETE", "/api/demo/items/a1/", NOT_FOUND),
    ],
)
async def test_a_trailing_slash_is_not_normalised(pbk_client, calls, method, path, expected):
    result = await pbk_client.simulate_request(method, path, json={"a": 1})

    assert result.status_code == 404
    assert result.json == expected
    assert calls == []


async def test_head_works_on_every_get_route_with_the_get_length(pbk_client, calls):
    get = await pbk_client.simulate_request("GET", "/api/demo/items/a1")
    head = await pbk_client.simulate_request("HEAD", "/api/demo/items/a1")

    assert (get.status_code, get.json) == (200, {"id": "a1"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == "11"
    assert calls == [("GET", "a1"), ("GET", "a1")]


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize("path", ["/api/health", "/nope", "/api/demo/echo", "/api/demo/items/a1"])
async def test_a_cors_preflight_is_answered_with_204_and_echoes_the_requested_headers(
    pbk_client, calls, path
):
    result = await pbk_client.simulate_request(
        "OPTIONS",
        path,
        headers={
            "Origin": "http://app.test",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type,authorization,x-custom",
        },
    )

    assert result.status_code == 204
    assert result.content == b""
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert result.headers["Access-Control-Allow-Methods"] == CORS_METHODS
    assert result.headers["Access-Control-Allow-Headers"] == "content-type,authorization,x-custom"
    assert vary(result.headers) == [
        "Origin",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
    ]
    assert "Content-Type" not in result.headers
    assert "X-Frame-Options" not in result.headers  # PocketBase answers preflights before them
    assert calls == []


async def test_an_options_request_with_origin_alone_is_answered_as_a_preflight(pbk_client):
    result = await pbk_client.simulate_request(
        "OPTIONS", "/api/health", headers={"Origin": "http://x.test"}
    )

    assert result.status_code == 204
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert result.headers["Access-Control-Allow-Methods"] == CORS_METHODS
    assert "Access-Control-Allow-Headers" not in result.headers


@pytest.mark.parametrize("headers", [{}, {"Access-Control-Request-Method": "POST"}])
async def test_an_options_request_without_origin_is_a_bare_204(pbk_client, headers):
    result = await pbk_client.simulate_request("OPTIONS", "/api/health", headers=headers)

    assert result.status_code == 204
    assert result.content == b""
    assert vary(result.headers) == ["Origin"]
    for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Content-Type"):
        assert name not in result.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/nope", 404),
        ("POST", "/nope", 404),
        ("GET", "/api/demo/boom", 500),
    ],
)
async def test_a_request_with_an_origin_gets_allow_origin_star_even_on_errors(
    pbk_client, method, path, status
):
    result = await pbk_client.simulate_request(method, path, headers={"Origin": "http://x.test"})

    assert result.status_code == status
    assert result.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Methods" not in result.headers
    assert_security_headers(result)


@pytest.mark.parametrize(
    ("method", "headers", "allow_origin", "vary_tokens"),
    [
        ("GET", {"Origin": "http://a.test"}, "http://a.test", ["Origin"]),
        ("GET", {"Origin": "http://b.test"}, None, ["Origin"]),
        ("GET", {"Origin": "http://a.test.evil"}, None, ["Origin"]),
        ("GET", {}, None, ["Origin"]),
        (
            "OPTIONS",
            {"Origin": "http://a.test", "Access-Control-Request-Method": "POST"},
            "http://a.test",
            ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"],
        ),
        (
            "OPTIONS",
            {"Origin": "http://b.test", "Access-Control-Request-Method": "POST"},
            None,
            ["Origin"],
        ),
    ],
)
async def test_with_configured_origins_only_an_allowed_origin_is_echoed(
    pbk_config, method, headers, allow_origin, vary_tokens
):
    async with client_for({**pbk_config, "origins": ("http://a.test",)}) as client:
        result = await client.simulate_request(method, "/api/health", headers=headers)

    assert result.status_code == (200 if method == "GET" else 204)
    assert result.headers.get("Access-Control-Allow-Origin") == allow_origin
    assert vary(result.headers) == vary_tokens
    if method == "OPTIONS":
        expected_methods = CORS_METHODS if allow_origin else None
        assert result.headers.get("Access-Control-Allow-Methods") == expected_methods


# --------------------------------------------------------------------------- error envelope


async def test_an_api_error_with_field_errors_is_sent_in_the_envelope(pbk_client):
    result = await pbk_client.simulate_post("/api/demo/invalid", json={})

    assert result.status_code == 400
    assert result.headers["Content-Type"] == "application/json"
    assert result.json == {
        "data": {
            "title": {"code": "validation_required", "message": "Cannot be blank."},
            "fields": {
                "1": {
                    "name": {
                        "code": "validation_max_text_constraint",
                        "message": "Must be no more than 3 character(s).",
                        "params": {"max": 3},
                    }
                }
            },
            "mfaId": "abc",
        },
        "message": "Failed to create record.",
        "status": 400,
    }


@pytest.mark.parametrize(
    ("status", "query", "message"),
    [
        (400, "", "Something went wrong while processing your request."),
        (401, "", "Missing or invalid authentication."),
        (403, "", "You are not allowed to perform this request."),
        (404, "", "The requested resource wasn't found."),
        (413, "", "Request entity too large."),
        (429, "", "Too Many Requests."),
        (500, "", "Something went wrong while processing your request."),
        (418, "", "HTTP error 418."),
        (403, "message=only+superusers+can+do+this", "Only superusers can do this."),
        (400, "message=Already+a+sentence!", "Already a sentence!"),
        (400, "message=++padded+", "Padded."),
    ],
)
async def test_an_api_error_message_defaults_by_status_and_is_sentenised(
    pbk_client, status, query, message
):
    result = await pbk_client.simulate_get(f"/api/demo/raise/{status}", query_string=query)

    assert result.status_code == status
    assert result.json == {"data": {}, "message": message, "status": status}
    assert result.headers["X-Why"] == "because"
    assert_security_headers(result)


async def test_an_unexpected_exception_is_a_500_envelope_with_the_traceback_only_in_the_log(
    pbk_client, caplog
):
    caplog.set_level(logging.ERROR, logger="pbk")

    result = await pbk_client.simulate_get("/api/demo/boom")

    assert result.status_code == 500
    assert result.json == SERVER_ERROR
    assert "secret" not in result.text
    assert "Traceback" not in result.text
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "pbk.http"
    assert "GET /api/demo/boom" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "the secret detail" in caplog.text
    assert "Traceback" in caplog.text


# --------------------------------------------------------------------------- request bodies


@pytest.mark.parametrize(
    ("content_type", "body", "status", "expected"),
    [
        (
            "application/json",
            b'{"a": 1, "b": [true, null]}',
            200,
            {"body": {"a": 1, "b": [True, None]}},
        ),
        ("application/json; charset=utf-8", b'{"x": "\xc3\xa9"}', 200, {"body": {"x": "\u00e9"}}),
        ("application/json", b'{"a": 1', 400, BAD_REQUEST),
        ("application/json", b"\xff\xfe", 400, BAD_REQUEST),
        ("application/x-www-form-urlencoded", b"a=1&b=two", 200, {"body": {"a": "1", "b": "two"}}),
        (
            "text/plain",
            b"hello",
            400,
            {"data": {}, "message": "Unsupported Content-Type.", "status": 400},
        ),
        (
            "application/xml",
            b"<a/>",
            400,
            {"data": {}, "message": "Unsupported Content-Type.", "status": 400},
        ),
    ],
)
async def test_a_responder_reading_the_body_gets_it_parsed_or_a_400_envelope(
    pbk_client, content_type, body, status, expected
):
    result = await pbk_client.simulate_post(
        "/api/demo/echo", body=body, headers={"Content-Type": content_type}
    )

    assert result.status_code == status
    assert result.json == expected


@pytest.mark.parametrize(
    ("path", "size", "status", "expected"),
    [
        ("/api/demo/size", MAX_BODY, 200, {"size": MAX_BODY}),
        ("/api/demo/size", MAX_BODY + 1, 413, TOO_LARGE),
        ("/api/demo/size", 50_000, 413, TOO_LARGE),
        ("/api/demo/echo", 2000, 413, TOO_LARGE),
        # set_body_limit() in the responder raises (or lowers) the limit for that request.
        ("/api/demo/bigger", 4096, 200, {"size": 4096}),
        ("/api/demo/bigger", 4097, 413, TOO_LARGE),
        ("/api/demo/smaller", 100, 200, {"size": 100}),
        ("/api/demo/smaller", 101, 413, TOO_LARGE),
    ],
)
async def test_a_body_over_the_limit_with_content_length_is_a_413(
    pbk_client, path, size, status, expected
):
    body = b"[" + b" " * (size - 2) + b"]"
    result = await pbk_client.simulate_post(
        path, body=body, headers={"Content-Type": "application/json"}
    )

    assert result.status_code == status
    assert result.json == expected
    assert_security_headers(result)


async def asgi_request(
    app: Any, method: str, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, str], bytes]:
    """Drive the ASGI app as a server does for a chunked body: no Content-Length, the body in
    several ``http.request`` messages."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"transfer-encoding", b"chunked"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8090),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(30)  # the client is gone only after the response
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), 10)
    start = sent[0]
    headers_out = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], headers_out, b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize(
    ("path", "chunks", "status", "expected"),
    [
        ("/api/demo/size", [b"x" * 512, b"x" * 512], 200, {"size": 1024}),
        ("/api/demo/size", [b"x" * 512, b"x" * 512, b"x"], 413, TOO_LARGE),
        ("/api/demo/size", [b"x" * 100] * 30, 413, TOO_LARGE),
        ("/api/demo/size", [b"x" * 2000], 413, TOO_LARGE),
        ("/api/demo/size", [b""], 200, {"size": 0}),
        ("/api/demo/echo", [b'{"a": "', b"x" * 2000, b'"}'], 413, TOO_LARGE),
        ("/api/demo/bigger", [b"x" * 1000] * 4, 200, {"size": 4000}),
        ("/api/demo/bigger", [b"x" * 1000] * 5, 413, TOO_LARGE),
    ],
)
async def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(
    pbk_app, path, chunks, status, expected
):
    code, headers, body = await asgi_request(
        pbk_app.asgi, "POST", path, chunks, [(b"content-type", b"application/json")]
    )

    assert code == status
    assert json.loads(body) == expected
    assert headers["x-frame-options"] == "SAMEORIGIN"


async def chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * size
        await asyncio.sleep(0)


async def test_a_streamed_chunked_body_over_the_limit_is_a_413_under_uvicorn(
    plugins_dir, write_plugin, live_server_factory
):
    write_plugin("demo", DEMO)
    server = live_server_factory(["--pluginsDir", str(plugins_dir), "--plugins", "demo"])
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        answers = []
        # /api/demo/smaller lowers its limit to 100 bytes with set_body_limit().
        for count, size in [(1, 100), (4, 25), (3, 40), (1, 500), (50, 64)]:
            response = await client.post("/api/demo/smaller", content=chunks(count, size))
            assert response.request.headers["Transfer-Encoding"] == "chunked"
            answers.append((response.status_code, response.json()))
        sized = await client.post("/api/demo/smaller", content=b"x" * 101)

    assert answers == [
        (200, {"size": 100}),
        (200, {"size": 100}),
        (413, TOO_LARGE),
        (413, TOO_LARGE),
        (413, TOO_LARGE),
    ]
    assert (sized.status_code, sized.json()) == (413, TOO_LARGE)
    assert "Traceback" not in server.output()


# --------------------------------------------------------------------------- request events


AROUND = '''
from pbk_sdk import PluginInfo, hookimpl

PLUGIN = PluginInfo(name="around")
SEEN = []


async def stamp(e):
    SEEN.append((e.request.method, e.request.path, dict(e.params)))
    await e.next()
    e.response.set_header("X-Around", "yes")


@hookimpl
async def pbk_startup(app):
    app.events.on("request", stamp)
'''


@pytest.mark.parametrize(
    ("method", "path", "status", "params"),
    [
        ("GET", "/api/health", 200, {}),
        ("HEAD", "/api/health", 200, {}),
        ("GET", "/api/demo/items/a1", 200, {"item_id": "a1"}),
        ("HEAD", "/api/demo/items/a1", 200, {"item_id": "a1"}),
        ("DELETE", "/api/demo/items/a1", 204, {"item_id": "a1"}),
        ("POST", "/api/demo/invalid", 400, {}),
        ("GET", "/api/demo/boom", 500, {}),
    ],
)
async def test_a_request_handler_from_a_plugin_runs_around_every_routed_request(
    pbk_config, write_plugin, method, path, status, params
):
    write_plugin("around", AROUND)
    async with client_for(pbk_config) as client:
        result = await client.simulate_request(method, path)
        around = next(p for p in client.app.app.loaded if p.name == "around").module

    assert result.status_code == status
    assert around.SEEN == [(method, path, params)]
    if status < 400:
        assert result.headers["X-Around"] == "yes"
    assert_security_headers(result)


async def test_request_handlers_are_not_run_for_unrouted_requests(pbk_config, write_plugin):
    write_plugin("around", AROUND)
    async with client_for(pbk_config) as client:
        results = [
            await client.simulate_request(method, path)
            for method, path in [("GET", "/nope"), ("POST", "/nope"), ("POST", "/api/health")]
        ]
        preflight = {"Origin": "http://x.test"}
        results.append(await client.simulate_options("/api/health", headers=preflight))
        around = next(p for p in client.app.app.loaded if p.name == "around").module

    assert [r.status_code for r in results] == [404, 404, 404, 204]
    assert around.SEEN == []


async def test_a_request_handler_raising_an_api_error_aborts_before_the_responder(
    pbk_app, pbk_client, calls
):
    async def deny(e):
        raise ApiError(403)

    pbk_app.events.on("request", deny)

    result = await pbk_client.simulate_get("/api/demo/items/a1")

    assert result.status_code == 403
    assert result.json == {
        "data": {},
        "message": "You are not allowed to perform this request.",
        "status": 403,
    }
    assert_security_headers(result)
    assert calls == []


async def test_a_request_handler_after_next_sees_the_response_and_may_replace_it(
    pbk_app, pbk_client, calls
):
    async def wrap(e):
        await e.next()
        e.response.media = {"wrapped": e.response.media}

    pbk_app.events.on("request", wrap)

    result = await pbk_client.simulate_get("/api/demo/items/a1")

    assert (result.status_code, result.json) == (200, {"wrapped": {"id": "a1"}})
    assert calls == [("GET", "a1")]


async def test_a_request_handler_that_answers_itself_is_not_warned_about(
    pbk_app, pbk_client, calls, caplog
):
    caplog.set_level(logging.WARNING)

    async def cached(e):
        e.response.media = {"cached": True}

    pbk_app.events.on("request", cached)

    result = await pbk_client.simulate_get("/api/demo/items/a1")

    assert (result.status_code, result.json) == (200, {"cached": True})
    assert_security_headers(result)
    assert calls == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_request_handler_that_neither_calls_next_nor_answers_is_logged_by_name(
    pbk_app, pbk_client, calls, caplog
):
    caplog.set_level(logging.WARNING)

    async def forgetful_handler(e):
        pass

    pbk_app.events.on("request", forgetful_handler)

    result = await pbk_client.simulate_get("/api/demo/items/a1")

    assert result.status_code == 200
    assert result.content == b""
    assert calls == []
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING
    assert "forgetful_handler" in record.getMessage()
    assert "'request'" in record.getMessage()


async def test_request_handlers_run_in_priority_order_around_the_responder(
    pbk_app, pbk_client, calls
):
    order: list[str] = []

    def handler(name: str) -> Any:
        async def run(e):
            order.append(f"{name} before")
            await e.next()
            order.append(f"{name} after")

        return run

    pbk_app.events.on("request", handler("late"), priority=10)
    pbk_app.events.on("request", handler("early"), priority=-10)

    result = await pbk_client.simulate_delete("/api/demo/items/a1")

    assert result.status_code == 204
    assert order == ["early before", "late before", "late after", "early after"]
    assert calls == [("DELETE", "a1")]


# --------------------------------------------------------------------------- route conflicts


def routes_plugin(name: str, *templates: str, responder: str = "async def on_get") -> str:
    return f'''
from pbk_sdk import PluginInfo, Route, hookimpl

PLUGIN = PluginInfo(name={name!r})


class Thing:
    {responder}(self, req, resp, **params):
        resp.media = params


@hookimpl
def pbk_register_routes(app):
    return [Route(t, Thing()) for t in {list(templates)!r}]
'''


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        (
            {"alpha": ["/api/things/{thing_id}"], "beta": ["/api/things/{id}/parts"]},
            ("plugin 'beta' cannot serve '/api/things/{id}/parts': The URI template for this route "
            "is inconsistent or conflicts with another route's template."),
        ),
        (
            {"alpha": ["/api/things/{a}", "/api/things/{b}"]},
            "plugin 'alpha' cannot serve '/api/things/{b}': The URI template",
        ),
        (
            {"alpha": ["/api/things"], "beta": ["/api/things"]},
            "plugin 'beta' cannot serve '/api/things': already served by plugin 'alpha'",
        ),
        (
            {"alpha": ["/api/health"]},
            "plugin 'alpha' cannot serve '/api/health': already served by the kernel",
        ),
        ({"alpha": ["no-slash"]}, "plugin 'alpha' cannot serve 'no-slash': "),
    ],
)
def test_a_plugin_route_that_conflicts_fails_the_build_naming_the_plugin(
    tmp_path, pbk_plugins, plugins, message
):
    directory = tmp_path / "conflicting"
    directory.mkdir()
    for name, templates in plugins.items():
        (directory / f"{name}.py").write_text(routes_plugin(name, *templates))

    with pytest.raises(PluginError) as caught:
        pbk.build_app(
            data_dir=tmp_path / "pb_data", plugins=tuple(pbk_plugins), plugins_dir=directory
        )

    assert str(caught.value).startswith(message)


def test_a_plugin_responder_that_is_not_async_fails_the_build_naming_the_plugin(tmp_path):
    directory = tmp_path / "sync"
    directory.mkdir()
    (directory / "alpha.py").write_text(routes_plugin("alpha", "/api/sync", responder="def on_get"))

    with pytest.raises(PluginError) as caught:
        pbk.build_app(data_dir=tmp_path / "pb_data", plugins=(), plugins_dir=directory)

    assert str(caught.value) == (
        "plugin 'alpha' cannot serve '/api/sync': Thing.on_get must be async def"
    )


# --------------------------------------------------------------------------- the real PocketBase


@pytest.fixture
def pocketbase_url(pocketbase_factory: Any) -> str:
    """The real PocketBase 0.40 binary on a free port (the differential test needs it)."""
    return pocketbase_factory().url


PREFLIGHT = {
    "Origin": "http://app.test",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,authorization",
}
DIFFERENTIAL_REQUESTS = [
    ("GET", "/api/health", {}),
    ("HEAD", "/api/health", {}),
    ("GET", "/api/health", {"Origin": "http://app.test"}),
    ("GET", "/api/health/", {}),
    ("POST", "/api/health", {}),
    ("DELETE", "/api/health", {}),
    ("GET", "/nope", {}),
    ("POST", "/nope", {}),
    ("PATCH", "/nope", {}),
    ("DELETE", "/api/nope", {}),
    ("GET", "/api/nope", {"Origin": "http://app.test"}),
    ("OPTIONS", "/api/health", PREFLIGHT),
    ("OPTIONS", "/nope", PREFLIGHT),
    ("OPTIONS", "/api/health", {"Origin": "http://app.test"}),
    ("OPTIONS", "/api/health", {}),
    ("OPTIONS", "/api/health", {"Access-Control-Request-Method": "POST"}),
]
COMPARED_HEADERS = [
    *SECURITY_HEADERS,
    "Content-Type",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
]


def wire_answer(
    client: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = client.request(method, path, headers=headers)
    return {
        "status": response.status_code,
        "body": response.json() if response.content else None,
        "headers": {name: response.headers.get(name) for name in COMPARED_HEADERS},
        # Go sends one Vary line per value, falcon one comma-joined line: same meaning.
        "vary": [v.strip() for v in response.headers.get_list("Vary", split_commas=True)],
        # Go omits Content-Length on bodiless HEAD errors; compared only where it has one.
        "length": response.headers.get("Content-Length") if method != "OPTIONS" else None,
    }


@pytest.mark.slow
def test_pbk_answers_these_requests_as_the_real_pocketbase_binary(pocketbase_url, live_server_factory):
    # The kernel alone, as served (this module's pbk_config adds a body limit no flag sets).
    live_server = live_server_factory(["--plugins", ""])
    with (
        httpx.Client(base_url=pocketbase_url) as real,
        httpx.Client(base_url=live_server.url) as ours,
    ):
        for method, path, headers in DIFFERENTIAL_REQUESTS:
            expected = wire_answer(real, method, path, headers)
            actual = wire_answer(ours, method, path, headers)
            assert actual == expected, f"{method} {path} {headers}"
