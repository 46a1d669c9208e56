"""Linear's and monday.com's mappings: a GraphQL query POSTed as JSON, its recorded answer."""

import json

import pytest
from pbk_oauth2.providers.linear import Linear
from pbk_oauth2.providers.monday import Monday
from pbk_sdk.oauth2 import ProviderError
from providers_testing import fetch_recorded, mapped

#: Linear's answer to the viewer query (values made up, shape recorded).
VIEWER = {"data": {"viewer": {"id": "2d9f7c2a-5d9e-4b6e-9a8e-0c4d3b1f6a71",
                              "displayName": "ann", "name": "Ann Lee",
                              "email": "ann@example.com", "active": True,
                              "avatarUrl": "https://public.linear.app/avatars/ann.png"}}}
#: monday.com's answer to the me query.
ME = {"data": {"me": {"id": "4012345", "enabled": True, "name": "Ann Lee",
                      "email": "ann@example.com", "is_verified": True,
                      "photo_small": "https://files.monday.com/photos/4012345/small.png"}},
      "account_id": 9876543}


async def graphql_user(provider_class, answer):
    user, (request,) = await fetch_recorded(provider_class, {"POST /graphql": answer}, "/graphql")
    assert request.headers["authorization"] == "Bearer test-access-token"
    assert request.headers["content-type"] == "application/json"
    return user, json.loads(request.body)["query"]


async def test_linear_maps_the_viewer():
    user, query = await graphql_user(Linear, VIEWER)
    assert (user.id, user.name, user.username, user.email) == (
        "2d9f7c2a-5d9e-4b6e-9a8e-0c4d3b1f6a71", "Ann Lee", "ann", "ann@example.com")
    assert user.avatar_url == VIEWER["data"]["viewer"]["avatarUrl"] and user.raw_user == VIEWER
    assert query.startswith("query Me { viewer {") and "active" in query


async def test_monday_maps_me():
    user, query = await graphql_user(Monday, ME)
    assert (user.id, user.name, user.username, user.email) == ("4012345", "Ann Lee", "",
                                                               "ann@example.com")
    assert user.avatar_url == ME["data"]["me"]["photo_small"] and user.raw_user == ME
    assert "me {" in query and "is_verified" in query


def test_monday_unverified_email():
    payload = {"data": {"me": {**ME["data"]["me"], "is_verified": False}}}
    assert mapped(Monday, payload).email == ""


@pytest.mark.parametrize(("provider_class", "answer"), [
    (Linear, {"data": {"viewer": {**VIEWER["data"]["viewer"], "active": False}}}),
    (Linear, {"errors": [{"message": "Authentication required, not authenticated"}]}),
    (Monday, {"data": {"me": {**ME["data"]["me"], "enabled": False}}}),
], ids=["linear-inactive", "linear-errors", "monday-disabled"])
def test_graphql_providers_refuse_inactive_accounts(provider_class, answer):
    with pytest.raises(ProviderError):
        mapped(provider_class, answer)


@pytest.mark.parametrize("provider_class", [Linear, Monday], ids=["linear", "monday"])
async def test_graphql_error_status_fails(provider_class):
    with pytest.raises(ProviderError, match="400"):
        await graphql_user(provider_class, (400, {"errors": [{"message": "bad query"}]}))
