"""A field type from another plugin works end to end: schema, storage, validation, output."""

from __future__ import annotations

import textwrap

import falcon.testing
import pytest
from pbk import build_app

SLUG_PLUGIN = '''
import re
from pbk_sdk import hookimpl
from pbk_sdk.errors import FieldError
from pbk_sdk.fields import BaseFieldType


class Slug(BaseFieldType):
    """Lower-case words joined by hyphens."""

    name = "slug"
    options = {"maxLength": 20}

    def normalize(self, field, value):
        text = "" if value is None else str(value)
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    def validate(self, field, value):
        if field.get("required") and not value:
            return FieldError("validation_required", "Cannot be blank.")
        if len(value) > field.get("maxLength", 20):
            return FieldError("validation_slug_too_long", "Slugs are short.", {"max": field["maxLength"]})
        return None


@hookimpl
def pbk_register_field_types(app):
    return {"slug": Slug()}
'''


@pytest.fixture
async def client(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "slugs.py").write_text(textwrap.dedent(SLUG_PLUGIN))
    app = build_app(data_dir=tmp_path / "pb_data", plugins=["records", "auth"], plugins_dir=plugins)
    async with falcon.testing.ASGIConductor(app.asgi) as conductor:
        store = app.services.get("record_store", "sqlite")
        await store.create(store.collection("_superusers"), {"email": "root@example.com", "password": "1234567890"})
        login = await conductor.post("/api/collections/_superusers/auth-with-password",
                                     json={"identity": "root@example.com", "password": "1234567890"})
        conductor.su = {"Authorization": login.json["token"]}
        yield conductor


async def test_a_plugin_field_type_is_stored_validated_and_served(client):
    created = await client.post("/api/collections", headers=client.su, json={
        "name": "pages", "type": "base", "listRule": "", "createRule": "",
        "fields": [{"name": "slug", "type": "slug", "required": True}]})
    assert created.status_code == 200, created.text
    field = created.json["fields"][1]
    assert field["type"] == "slug" and field["maxLength"] == 20 and field["id"].startswith("slug")
    page = await client.post("/api/collections/pages/records", json={"slug": "Hello, World!"})
    assert page.status_code == 200, page.text
    assert page.json["slug"] == "hello-world"
    too_long = await client.post("/api/collections/pages/records", json={"slug": "x" * 30})
    assert too_long.status_code == 400
    assert too_long.json["data"]["slug"] == {"code": "validation_slug_too_long", "message": "Slugs are short.", "params": {"max": 20}}
    listed = await client.get("/api/collections/pages/records?filter=slug~'hello'")
    assert [item["slug"] for item in listed.json["items"]] == ["hello-world"]
