"""Google's mapping, against a recorded userinfo answer."""

import pytest
from pbk_oauth2.providers.google import Google
from pbk_sdk.testing.oauth2 import RecordedApi, fetch_user

#: GET /oauth2/v3/userinfo, as Google answers it (values made up, shape recorded).
USERINFO = {"sub": "110169484474386276334", "name": "Ann Lee", "given_name": "Ann",
            "family_name": "Lee", "picture": "https://lh3.googleusercontent.com/a/ACg8oc",
            "email": "ann@example.com", "email_verified": True}


@pytest.mark.parametrize(("verified", "email"), [(True, "ann@example.com"), (False, ""),
                                                 ("true", "")], ids=["verified", "no", "text"])
async def test_google_maps_userinfo(verified, email):
    payload = {**USERINFO, "email_verified": verified}
    with RecordedApi({"GET /userinfo": payload}) as api:
        user = await fetch_user(Google, api, user_info_url=api.url("/userinfo"))
    assert (user.id, user.name, user.username, user.email) == ("110169484474386276334",
                                                               "Ann Lee", "", email)
    assert user.avatar_url == USERINFO["picture"] and user.raw_user == payload
