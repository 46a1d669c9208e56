"""The collection editor in a real browser: a field of every type with its options, read back
exactly through the API, and collections saved unchanged kept exactly; the API rules editor's
check while typing and its completions of relation paths by keyboard (which never change a
finished name); the "hide controls" setting honoured by the collections and settings pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from browser_support import screenshot
from dashboard_server import create_record, open_signed_in, serve_prepared
from pbk_sdk.testing import LiveServer
from playwright.sync_api import expect

ROOT = ("root@example.com", "root-password-1")
IMAGES = ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"]

#: What the editor is told for each field of "catalog" (by the helpers below) and what the
#: server must then hold, every key of each field but its generated id.
CATALOG: dict[str, dict[str, Any]] = {
    "code": {"type": "text", "min": 2, "max": 40, "pattern": "^[a-z0-9-]+$", "autogeneratePattern": "[a-z]{8}",
             "primaryKey": False, "required": True, "hidden": False, "presentable": True, "help": "A short code"},
    "body": {"type": "editor", "maxSize": 20000, "convertURLs": True,
             "required": False, "hidden": True, "presentable": False, "help": ""},
    "price": {"type": "number", "min": 1, "max": 1000, "onlyInt": True,
              "required": True, "hidden": False, "presentable": False, "help": ""},
    "active": {"type": "bool", "required": False, "hidden": False, "presentable": False, "help": "Shown in the shop"},
    "contact": {"type": "email", "exceptDomains": [], "onlyDomains": ["example.com", "example.org"],
                "required": False, "hidden": False, "presentable": False, "help": ""},
    "site": {"type": "url", "exceptDomains": ["evil.test"], "onlyDomains": [],
             "required": False, "hidden": False, "presentable": False, "help": ""},
    "launch": {"type": "date", "min": "2024-01-01 00:00:00.000Z", "max": "2030-12-31 23:59:59.000Z",
               "required": False, "hidden": False, "presentable": False, "help": ""},
    "touched": {"type": "autodate", "onCreate": False, "onUpdate": True, "hidden": False, "presentable": False},
    "sizes": {"type": "select", "values": ["s", "m", "l"], "maxSelect": 2,
              "required": False, "hidden": False, "presentable": True, "help": ""},
    "images": {"type": "file", "maxSelect": 3, "maxSize": 1048576, "mimeTypes": ["application/pdf", *IMAGES],
               "thumbs": ["100x100", "0x300"], "protected": True,
               "required": False, "hidden": False, "presentable": False, "help": ""},
    "writer": {"type": "relation", "minSelect": 1, "maxSelect": 2, "cascadeDelete": True,
               "required": False, "hidden": False, "presentable": False, "help": ""},
    "extra": {"type": "json", "maxSize": 2048, "required": False, "hidden": False, "presentable": False, "help": ""},
    "pin": {"type": "password", "min": 4, "max": 12, "pattern": "^[0-9]+$", "cost": 11,
            "required": False, "hidden": False, "presentable": False, "help": ""},
    "where": {"type": "geoPoint", "required": True, "hidden": False, "presentable": False, "help": ""},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Teams, authors of a team, posts of an author: relation paths two levels deep; a view of
    the posts' titles (which no relation of a base collection may point to)."""
    async def prepare(app: Any, url: str) -> None:
        await create_record(app, "_superusers", {"email": ROOT[0], "password": ROOT[1]})

    live = serve_prepared(tmp_path_factory.mktemp("fields") / "pb_data", prepare)
    with superuser_client(live) as client:
        teams = client.post("/api/collections", json={
            "name": "teams", "type": "base", "fields": [{"name": "name", "type": "text"}]})
        authors = client.post("/api/collections", json={
            "name": "authors", "type": "base", "fields": [
                {"name": "name", "type": "text"},
                {"name": "team", "type": "relation", "collectionId": teams.json()["id"], "maxSelect": 1}]})
        client.post("/api/collections", json={
            "name": "posts", "type": "base", "fields": [
                {"name": "title", "type": "text"},
                {"name": "author", "type": "relation", "collectionId": authors.json()["id"], "maxSelect": 1}]})
        client.post("/api/collections", json={
            "name": "post_titles", "type": "view", "viewQuery": "SELECT id, title FROM posts"})
    yield live
    live.stop()


@contextmanager
def superuser_client(server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client signed in as the superuser that fails on any error answer."""
    hooks = {"response": [lambda answer: answer.raise_for_status()]}
    with httpx.Client(base_url=server.url, event_hooks=hooks) as client:
        answer = client.post("/api/collections/_superusers/auth-with-password",
                             json={"identity": ROOT[0], "password": ROOT[1]})
        client.headers["Authorization"] = answer.json()["token"]
        yield client


def add_field(page: Any, number: int, kind: str, name: str) -> Any:
    """Adds a field of ``kind`` named ``name``; returns its row (its options open, as new)."""
    page.get_by_label("New field type").select_option(kind)
    page.get_by_role("button", name="Add field").click()
    row = page.get_by_role("listitem", name=f"Field {number}", exact=True)
    row.get_by_label(f"Field {number} name").fill(name)
    return row


def fill_list(row: Any, label: str, text: str) -> None:
    """A comma-separated option is taken when its input is left."""
    row.get_by_label(label).fill(text)
    row.get_by_label(label).blur()


def test_a_field_of_every_type_with_its_options(server: LiveServer, page: Any) -> None:
    open_signed_in(page, server, *ROOT)
    page.get_by_role("button", name="New collection").click()
    page.get_by_label("Name", exact=True).fill("catalog")
    rows = {name: add_field(page, number, spec["type"], name)
            for number, (name, spec) in enumerate(CATALOG.items(), start=3)}

    code = rows["code"]
    expect(code.get_by_label("Min length")).to_have_value("")  # 0, the default: shown empty
    code.get_by_label("Min length").fill("2")
    code.get_by_label("Max length").fill("40")
    code.get_by_label("Validation pattern").fill("^[a-z0-9-]+$")
    code.get_by_label("Autogenerate pattern").fill("[a-z]{8}")
    code.get_by_label("Required").check()
    code.get_by_label("Presentable").check()
    code.get_by_label("Help text").fill("A short code")
    rows["body"].get_by_label("Max size (bytes)").fill("20000")
    rows["body"].get_by_label("Strip URLs domain").check()
    rows["body"].get_by_label("Presentable").check()
    rows["body"].get_by_label("Hidden").check()  # and so no longer presentable
    expect(rows["body"].get_by_label("Presentable")).to_be_disabled()
    price = rows["price"]
    price.get_by_label("Min", exact=True).fill("1")
    price.get_by_label("Max", exact=True).fill("1000")
    price.get_by_label("No decimals").check()
    price.get_by_label("Required").check()
    rows["active"].get_by_label("Help text").fill("Shown in the shop")
    fill_list(rows["contact"], "Only domains (comma-separated)", "example.com, example.org")
    expect(rows["contact"].get_by_label("Except domains (comma-separated)")).to_be_disabled()
    fill_list(rows["site"], "Except domains (comma-separated)", "evil.test")
    rows["launch"].get_by_label("Min date (UTC)").fill("2024-01-01T00:00:00")
    rows["launch"].get_by_label("Max date (UTC)").fill("2030-12-31T23:59:59")
    rows["touched"].get_by_label("Set on create").uncheck()
    rows["touched"].get_by_label("Set on update").check()
    fill_list(rows["sizes"], "Values (comma-separated)", "s, m, l")
    rows["sizes"].get_by_label("Max select").fill("2")
    rows["sizes"].get_by_label("Presentable").check()
    images = rows["images"]
    images.get_by_label("Max files").fill("3")
    images.get_by_label("Max size (bytes)").fill("1048576")
    fill_list(images, "Allowed MIME types (comma-separated)", "application/pdf")
    presets = images.get_by_label("Add MIME types of")
    presets.press("ArrowDown")  # choosing by keyboard adds nothing yet
    expect(images.get_by_label("Allowed MIME types (comma-separated)")).to_have_value("application/pdf")
    presets.select_option("Images (jpg, png, svg, gif, webp)")
    images.get_by_role("button", name="Add MIME types").press("Enter")
    expect(images.get_by_label("Allowed MIME types (comma-separated)")).to_have_value(
        ", ".join(["application/pdf", *IMAGES]))
    fill_list(images, "Thumb sizes (comma-separated)", "100x100, 0x300")
    images.get_by_label("Protected (a file token is needed)").check()
    writer = rows["writer"]
    expect(writer.get_by_label("Collection", exact=True).get_by_role("option", name="post_titles")).to_have_count(0)
    writer.get_by_label("Collection", exact=True).select_option(label="teams")
    writer.get_by_label("Min select").fill("1")
    writer.get_by_label("Max select").fill("2")
    writer.get_by_label("Cascade delete").check()
    rows["extra"].get_by_label("Max size (bytes)").fill("2048.7")  # a whole number is kept
    rows["extra"].get_by_label("Max size (bytes)").blur()
    expect(rows["extra"].get_by_label("Max size (bytes)")).to_have_value("2048")
    pin = rows["pin"]
    pin_type = pin.get_by_label(f"Field {list(CATALOG).index('pin') + 3} type")
    pin_type.select_option("text")
    pin.get_by_label("Presentable").check()
    pin_type.select_option("password")  # and so neither presentable nor hidden any more
    expect(pin.get_by_label("Hidden")).to_have_count(0)  # a password is never shown anyway
    pin.get_by_label("Min length").fill("4")
    pin.get_by_label("Max length").fill("12")
    pin.get_by_label("Validation pattern").fill("^[0-9]+$")
    pin.get_by_label("Bcrypt cost").fill("11")
    rows["where"].get_by_label("Required").check()
    images.evaluate("row => row.scrollIntoView()")
    screenshot(page, "field-options")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name="catalog", level=1)).to_be_visible()

    with superuser_client(server) as client:
        saved = {field["name"]: field for field in client.get("/api/collections/catalog").json()["fields"]}
        teams_id = client.get("/api/collections/teams").json()["id"]
    for name, expected in CATALOG.items():
        got = {key: value for key, value in saved[name].items() if key != "id"}
        wanted = {"name": name, "system": False, **expected}
        if name == "writer":
            wanted["collectionId"] = teams_id
        assert got == wanted, name

    # The id is a text field whose primaryKey is shown, never changed; an option the server
    # refuses is marked and described by its message in the field's row.
    page.get_by_role("button", name="Edit collection").click()
    id_row = page.get_by_role("listitem", name="Field 1", exact=True)
    id_row.get_by_text("Options of id").click()
    expect(id_row.get_by_label("Primary key")).to_be_checked()
    expect(id_row.get_by_label("Primary key")).to_be_disabled()
    code_row = page.get_by_role("listitem").filter(has=page.get_by_text("Options of code"))
    code_row.get_by_text("Options of code").click()
    code_row.get_by_label("Max length").fill("1")
    with page.watch.expect(400):
        page.get_by_role("button", name="Save changes").click()
        expect(code_row.locator("p.error", has_text="max: Must be no less than 2.")).to_be_visible()
    max_length = code_row.get_by_label("Max length")
    expect(max_length).to_have_attribute("aria-invalid", "true")
    expect(max_length).to_have_accessible_description("max: Must be no less than 2.")


#: A collection of every field type, each with options not the default (a select value
#: holding a comma included), as the API creates it.
EVERYTHING: list[dict[str, Any]] = [
    {"name": "code", "type": "text", "min": 2, "max": 40, "pattern": "^[a-z-]+$", "required": True,
     "presentable": True, "help": "A code"},
    {"name": "body", "type": "editor", "maxSize": 2000, "convertURLs": True, "hidden": True},
    {"name": "price", "type": "number", "min": 0.5, "max": 99.5, "onlyInt": False},
    {"name": "active", "type": "bool", "required": True},
    {"name": "contact", "type": "email", "exceptDomains": ["spam.test", "junk.test"]},
    {"name": "site", "type": "url", "onlyDomains": ["example.com"]},
    {"name": "launch", "type": "date", "min": "2024-01-01 00:00:00.000Z", "max": "2030-01-01 12:30:00.000Z"},
    {"name": "touched", "type": "autodate", "onCreate": False, "onUpdate": True},
    {"name": "sizes", "type": "select", "values": ["Hello, world", "b"], "maxSelect": 2},
    {"name": "images", "type": "file", "maxSelect": 4, "maxSize": 4096, "mimeTypes": ["image/png"],
     "thumbs": ["50x50"], "protected": True},
    {"name": "writer", "type": "relation", "minSelect": 1, "maxSelect": 3, "cascadeDelete": True},
    {"name": "extra", "type": "json", "maxSize": 100},
    {"name": "pin", "type": "password", "min": 4, "max": 20, "pattern": "^[0-9]+$", "cost": 12},
    {"name": "where", "type": "geoPoint", "help": "Where it is"},
]


def save_unchanged(page: Any, server: LiveServer, name: str) -> None:
    """Opens the collection ``name`` in the editor, saves it untouched and checks that the
    server holds the same collection as before (but its update time)."""
    with superuser_client(server) as client:
        before = client.get(f"/api/collections/{name}").json()
    page.get_by_role("navigation", name="Collections").get_by_role("link", name=name).click()
    page.get_by_role("button", name="Edit collection").click()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("dialog")).to_be_hidden()  # closed once saved
    with superuser_client(server) as client:
        after = client.get(f"/api/collections/{name}").json()
    assert {**after, "updated": None} == {**before, "updated": None}


def test_an_auth_collection_saved_unchanged_is_kept_exactly(server: LiveServer, page: Any) -> None:
    with superuser_client(server) as client:
        client.post("/api/collections", json={
            "name": "members", "type": "auth", "fields": [
                {"name": "nickname", "type": "text", "max": 30, "presentable": True},
                {"name": "avatar", "type": "file", "maxSelect": 1, "mimeTypes": ["image/png"], "thumbs": ["40x40"]}],
            "listRule": "id = @request.auth.id", "manageRule": "@request.auth.collectionName = 'teams'",
            "authRule": "verified = true", "passwordAuth": {"enabled": True, "identityFields": ["email"]},
            "otp": {"enabled": True, "duration": 300, "length": 6}, "authToken": {"duration": 3600}})
    open_signed_in(page, server, *ROOT)
    save_unchanged(page, server, "members")


def test_a_collection_saved_unchanged_is_kept_exactly(server: LiveServer, page: Any) -> None:
    with superuser_client(server) as client:
        teams = client.get("/api/collections/teams").json()["id"]
        fields = [{**field, "collectionId": teams} if field["type"] == "relation" else field for field in EVERYTHING]
        client.post("/api/collections", json={
            "name": "everything", "type": "base", "fields": fields,
            "listRule": '@request.auth.id != "" && active = TRUE // signed in', "viewRule": "", "createRule": None,
            "indexes": ["CREATE INDEX idx_everything_code ON everything (code)"]})
    open_signed_in(page, server, *ROOT)
    save_unchanged(page, server, "everything")

    # a value holding a comma stays whole when the list is edited
    page.get_by_role("button", name="Edit collection").click()
    sizes = page.get_by_role("listitem").filter(has=page.get_by_text("Options of sizes"))
    sizes.get_by_text("Options of sizes").click()
    values = sizes.get_by_label("Values (comma-separated)")
    expect(values).to_have_value("Hello, world, b")
    fill_list(sizes, "Values (comma-separated)", "Hello, world, b, c,d")
    expect(values).to_have_value("Hello, world, b, c, d")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("dialog")).to_be_hidden()  # closed once saved
    with superuser_client(server) as client:
        saved = {field["name"]: field for field in client.get("/api/collections/everything").json()["fields"]}
    assert saved["sizes"]["values"] == ["Hello, world", "b", "c", "d"]


def test_rules_are_checked_and_completed_while_typing(server: LiveServer, page: Any) -> None:
    open_signed_in(page, server, *ROOT)
    page.get_by_role("navigation", name="Collections").get_by_role("link", name="posts").click()
    page.get_by_role("button", name="Edit collection").click()
    page.get_by_role("group", name="listRule").get_by_label("Locked (superusers only)").uncheck()
    rule = page.get_by_role("textbox", name="listRule")
    problem = page.locator("#rule-listRule-check")

    rule.press_sequentially('title = "a" && author.team.nam = 1')
    expect(problem).to_have_text('Column 28: no field named "nam" in teams.')
    expect(problem.locator("xpath=..")).to_have_attribute("aria-live", "polite")  # announced
    expect(rule).to_have_attribute("aria-invalid", "true")
    rule.fill("(title = 1")
    expect(problem).to_have_text('Column 1: this "(" is never closed.')
    rule.fill("")
    expect(problem).to_have_count(0)

    rule.press_sequentially("author.")
    completions = page.get_by_role("listbox", name="Completions for author.")
    expect(completions.get_by_role("option")).to_have_text(
        ["author.id", "author.name", "author.team", "author.posts_via_author."])
    expect(completions.get_by_role("option", selected=True)).to_have_count(0)  # until an arrow key chooses
    page.wait_for_timeout(400)  # past the check's pause: a name still typed is not flagged
    expect(problem).to_have_count(0)
    for _ in range(3):
        rule.press("ArrowDown")
    expect(completions.get_by_role("option", name="author.team", exact=True)).to_have_attribute("aria-selected", "true")
    expect(rule).to_have_attribute("aria-activedescendant", "rule-listRule-option-2")
    screenshot(page, "rule-completions")
    rule.press("Enter")
    rule.press_sequentially(".n")  # typed at once after Enter, after the name taken
    expect(rule).to_have_value("author.team.n")
    expect(page.get_by_role("listbox", name="Completions for author.team.n").get_by_role("option")).to_have_text(
        ["author.team.name"])
    rule.press("ArrowDown")
    rule.press("Tab")
    expect(rule).to_have_value("author.team.name")
    expect(rule).to_be_focused()
    rule.press_sequentially(" != '' && @request.au")
    expect(page.get_by_role("option", name="@request.auth.", exact=True)).to_be_visible()
    rule.press("Escape")  # closes the list, not the panel
    expect(page.get_by_role("listbox", name="Completions for @request.au")).to_be_hidden()
    expect(page.get_by_role("dialog")).to_be_visible()
    rule.press_sequentially("th.id != '' && author = @request.auth.id")
    # A finished name is offered its extensions, but Tab leaves and Enter starts a new line.
    expect(page.get_by_role("option", name="@request.auth.id:lower", exact=True)).to_be_visible()
    rule.press("Tab")
    expect(rule).not_to_be_focused()
    expect(rule).to_have_value("author.team.name != '' && @request.auth.id != '' && author = @request.auth.id")
    rule.focus()
    rule.press("Enter")
    rule.press_sequentially("// mine, author")  # nothing is completed in a comment
    expect(page.locator("#rule-listRule-completions")).to_be_hidden()
    expect(problem).to_have_count(0)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Collection saved.")).to_be_visible()
    with superuser_client(server) as client:
        saved = client.get("/api/collections/posts").json()
    assert saved["listRule"] == "author.team.name != '' && @request.auth.id != '' && author = @request.auth.id\n// mine, author"


def test_hide_controls_hides_the_collection_controls(server: LiveServer, page: Any) -> None:
    open_signed_in(page, server, *ROOT)
    expect(page.get_by_role("button", name="Edit collection")).to_be_visible()
    sections = page.get_by_role("navigation", name="Sections")
    sections.get_by_role("link", name="Settings").click()
    settings_pages = page.get_by_role("navigation", name="Settings")
    expect(settings_pages.get_by_role("link", name="Import collections")).to_be_visible()
    page.get_by_label("Hide collection create and edit controls").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    # as in PocketBase, the export and import of collections go too
    expect(settings_pages.get_by_role("link", name="Import collections")).to_have_count(0)
    expect(settings_pages.get_by_role("link", name="Export collections")).to_have_count(0)
    with superuser_client(server) as client:
        try:
            assert client.get("/api/settings").json()["meta"]["hideControls"] is True
            sections.get_by_role("link", name="Collections").click()
            expect(page.get_by_role("heading", name="authors", level=1)).to_be_visible()
            expect(page.get_by_role("button", name="API preview")).to_be_visible()
            expect(page.get_by_role("button", name="Edit collection")).to_have_count(0)
            expect(page.get_by_role("button", name="New collection")).to_have_count(0)
        finally:
            client.patch("/api/settings", json={"meta": {"hideControls": False}})
    page.reload()
    expect(page.get_by_role("button", name="New collection")).to_be_visible()
