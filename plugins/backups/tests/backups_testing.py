"""Helpers of the backups tests: a notes collection, waiting with a deadline, zips."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

#: The backups plugin with what it requires, the settings API and realtime.
PLUGINS = ["records", "auth", "files", "crons", "settings", "realtime", "backups"]
NOTES = {"name": "notes", "type": "base", "listRule": "", "viewRule": "",
         "fields": [{"name": "title", "type": "text"}]}


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except httpx.TransportError:
            value = None  # a server restarting
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def titles(url: str) -> list[str] | None:
    """The notes' titles, sorted, over a new connection; None until it answers."""
    answer = httpx.get(f"{url}/api/collections/notes/records", params={"perPage": 500, "sort": "title"},
                       timeout=10)
    if answer.status_code != 200:
        return None
    return [item["title"] for item in answer.json()["items"]]


def add_notes(client: httpx.Client, *names: str) -> None:
    for name in names:
        answer = client.post("/api/collections/notes/records", json={"title": name})
        assert answer.status_code == 200, answer.text


def sign_in(url: str, email: str, password: str) -> httpx.Client:
    """A client sending the superuser's token (sign in again after a restore: the restored
    data has its own superusers)."""
    token = wait_for(lambda: _token(url, email, password), 60, f"a superuser sign-in at {url}")
    return httpx.Client(base_url=url, timeout=30, headers={"Authorization": token})


def _token(url: str, email: str, password: str) -> str | None:
    answer = httpx.post(f"{url}/api/collections/_superusers/auth-with-password",
                        json={"identity": email, "password": password}, timeout=10)
    return answer.json()["token"] if answer.status_code == 200 else None
