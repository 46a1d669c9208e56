"""``app.routes``: routes added and removed while an app serves, beside the plugins' routes."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest
from pbk.app import build_app


def answer(text: str) -> Any:
    async def respond(req: Any, resp: Any, **params: Any) -> None:
        resp.media = {"by": text, "params": params}

    return respond


@pytest.fixture
async def app(tmp_path):
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[])
    await app.start()
    yield app
    await app.stop()


async def test_routes_match_by_specificity_and_go_away(app):
    rest = app.routes.add("GET", "/files/{path...}", answer("rest"))
    one = app.routes.add("GET", "/files/{name}", answer("one"))
    app.routes.add("GET", "/files/readme", answer("literal"))
    app.routes.add("*", "/any", answer("any"))
    async with falcon.testing.ASGIConductor(app.asgi) as client:
        assert (await client.get("/files/readme")).json["by"] == "literal"
        assert (await client.get("/files/a.txt")).json == {"by": "one", "params": {"name": "a.txt"}}
        assert (await client.get("/files/a/b")).json == {"by": "rest", "params": {"path": "a/b"}}
        assert (await client.head("/files/a.txt")).status_code == 200
        assert (await client.delete("/any")).json["by"] == "any"
        assert (await client.post("/files/a.txt")).status_code == 404
        one.remove()
        rest.remove()
        rest.remove()  # twice is harmless
        missing = await client.get("/files/a.txt")
        assert (missing.status_code, missing.json["message"]) == (404, "File not found.")
        assert (await client.get("/api/health")).status_code == 200  # the kernel's route is first


@pytest.mark.parametrize("template", ["no-slash", "/a/{b}c", "/{rest...}/tail"], ids=["slash", "part", "rest"])
def test_malformed_templates_are_refused(tmp_path, template):
    app = build_app(data_dir=tmp_path / "pb_data", plugins=[])
    with pytest.raises(ValueError, match="route template"):
        app.routes.add("GET", template, answer("x"))
