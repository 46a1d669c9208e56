"""Yandex's mapping, against a recorded answer of login.yandex.ru/info."""

from pbk_oauth2.providers.yandex import Yandex
from providers_testing import fetch_recorded, mapped

#: GET /info (format=json), as Yandex ID answers it (values made up, shape recorded).
INFO = {"id": "1000034426", "login": "ivan", "client_id": "4760187d81bc4b7799476b42b5103713",
        "display_name": "Ivan", "real_name": "Ivan Ivanov", "first_name": "Ivan",
        "last_name": "Ivanov", "sex": "male", "default_email": "test@yandex.ru",
        "emails": ["test@yandex.ru", "other-test@yandex.ru"], "default_avatar_id": "131652443",
        "is_avatar_empty": False, "psuid": "1.AAceCw.tbHgw5DtJ9_zeqPrk-Ba2w.qPWSRC5v2t2IaksPJgnge"}


async def test_yandex_maps_info():
    user, requests = await fetch_recorded(Yandex, {"GET /info": INFO}, "/info")
    assert (user.id, user.name, user.username, user.email) == ("1000034426", "Ivan Ivanov",
                                                               "ivan", "test@yandex.ru")
    assert user.avatar_url == "https://avatars.yandex.net/get-yapic/131652443/islands-200"
    assert user.raw_user == INFO
    assert requests[0].headers["authorization"] == "Bearer test-access-token"


def test_yandex_without_avatar():
    assert mapped(Yandex, {**INFO, "is_avatar_empty": True}).avatar_url == ""
