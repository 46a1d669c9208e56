"""The events each kind of request fires, in order, are the ones ``docs/hooks.md`` lists.

A real ``pbk serve`` (one worker, the default plugins) loads ``tests/event_recorder`` with
``--pluginsDir``; that plugin writes every event it sees to a file. Each request kind below
clears the file, makes its requests over HTTP and compares the lines with the doc's block
``<!-- event-order: KIND -->``, so the doc cannot drift from what pbk does.
"""

from __future__ import annotations

import asyncio
import email
import email.message
import email.policy
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pbk_sdk import events
from pbk_sdk.testing import LiveServer, free_port, start_live_server
from pbk_sdk.testing.oauth2 import RecordedApi

HOOKS_DOC = Path(__file__).parents[1] / "docs" / "hooks.md"
RECORDER_DIR = Path(__file__).parent / "event_recorder"
PLUGINS = "records,auth,files,realtime,mailer,settings,crons,backups,oauth2"
ORDER_BLOCK = re.compile(r"<!-- event-order: ([a-z0-9-]+) -->\n```text\n(.*?)```", re.DOTALL)
SUPERUSER = ("root@example.com", "1234567890")
USER = ("ada@example.com", "ada-password")
#: Signs in with OTP while not verified yet (ada is verified by then).
UNVERIFIED_USER = ("bob@example.com", "bob-password")
#: A token in a mail's link, ``.../auth/confirm-verification/<JWT>``.
TOKEN_IN_LINK = r"/auth/{kind}/([\w-]+\.[\w-]+\.[\w-]+)"


def documented_orders() -> dict[str, list[str]]:
    """Each ``event-order`` block of docs/hooks.md by kind, lines with spaces collapsed."""
    return {
        kind: [" ".join(line.split()) for line in block.splitlines() if line.strip()]
        for kind, block in ORDER_BLOCK.findall(HOOKS_DOC.read_text())
    }


class EventLog:
    """The lines the recorder plugin wrote."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def clear(self) -> None:
        self.path.write_text("")

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines()

    async def quiet(self, period: float = 0.3, timeout: float = 5.0) -> None:
        """Once no line was added for ``period``: what a preparation set off after its answer
        (a mail's ``mail_after_send``) is written before the log is cleared."""
        deadline = time.monotonic() + timeout
        count = len(self.lines())
        while time.monotonic() < deadline:
            await asyncio.sleep(period)
            if (now := len(self.lines())) == count:
                return
            count = now

    async def settled(self, expected: list[str], timeout: float = 30.0) -> list[str]:
        """The lines once they equal ``expected`` (events after the answer, such as
        ``mail_after_send``, arrive a moment later), or whatever is there after ``timeout``
        (long: a restart that re-executes the process takes seconds on a busy machine)."""
        deadline = time.monotonic() + timeout
        while (lines := self.lines()) != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return lines


class Inbox:
    """An aiosmtpd handler keeping the mails it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.read = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    async def find(self, pattern: str) -> str:
        """The first group of ``pattern`` in the text of mail number ``len(read) + 1``, once it arrived."""
        for _ in range(200):
            if len(self.messages) > self.read:
                message = self.messages[self.read]
                self.read += 1
                body = message.get_body(("plain",))
                match = re.search(pattern, body.get_content() if body else "")
                assert match, message
                return match.group(1)
            await asyncio.sleep(0.05)
        raise AssertionError("the mail did not arrive")


class RealtimeStream:
    """One SSE connection to ``/api/realtime``; messages land in a queue as (event, data)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._read(client))

    async def _read(self, client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/api/realtime", timeout=None) as response:
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line:
                    key, _, value = line.partition(":")
                    fields[key] = value
                elif "event" in fields:
                    await self.messages.put((fields["event"], json.loads(fields["data"])))
                    fields = {}

    async def next(self) -> tuple[str, Any]:
        return await asyncio.wait_for(self.messages.get(), 5.0)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class Requests:
    """One method per request kind (``record-create`` is ``record_create``), with an optional
    ``prepare_<kind>`` run before the log is cleared. They run in ``KINDS`` order and share
    state: the record created is the one updated, the stream connected the one subscribed."""

    def __init__(self, client: httpx.AsyncClient, smtp_port: int, inbox: Inbox) -> None:
        self.client = client
        self.smtp_port = smtp_port
        self.inbox = inbox
        self.root: dict[str, str] = {}
        self.user: dict[str, str] = {}
        self.user_id = ""
        self.post_id = ""
        self.stream: RealtimeStream | None = None
        self.client_id = ""
        self.otp_id = ""
        self.filename = ""
        self.posts: dict[str, Any] = {}
        self.provider: RecordedApi | None = None

    async def ok(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, url, **kwargs)
        assert response.status_code in (200, 204), f"{method} {url}: {response.status_code} {response.text}"
        return response.json() if response.status_code == 200 else None

    async def setup(self) -> None:
        """Sign in as the superuser and create a user (not compared with the doc)."""
        identity, password = SUPERUSER
        signed_in = await self.ok("POST", "/api/collections/_superusers/auth-with-password",
                                  json={"identity": identity, "password": password})
        self.root = {"Authorization": signed_in["token"]}
        identity, password = USER
        created = await self.ok("POST", "/api/collections/users/records",
                                json={"email": identity, "password": password, "passwordConfirm": password})
        self.user_id = created["id"]

    async def settings_list(self) -> None:
        await self.ok("GET", "/api/settings", headers=self.root)

    async def settings_update(self) -> None:
        await self.ok("PATCH", "/api/settings", headers=self.root, json={
            "smtp": {"enabled": True, "host": "127.0.0.1", "port": self.smtp_port},
            "batch": {"enabled": True, "maxRequests": 50},
        })

    async def collection_create(self) -> None:
        self.posts = await self.ok("POST", "/api/collections", headers=self.root, json={
            "name": "posts", "type": "base",
            "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
            "fields": [{"name": "title", "type": "text"},
                       {"name": "attachment", "type": "file", "maxSelect": 1, "maxSize": 1000}],
        })

    async def collection_update(self) -> None:
        await self.ok("PATCH", "/api/collections/users", headers=self.root, json={"otp": {"enabled": True}})

    async def record_create(self) -> None:
        created = await self.ok("POST", "/api/collections/posts/records", json={"title": "hello"})
        self.post_id = created["id"]

    async def record_list(self) -> None:
        await self.ok("GET", "/api/collections/posts/records")

    async def record_view(self) -> None:
        await self.ok("GET", f"/api/collections/posts/records/{self.post_id}")

    async def record_update(self) -> None:
        await self.ok("PATCH", f"/api/collections/posts/records/{self.post_id}", json={"title": "hi"})

    async def record_delete(self) -> None:
        await self.ok("DELETE", f"/api/collections/posts/records/{self.post_id}")

    async def prepare_record_delete_referenced(self) -> None:
        await self.ok("POST", "/api/collections", headers=self.root, json={
            "name": "comments", "type": "base", "fields": [
                {"name": "post", "type": "relation", "collectionId": self.posts["id"], "maxSelect": 1}]})
        await self.record_create()
        await self.ok("POST", "/api/collections/comments/records", headers=self.root, json={"post": self.post_id})

    async def record_delete_referenced(self) -> None:
        """Deleting a post that a comment refers to also updates the comment."""
        await self.record_delete()

    async def failed(self, method: str, url: str, json: Any = None) -> None:
        response = await self.client.request(method, url, headers=self.root, json=json)
        assert response.status_code == 400, response.text

    async def record_create_error(self) -> None:
        """An id PocketBase's pattern refuses: the validation fails in the transaction."""
        await self.failed("POST", "/api/collections/posts/records", {"id": "not an id!", "title": "x"})

    async def record_update_error(self) -> None:
        await self.failed("PATCH", f"/api/collections/users/records/{self.user_id}", {"email": "not-an-email"})

    async def prepare_record_delete_error(self) -> None:
        await self.ok("POST", "/api/collections", headers=self.root, json={
            "name": "pins", "type": "base", "fields": [
                {"name": "post", "type": "relation", "collectionId": self.posts["id"], "maxSelect": 1,
                 "required": True}]})
        await self.record_create()
        await self.ok("POST", "/api/collections/pins/records", headers=self.root, json={"post": self.post_id})

    async def record_delete_error(self) -> None:
        """A post a required relation still points at cannot go."""
        await self.failed("DELETE", f"/api/collections/posts/records/{self.post_id}")

    async def prepare_batch(self) -> None:
        await self.record_create()

    async def batch(self) -> None:
        await self.ok("POST", "/api/batch", json={"requests": [
            {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "new"}},
            {"method": "PATCH", "url": f"/api/collections/posts/records/{self.post_id}", "body": {"title": "newer"}},
            {"method": "DELETE", "url": f"/api/collections/posts/records/{self.post_id}"},
        ]})

    async def auth_with_password(self) -> None:
        identity, password = USER
        signed_in = await self.ok("POST", "/api/collections/users/auth-with-password",
                                  json={"identity": identity, "password": password})
        self.user = {"Authorization": signed_in["token"]}

    async def auth_refresh(self) -> None:
        await self.ok("POST", "/api/collections/users/auth-refresh", headers=self.user)

    async def request_verification(self) -> None:
        await self.ok("POST", "/api/collections/users/request-verification", json={"email": USER[0]})

    async def confirm_verification(self) -> None:
        token = await self.inbox.find(TOKEN_IN_LINK.format(kind="confirm-verification"))
        await self.ok("POST", "/api/collections/users/confirm-verification", json={"token": token})

    async def request_password_reset(self) -> None:
        await self.ok("POST", "/api/collections/users/request-password-reset", json={"email": USER[0]})

    async def confirm_password_reset(self) -> None:
        token = await self.inbox.find(TOKEN_IN_LINK.format(kind="confirm-password-reset"))
        await self.ok("POST", "/api/collections/users/confirm-password-reset",
                      json={"token": token, "password": "new-password", "passwordConfirm": "new-password"})

    async def request_otp(self) -> None:
        requested = await self.ok("POST", "/api/collections/users/request-otp", json={"email": USER[0]})
        self.otp_id = requested["otpId"]

    async def auth_with_otp(self) -> None:
        await self.ok("POST", "/api/collections/users/auth-with-otp",
                      json={"otpId": self.otp_id, "password": await self.inbox.find(r"one-time password is: (\d+)")})

    async def prepare_auth_with_otp_unverified(self) -> None:
        """A second user, never verified, signed in once from this device, asks for a code."""
        identity, password = UNVERIFIED_USER
        await self.ok("POST", "/api/collections/users/records",
                      json={"email": identity, "password": password, "passwordConfirm": password})
        await self.ok("POST", "/api/collections/users/auth-with-password", json={"identity": identity, "password": password})
        requested = await self.ok("POST", "/api/collections/users/request-otp", json={"email": identity})
        self.otp_id = requested["otpId"]

    async def auth_with_otp_unverified(self) -> None:
        """The code reached the inbox, so signing in with it also marks the user verified."""
        await self.auth_with_otp()

    async def prepare_auth_with_oauth2(self) -> None:
        """OAuth2 with ``oidc3`` (no PKCE) against a loopback server answering as a provider."""
        self.provider = RecordedApi({"POST /token": {"access_token": "at", "token_type": "Bearer"},
                                     "GET /me": {"sub": "oauth2-user", "email": "carol@example.com",
                                                 "email_verified": True}}).start()
        await self.ok("PATCH", "/api/collections/users", headers=self.root, json={"oauth2": {
            "enabled": True, "providers": [{
                "name": "oidc3", "clientId": "id", "clientSecret": "secret", "pkce": False,
                "authURL": self.provider.url("/auth"), "tokenURL": self.provider.url("/token"),
                "userInfoURL": self.provider.url("/me")}]}})

    async def auth_with_oauth2(self) -> None:
        """A sign-up: the new user, its link in ``_externalAuths``, then its first login."""
        assert self.provider is not None
        try:
            await self.ok("POST", "/api/collections/users/auth-with-oauth2",
                          json={"provider": "oidc3", "code": "the-code"})
        finally:
            self.provider.close()

    async def file_upload(self) -> None:
        created = await self.ok("POST", "/api/collections/posts/records", data={"title": "with a file"},
                                files={"attachment": ("notes.txt", b"some notes", "text/plain")})
        self.post_id, self.filename = created["id"], created["attachment"]

    async def file_token(self) -> None:
        await self.ok("POST", "/api/files/token", headers=self.root)

    async def health(self) -> None:
        await self.ok("GET", "/api/health", headers=self.root)

    async def file_download(self) -> None:
        response = await self.client.get(f"/api/files/posts/{self.post_id}/{self.filename}")
        assert response.content == b"some notes", response.text

    async def realtime_connect(self) -> None:
        self.stream = RealtimeStream(self.client)
        event, data = await self.stream.next()
        assert event == "PB_CONNECT", (event, data)
        self.client_id = data["clientId"]

    async def realtime_subscribe(self) -> None:
        await self.ok("POST", "/api/realtime", json={"clientId": self.client_id, "subscriptions": ["posts"]})

    async def realtime_message(self) -> None:
        """A record created while a stream is subscribed: the message fires its event."""
        await self.ok("POST", "/api/collections/posts/records", json={"title": "live"})
        assert self.stream is not None
        event, data = await self.stream.next()
        assert (event, data["action"], data["record"]["title"]) == ("posts", "create", "live")
        await self.stream.close()

    async def collections_list(self) -> None:
        await self.ok("GET", "/api/collections", headers=self.root)

    async def collection_view(self) -> None:
        await self.ok("GET", "/api/collections/users", headers=self.root)

    async def collections_import(self) -> None:
        await self.ok("PUT", "/api/collections/import", headers=self.root, json={
            "collections": [{"name": "imported", "type": "base", "fields": []}]})

    async def auth_alert(self) -> None:
        """Ada signs in from a device she never used: her login alert is mailed."""
        await self.ok("POST", "/api/collections/users/auth-with-password", headers={"User-Agent": "new-device"},
                      json={"identity": USER[0], "password": "new-password"})
        await self.inbox.find(r"(login)")

    async def prepare_request_email_change(self) -> None:
        signed_in = await self.ok("POST", "/api/collections/users/auth-with-password",
                                  json={"identity": USER[0], "password": "new-password"})
        self.user = {"Authorization": signed_in["token"]}

    async def request_email_change(self) -> None:
        await self.ok("POST", "/api/collections/users/request-email-change", headers=self.user,
                      json={"newEmail": "ada.new@example.com"})

    async def confirm_email_change(self) -> None:
        token = await self.inbox.find(TOKEN_IN_LINK.format(kind="confirm-email-change"))
        await self.ok("POST", "/api/collections/users/confirm-email-change",
                      json={"token": token, "password": "new-password"})

    async def refused(self, method: str, url: str, json: Any) -> None:
        response = await self.client.request(method, url, headers=self.root, json=json)
        assert response.status_code == 400 and "Refused" in response.text, response.text

    async def collection_create_error(self) -> None:
        await self.refused("POST", "/api/collections", {
            "name": "never", "type": "base", "fields": [{"name": "refuse_create", "type": "text"}]})

    async def collection_update_error(self) -> None:
        await self.refused("PATCH", "/api/collections/imported", {
            "fields": [{"name": "refuse_update", "type": "text"}]})

    async def prepare_collection_delete_error(self) -> None:
        await self.ok("POST", "/api/collections", headers=self.root, json={
            "name": "kept", "type": "base", "fields": [{"name": "refuse_delete", "type": "text"}]})

    async def collection_delete_error(self) -> None:
        await self.refused("DELETE", "/api/collections/kept", None)

    async def collection_delete(self) -> None:
        await self.ok("DELETE", "/api/collections/comments", headers=self.root)

    async def backup_create(self) -> None:
        await self.ok("POST", "/api/backups", headers=self.root, json={"name": "order.zip"})

    async def backup_restore(self) -> None:
        """Last: the restore restarts the server (one worker: the process re-executes itself),
        whose new start fires ``serve`` again."""
        await self.ok("POST", "/api/backups/order.zip/restore", headers=self.root)


#: The request kinds, as the doc names its blocks, in the order they run (state carries over).
KINDS = (
    "settings-list", "settings-update", "collection-create", "collection-update",
    "collections-list", "collection-view", "collections-import",
    "collection-create-error", "collection-update-error", "collection-delete-error",
    "record-create", "record-list", "record-view", "record-update", "record-delete",
    "record-delete-referenced", "record-create-error", "record-update-error", "record-delete-error", "batch",
    "auth-with-password", "auth-refresh", "request-verification", "confirm-verification",
    "request-password-reset", "confirm-password-reset", "request-otp", "auth-with-otp",
    "auth-with-otp-unverified", "auth-with-oauth2", "auth-alert", "request-email-change",
    "confirm-email-change",
    "file-upload", "file-token", "file-download",
    "realtime-connect", "realtime-subscribe", "realtime-message",
    "collection-delete", "health", "backup-create", "backup-restore",
)


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, EventLog]]:
    data_dir = tmp_path / "pb_data"
    subprocess.run([sys.executable, "-m", "pbk", "--plugins", PLUGINS, "--dir", str(data_dir),
                    "superuser", "upsert", *SUPERUSER], check=True, capture_output=True)
    log = EventLog(tmp_path / "events.log")
    live = start_live_server(data_dir, ["--plugins", PLUGINS, "--pluginsDir", str(RECORDER_DIR), "--workers", "1"],
                             env={"PBK_EVENT_LOG": str(log.path)})
    yield live, log
    live.stop()


async def healthy(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/api/health")).status_code == 200
    except httpx.TransportError:
        return False


async def test_events_fire_in_the_order_the_doc_lists(server: tuple[LiveServer, EventLog], smtp):
    live, log = server
    documented = documented_orders()
    # The start-up polls /api/health until it answers; those requests (request, health_request)
    # are the test's, not the start's.
    seen = {"serve": [line for line in log.lines() if not line.endswith(" GET /api/health")]}
    async with httpx.AsyncClient(base_url=live.url, timeout=10.0) as client:
        requests = Requests(client, *smtp)
        await requests.setup()
        for kind in KINDS:
            method = kind.replace("-", "_")
            prepare = getattr(requests, f"prepare_{method}", None)
            if prepare is not None:
                await prepare()
                await log.quiet()
            log.clear()
            await getattr(requests, method)()
            seen[kind] = await log.settled(documented.get(kind, []))
        # The restored server fires `serve` just before it handles SIGTERM: once it answers,
        # it does, so the stop below is a clean one.
        while not await healthy(client):
            await asyncio.sleep(0.05)
    log.clear()
    assert live.stop() == 0
    seen["terminate"] = log.lines()
    mismatches = {kind: lines for kind, lines in seen.items() if documented.get(kind) != lines}
    assert not mismatches, "docs/hooks.md differs from what pbk fired:\n" + "\n".join(
        f"<!-- event-order: {kind} -->\n```text\n" + "\n".join(lines) + "\n```" for kind, lines in mismatches.items()
    )
    assert set(documented) == set(seen), "docs/hooks.md has event-order blocks no request kind here makes"


def test_every_event_appears_in_some_documented_order():
    """The order test above proves the blocks true, so an event in a block is exercised."""
    fired = {line.split()[0] for lines in documented_orders().values() for line in lines}
    names = {value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)}
    assert not names - fired, f"events no request kind fires: {sorted(names - fired)}"
