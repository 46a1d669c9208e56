"""The record editor's widgets in a real browser: rich text written with the toolbar and the
keyboard, HTML the editor cannot keep opened as HTML, the JSON editor's inline check, thumbs
and previews of files (protected ones through a file token, retried and renewed), dates to the
millisecond in UTC, and geo point ranges; each read back through the API."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import screenshot
from dashboard_server import ROOT, add_root, open_signed_in, serve_prepared
from pbk_sdk.testing import LiveServer
from PIL import Image
from playwright.sync_api import expect

NOTES = {
    "name": "notes", "type": "base",  # view rule locked: a protected file needs a token
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "body", "type": "editor"},
        {"name": "data", "type": "json"},
        {"name": "when", "type": "date"},
        {"name": "place", "type": "geoPoint"},
        {"name": "photo", "type": "file", "maxSelect": 1},
        {"name": "docs", "type": "file", "maxSelect": 2, "protected": True},
    ],
}


def png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve_prepared(tmp_path_factory.mktemp("widgets") / "pb_data", add_root)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """The API as the superuser, with the notes collection made."""
    signed_in = httpx.post(f"{server.url}/api/collections/_superusers/auth-with-password",
                           json={"identity": ROOT[0], "password": ROOT[1]}).raise_for_status().json()
    with httpx.Client(base_url=server.url, headers={"Authorization": signed_in["token"]}) as api:
        api.post("/api/collections", json=NOTES).raise_for_status()
        yield api


def note(client: httpx.Client, record_id: str) -> Any:
    return client.get(f"/api/collections/notes/records/{record_id}").raise_for_status().json()


def open_notes(page: Any, server: LiveServer) -> Any:
    """The notes' records page; returns the record panel's locator."""
    open_signed_in(page, server, *ROOT)
    page.goto(server.url + "/_/#/collections?collection=notes")
    expect(page.get_by_role("heading", name="notes", level=1)).to_be_visible()
    return page.get_by_role("dialog")


def new_note(page: Any, server: LiveServer, title: str) -> Any:
    """The record panel of a new note titled ``title``."""
    panel = open_notes(page, server)
    page.get_by_role("button", name="New record").click()
    panel.get_by_label("title").fill(title)
    return panel


def open_record(page: Any, record_id: str) -> None:
    page.get_by_role("button", name=f"Open record {record_id}").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def save(page: Any, button: str = "Save changes") -> None:
    """Saves the record; the panel closes once the server has taken it."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def press_and_type(page: Any, *steps: str) -> None:
    """Key chords (``Control+B``, ``Enter``) pressed, any other step typed."""
    for step in steps:
        if re.fullmatch(r"(Control\+|Shift\+)*([A-Z]|Enter|Tab|End|Home)", step):
            page.keyboard.press(step)
        else:
            page.keyboard.type(step)


def watch_record_writes(page: Any) -> list[str]:
    """The create and update requests the page sends from now on."""
    sent: list[str] = []

    def note_written(request: Any) -> None:
        if request.method in ("POST", "PATCH") and "/api/collections/notes/records" in request.url:
            sent.append(request.url)

    page.on("request", note_written)
    return sent


def replace_code(editor: Any, text: str) -> None:
    """Empties a code editor as a person would (Ctrl+A, Delete), then types ``text`` in: filling
    over a selection of several lines leaves a line break behind in CodeMirror."""
    editor.press("Control+A")
    editor.press("Delete")
    editor.fill(text)


def created_id(client: httpx.Client, title: str) -> str:
    found = client.get("/api/collections/notes/records", params={"filter": f'title = "{title}"'}).json()["items"]
    assert len(found) == 1, found
    return str(found[0]["id"])


def test_rich_text_written_with_the_toolbar_and_the_keyboard(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    page.clock.install()  # time flows, and may be skipped past the undo history's grouping delay
    panel = new_note(page, server, "rich")
    editor = panel.get_by_role("textbox", name="body")
    toolbar = panel.get_by_role("toolbar", name="Formatting")
    editor.click()
    press_and_type(page, "Control+B", "Bold", "Control+B", " and ", "Control+I", "italic", "Control+I", "Enter")
    toolbar.get_by_role("button", name="Heading 2").click()
    press_and_type(page, "Title")
    expect(toolbar.get_by_role("button", name="Heading 2")).to_have_attribute("aria-pressed", "true")
    press_and_type(page, "Enter")
    toolbar.get_by_role("button", name="Bulleted list").click()
    # The click left the focus in the text at once: keys typed right away are not lost.
    assert editor.evaluate("element => element === document.activeElement")
    press_and_type(page, "one", "Enter", "two", "Enter", "Enter", "see ", "Control+K")
    page.keyboard.press("Escape")  # closes the link form, not the panel
    expect(panel.get_by_label("Link address")).to_have_count(0)
    expect(editor).to_be_focused()
    toolbar.get_by_role("button", name="Link").click()
    panel.get_by_label("Link address").fill("javascript:alert(1)")
    panel.get_by_label("Link address").press("Enter")
    expect(panel.get_by_text("Not an address a link may have.")).to_be_visible()
    panel.get_by_label("Link address").fill("https://example.com/docs")
    panel.get_by_label("Link address").press("Enter")
    expect(editor).to_be_focused()
    press_and_type(page, " and ", "Control+E", "x = 1", "Control+E")
    page.clock.fast_forward(1000)  # past the history's grouping delay: the next words are one step
    last = editor.locator("p").last
    press_and_type(page, " typo", "Control+Z")
    expect(last).to_have_text("see https://example.com/docs and x = 1")
    toolbar.get_by_role("button", name="Redo").click()
    expect(last).to_have_text("see https://example.com/docs and x = 1 typo")
    toolbar.get_by_role("button", name="Undo").click()
    expect(last).to_have_text("see https://example.com/docs and x = 1")

    # The toolbar is one tab stop; arrows, Home and End move along it.
    press_and_type(page, "Shift+Tab", "Home")
    expect(toolbar.get_by_role("button", name="Bold")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(toolbar.get_by_role("button", name="Redo")).to_be_focused()
    page.keyboard.press("Tab")
    expect(editor).to_be_focused()
    screenshot(page, "record-widgets")
    save(page, "Create")

    stored = note(client, created_id(client, "rich"))["body"]
    assert stored == (
        "<p><strong>Bold</strong> and <em>italic</em></p><h2>Title</h2>"
        "<ul><li><p>one</p></li><li><p>two</p></li></ul>"
        '<p>see <a href="https://example.com/docs">https://example.com/docs</a> and <code>x = 1</code></p>')


def test_html_the_editor_cannot_keep_opens_as_html(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    html = '<table class="prices"><tbody><tr><td>tea</td><td style="color: red">2</td></tr></tbody></table>'
    record = client.post("/api/collections/notes/records", json={"title": "legacy", "body": html}).json()
    panel = open_notes(page, server)
    open_record(page, record["id"])
    body = panel.get_by_role("textbox", name="body")
    as_html = panel.get_by_role("checkbox", name="Edit HTML")
    notice = panel.get_by_text("This text has markup the rich text editor cannot keep", exact=False)
    expect(notice).to_contain_text("so it is shown as HTML")
    expect(as_html).to_be_checked()
    expect(body).to_have_value(html)
    panel.get_by_label("title").fill("legacy, renamed")
    save(page)
    assert note(client, record["id"])["body"] == html  # opened and saved, not rewritten

    open_record(page, record["id"])
    body.press("End")
    body.press_sequentially("<p>more</p>")
    save(page)
    assert note(client, record["id"])["body"] == html + "<p>more</p>"  # the HTML as typed

    # Back in the rich text editor, told what an edit there would drop; an edit drops it.
    open_record(page, record["id"])
    expect(as_html).to_be_checked()  # opened as HTML by itself (once the editor's code is loaded)
    as_html.uncheck()
    expect(notice).to_contain_text("an edit here drops it")
    body.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("!")
    expect(notice).to_have_count(0)
    save(page)
    assert note(client, record["id"])["body"] == "<p>tea2</p><p>more!</p>"


def test_rich_text_kept_as_it_is_until_edited_and_images_inserted(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    html = "<p>A <b>bold</b>  start</p>"  # the editor would write <strong> and one space
    record = client.post("/api/collections/notes/records", data={"title": "plain", "body": html},
                         files={"photo": ("pic.png", png("red"), "image/png")}).raise_for_status().json()
    open_notes(page, server)
    open_record(page, record["id"])
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("textbox", name="body")).to_contain_text("A bold start")
    expect(panel.get_by_role("checkbox", name="Edit HTML")).not_to_be_checked()  # all kept
    panel.get_by_label("title").fill("plain, renamed")
    save(page)
    assert note(client, record["id"])["body"] == html  # opened and saved, not rewritten

    open_record(page, record["id"])
    panel.get_by_role("textbox", name="body").click()
    page.keyboard.press("Control+End")
    toolbar = panel.get_by_role("toolbar", name="Formatting")
    toolbar.get_by_role("button", name="Image from this record's files").click()
    panel.get_by_role("button", name=f"Insert image {record['photo']}").click()
    expect(panel.locator(".rich-text-content img[src*='/api/files/']")).to_have_count(1)
    save(page)
    src = f"{server.url}/api/files/{record['collectionId']}/{record['id']}/{record['photo']}"
    assert f'<img src="{src}" alt="">' in note(client, record["id"])["body"]


def test_rich_text_marked_invalid_by_the_server(server: LiveServer, client: httpx.Client, page: Any) -> None:
    client.post("/api/collections", json={
        "name": "posts", "type": "base", "fields": [{"name": "text", "type": "editor", "required": True}],
    }).raise_for_status()
    open_signed_in(page, server, *ROOT)
    page.goto(server.url + "/_/#/collections?collection=posts")
    page.get_by_role("button", name="New record").click()
    editor = page.get_by_role("dialog").get_by_role("textbox", name="text")
    expect(editor).to_have_attribute("aria-invalid", "false")
    with page.watch.expect(400):
        page.get_by_role("button", name="Create", exact=True).click()
        expect(page.locator("#field-text-error")).to_have_text("Cannot be blank.")
    expect(editor).to_have_attribute("aria-invalid", "true")


def test_json_refused_where_it_is_wrong_and_saved_exactly(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    panel = new_note(page, server, "json")
    sent = watch_record_writes(page)
    data = panel.get_by_role("textbox", name="data")
    data.fill('{\n  "a": 1,\n  "b": }')
    problem = panel.locator("#field-data-error")
    expect(problem).to_have_text('Invalid JSON at line 3, column 8: a value expected, not "}".')
    expect(panel.locator(".cm-lintRange-error")).to_have_count(1)  # underlined in the editor
    page.get_by_role("button", name="Create", exact=True).click()
    expect(panel.get_by_role("alert")).to_have_text("Not saved: data needs fixing first.")
    expect(data).to_be_focused()
    replace_code(data, '{"s": "unclosed}')
    expect(problem).to_have_text("Invalid JSON at line 1, column 7: this string is never closed.")
    assert sent == []

    text = '{"name": "Zoë", "big": 12345678901234567890, "ok": true, "none": null, "list": [1.5, "a\\nb"]}'
    replace_code(data, text)
    expect(problem).to_have_count(0)
    expect(panel.get_by_role("alert")).to_have_count(0)
    string_color = data.locator(".tok-string").first.evaluate("span => getComputedStyle(span).color")
    number_color = data.locator(".tok-number").first.evaluate("span => getComputedStyle(span).color")
    assert string_color != number_color  # highlighted
    save(page, "Create")
    assert note(client, created_id(client, "json"))["data"] == json.loads(text)


def test_untouched_json_not_sent_so_a_big_integer_stays_exact(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    data = {"big": 2**63, "digits": 12345678901234567890}  # past what a browser's number holds
    # sent as JSON text, which the server stores as it reads it (a JSON number in the body is a
    # float64 to it, as to PocketBase)
    record = client.post("/api/collections/notes/records",
                         json={"title": "big", "data": json.dumps(data)}).raise_for_status().json()
    assert note(client, record["id"])["data"] == data
    panel = open_notes(page, server)
    open_record(page, record["id"])
    expect(panel.get_by_role("textbox", name="data")).to_contain_text('"big"')
    panel.get_by_label("title").fill("big, renamed")
    with page.expect_request(lambda request: request.method == "PATCH") as sent:
        save(page)
    written = json.loads(sent.value.post_data)
    assert written["title"] == "big, renamed" and "data" not in written
    stored = note(client, record["id"])
    assert (stored["title"], stored["data"]) == ("big, renamed", data)


def test_files_thumbs_previews_and_protected_files_through_a_token(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    panel = new_note(page, server, "files")
    panel.get_by_label("photo").set_input_files(files=[{"name": "blue.png", "mimeType": "image/png",
                                                        "buffer": png("blue")}])
    preview = panel.locator(".files img")
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))  # shown before it is sent
    assert preview.evaluate("image => image.decode().then(() => image.naturalWidth)") == 8
    panel.get_by_label("docs").set_input_files(files=[
        {"name": "plan.png", "mimeType": "image/png", "buffer": png("green")},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"secret notes"}])
    expect(panel.get_by_text("New", exact=True)).to_have_count(3)
    save(page, "Create")
    record = note(client, created_id(client, "files"))
    plan, text = sorted(record["docs"], key=lambda name: not name.endswith(".png"))

    with page.expect_response(lambda answer: "thumb=100x100" in answer.url and plan in answer.url) as thumb:
        open_record(page, record["id"])
    assert "token=" in thumb.value.url and thumb.value.status == 200
    protected = panel.locator("li", has_text=plan).locator("img")
    assert protected.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0
    photo = panel.locator("li", has_text=record["photo"]).locator("img")
    expect(photo).to_have_attribute("src", re.compile(r"thumb=100x100"))
    assert "token=" not in photo.get_attribute("src")  # not protected: no token asked for

    panel.locator(".files").last.scroll_into_view_if_needed()
    screenshot(page, "record-files")
    opened = panel.get_by_role("link", name=text, exact=True).get_attribute("href")
    download = panel.get_by_role("link", name=f"Download {text}").get_attribute("href")
    assert httpx.get(opened).content == b"secret notes"
    assert httpx.get(download).headers["content-disposition"].startswith("attachment")
    assert httpx.get(opened.split("?")[0]).status_code == 404  # protected: nothing without a token

    # Remove is one toggle button: the focus stays on it, pressed again it keeps the file.
    remove = panel.get_by_role("button", name=f"Remove file {text}")
    remove.click()
    expect(remove).to_have_attribute("aria-pressed", "true")
    expect(panel.get_by_text("removed on save", exact=False)).to_be_visible()
    remove.press("Enter")
    expect(remove).to_have_attribute("aria-pressed", "false")
    expect(remove).to_be_focused()
    remove.press("Enter")
    save(page)
    assert note(client, record["id"])["docs"] == [plan]  # the other file kept


def test_file_token_retried_and_renewed_without_reloading_thumbs(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    record = client.post("/api/collections/notes/records", data={"title": "tokens"},
                         files={"docs": ("scan.png", png("blue"), "image/png")}).raise_for_status().json()
    # A 66-second file token is renewed 6 seconds after it is fetched (a minute before it ends).
    client.patch("/api/collections/_superusers", json={"fileToken": {"duration": 66}}).raise_for_status()
    failures: list[str] = []

    def first_fails(route: Any) -> None:
        if failures:
            route.continue_()
        else:
            failures.append(route.request.url)
            route.fulfill(status=503, json={"status": 503, "message": "Try again later.", "data": {}})

    try:
        panel = open_notes(page, server)
        page.route("**/api/files/token", first_fails)
        with page.watch.expect(503):
            open_record(page, record["id"])
            expect(page.get_by_text("Try again later.")).to_be_visible()
            thumb = panel.locator("li", has_text="scan").locator("img")
            expect(thumb).to_have_attribute("src", re.compile("token="))  # the second attempt
        link = panel.get_by_role("link", name=f"Download {record['docs'][0]}")
        src, href = thumb.get_attribute("src"), link.get_attribute("href")
        with page.expect_response("**/api/files/token", timeout=15_000):
            pass  # the renewal
        expect(link).not_to_have_attribute("href", href)
        assert thumb.get_attribute("src") == src  # the thumb is not loaded again
    finally:
        client.patch("/api/collections/_superusers", json={"fileToken": {"duration": 180}}).raise_for_status()


def test_a_date_round_trips_to_the_millisecond_and_clears(
    server: LiveServer, client: httpx.Client, page: Any
) -> None:
    record = client.post("/api/collections/notes/records",
                         json={"title": "dated", "when": "2024-01-02 03:04:05.678Z"}).raise_for_status().json()
    panel = open_notes(page, server)
    open_record(page, record["id"])
    when = panel.get_by_label("when", exact=True)
    expect(when).to_have_value("2024-01-02T03:04:05.678")
    panel.get_by_label("title").fill("dated again")
    save(page)
    assert note(client, record["id"])["when"] == "2024-01-02 03:04:05.678Z"

    open_record(page, record["id"])
    when.fill("2030-12-31T23:59:58.999")
    save(page)
    assert note(client, record["id"])["when"] == "2030-12-31 23:59:58.999Z"

    open_record(page, record["id"])
    when.fill("2031-06-07T08:09")
    save(page)
    assert note(client, record["id"])["when"] == "2031-06-07 08:09:00.000Z"

    open_record(page, record["id"])
    panel.get_by_role("button", name="Clear when").click()
    expect(when).to_have_value("")
    when.press_sequentially("12")  # a month alone
    when.blur()
    expect(panel.locator("#field-when-error")).to_have_text("An incomplete date: fill in every part, or clear it.")
    panel.get_by_role("button", name="Clear when").click()
    expect(panel.locator("#field-when-error")).to_have_count(0)
    save(page)
    assert note(client, record["id"])["when"] == ""


def test_geo_point_ranges_checked_before_sending(server: LiveServer, client: httpx.Client, page: Any) -> None:
    panel = new_note(page, server, "geo")
    sent = watch_record_writes(page)
    longitude, latitude = panel.get_by_label("place longitude"), panel.get_by_label("place latitude")
    longitude.fill("200")
    latitude.fill("-91")
    problem = panel.locator("#field-place-error")
    expect(problem).to_have_text("Longitude must be between -180 and 180. Latitude must be between -90 and 90.")
    expect(longitude).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(panel.get_by_role("alert")).to_have_text("Not saved: place needs fixing first.")
    expect(longitude).to_be_focused()
    longitude.fill("-180")
    expect(problem).to_have_text("Latitude must be between -90 and 90.")
    assert sent == []

    latitude.fill("48.85")
    expect(problem).to_have_count(0)
    save(page, "Create")
    assert note(client, created_id(client, "geo"))["place"] == {"lon": -180, "lat": 48.85}
