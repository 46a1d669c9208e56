"""Discord's mapping, against a recorded answer of /api/users/@me."""

import pytest
from pbk_oauth2.providers.discord import Discord
from providers_testing import fetch_recorded, mapped

#: GET /api/users/@me, as Discord answers it (values made up, shape recorded).
ME = {"id": "80351110224678912", "username": "nelly", "discriminator": "0",
      "global_name": "Nelly", "avatar": "8342729096ea3675442027381ff50dfe", "bot": False,
      "mfa_enabled": True, "banner": None, "accent_color": None, "locale": "en-US",
      "verified": True, "email": "nelly@example.com", "flags": 64, "premium_type": 1,
      "public_flags": 64}


async def test_discord_maps_me():
    user, requests = await fetch_recorded(Discord, {"GET /users/@me": ME}, "/users/@me")
    assert (user.id, user.name, user.username, user.email) == ("80351110224678912", "Nelly",
                                                               "nelly", "nelly@example.com")
    assert user.avatar_url == ("https://cdn.discordapp.com/avatars/80351110224678912/"
                               "8342729096ea3675442027381ff50dfe.png")
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


@pytest.mark.parametrize(("changes", "name"), [
    ({"global_name": None}, "nelly"),
    ({"global_name": None, "discriminator": "1337"}, "nelly#1337"),
    ({"global_name": ""}, "nelly"),
], ids=["no-global", "discriminator", "empty-global"])
def test_discord_name_falls_back_to_the_username(changes, name):
    assert mapped(Discord, {**ME, **changes}).name == name


def test_discord_unverified_email_and_no_avatar():
    user = mapped(Discord, {**ME, "verified": False, "avatar": None})
    assert (user.email, user.avatar_url) == ("", "")
