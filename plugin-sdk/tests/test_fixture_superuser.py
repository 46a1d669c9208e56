"""``pbk_superuser`` and ``create_collection``, used as a plugin's own tests would use them."""

from __future__ import annotations

import pytest
from pbk_sdk import ApiError

POSTS = {
    "name": "posts",
    "type": "base",
    "listRule": "",
    "createRule": "",
    "fields": [{"name": "title", "type": "text", "required": True}],
}


@pytest.fixture
def pbk_plugins() -> list[str]:
    return ["records", "auth"]


async def test_superuser_headers_open_superuser_only_endpoints(pbk_client, pbk_superuser):
    anonymous = await pbk_client.get("/api/collections")
    signed_in = await pbk_client.get("/api/collections", headers=pbk_superuser.headers)
    assert anonymous.status_code == 401
    assert signed_in.status_code == 200
    assert "_superusers" in [collection["name"] for collection in signed_in.json["items"]]


async def test_superuser_signs_in_with_its_email_and_password(pbk_client, pbk_superuser):
    result = await pbk_client.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": pbk_superuser.email, "password": pbk_superuser.password},
    )
    assert result.status_code == 200, result.text
    assert result.json["record"]["id"] == pbk_superuser.id
    assert result.json["record"]["email"] == pbk_superuser.email


async def test_created_collection_is_served_by_the_api(
    pbk_client, pbk_superuser, create_collection
):
    posts = await create_collection(POSTS)
    fetched = await pbk_client.get("/api/collections/posts", headers=pbk_superuser.headers)
    created = await pbk_client.post("/api/collections/posts/records", json={"title": "hello"})
    assert posts["name"] == "posts"
    assert [field["name"] for field in posts["fields"]] == ["id", "title"]
    assert fetched.json == posts
    assert created.status_code == 200, created.text
    assert created.json["title"] == "hello"


async def test_create_collection_validates_as_the_api_does(create_collection):
    await create_collection(POSTS)
    with pytest.raises(ApiError) as caught:
        await create_collection(POSTS)
    assert caught.value.status == 400
    assert caught.value.data["name"]["code"] == "validation_collection_name_exists"


@pytest.mark.parametrize("pbk_plugins", [["records"]])
def test_without_the_auth_plugin_the_fixture_says_what_to_load(pbk_plugins, request):
    with pytest.raises(pytest.fail.Exception, match="needs a token_service service .* auth"):
        request.getfixturevalue("pbk_superuser")
