"""The dashboard's check of filters and API rules (ui/src/lib/filterCheck.js, filterPaths.js),
run by node over tables of rules: those PocketBase 0.40 accepts must pass, those it refuses
(each as its server answered) must be pointed at; and what the rules editor completes.

The schema is built the way the server answers it: users (auth), posts by an author, comments
on a post (so ``comments_via_post`` is a back relation of posts)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

LIB = Path(__file__).resolve().parents[1] / "ui" / "src" / "lib"

USERS = {"id": "pbc_users", "name": "users", "type": "auth", "fields": [
    {"name": "id", "type": "text"}, {"name": "password", "type": "password"}, {"name": "tokenKey", "type": "text"},
    {"name": "email", "type": "email"}, {"name": "emailVisibility", "type": "bool"},
    {"name": "verified", "type": "bool"}, {"name": "name", "type": "text"}]}
POSTS = {"id": "pbc_posts", "name": "posts", "type": "base", "fields": [
    {"name": "id", "type": "text"}, {"name": "title", "type": "text"}, {"name": "views", "type": "number"},
    {"name": "lon", "type": "number"}, {"name": "lat", "type": "number"}, {"name": "meta", "type": "json"},
    {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
    {"name": "author", "type": "relation", "collectionId": "pbc_users", "maxSelect": 1},
    {"name": "created", "type": "autodate"}]}
COMMENTS = {"id": "pbc_comments", "name": "comments", "type": "base", "fields": [
    {"name": "id", "type": "text"}, {"name": "body", "type": "text"},
    {"name": "post", "type": "relation", "collectionId": "pbc_posts", "maxSelect": 1}]}
SCOPE = {"self": POSTS, "collections": [COMMENTS, POSTS, USERS]}

#: Rules of posts PocketBase 0.40.6 saves (and pbk too).
ACCEPTED = [
    '@request.auth.id != "" && author = @request.auth.id',
    "@collection.posts.author ?= @request.auth.id",
    "title ~ 'x' || views > 10",
    "created >= @now",
    "@request.body.title:isset = true",
    "tags:length > 1",
    'tags:each ~ "a"',
    "geoDistance(lon, lat, 1, 2) < 10",
    "strftime('%Y', created) = \"2024\"",
    '@request.context != "oauth2"',
    "// only the authors\nauthor = @request.auth.id",
    "title = 1 // a comment at the end",
    "title = 1 &&\n  views = 2",
    '@request.headers.x_token = "a"',
    "@request.query.page = 1",
    "title = NULL",
    "title = TRUE || title = False",
    "@request.auth.nope = 1",
    "@request.body.nope.x = 1",
    '@request.auth.collectionName = "users" && @request.auth.email:lower = "x"',
    '@request.method = "GET"',
    'comments_via_post.body = "x"',
    "comments_via_post.id ?= 1",
    "author.posts_via_author.title = 1",
    "@collection.comments.post.author = 1",
    "@collection.posts:alias.title = 1",
    "meta.any.key = 1",
    "(title = 1) && (views = 2 || views = -1.5)",
    'title="a"&&views>1',
]

#: Rules of posts PocketBase 0.40.6 refuses, and where (column) the check points.
REFUSED = [
    ("@request.foo = 1", 'Column 10: @request has no "foo".'),
    ("@request = 1", "Column 1"),
    ("@request.auth = 1", "Column 10: a key of @request.auth expected."),
    ("@request.context.x = 1", "Column 10"),
    ("@request.method:lower = 1", "Column 10"),
    ("comments_via_post = 1", 'Column 1: "comments_via_post" is a back relation'),
    ("comments_via_post:length > 1", "Column 1"),
    ("posts_via_author = 1", 'Column 1: no field named "posts_via_author" in posts.'),
    ("author. = 1", "Column 8: a field name expected."),
    ("nope = 1", 'Column 1: no field named "nope" in posts.'),
    ("author.nope = 1", 'Column 8: no field named "nope" in users.'),
    ("title.x = 1", 'Column 1: "title" is not a relation.'),
    ("@collection.nope.id = 1", "Column 13"),
    ("@collection.posts = 1", "Column 13"),
    ("@yesterdayx = 1", 'Column 1: unknown macro "@yesterdayx".'),
    ("@now:lower = 1", "Column 1: a macro takes no modifier."),
    ("title:upper = 1", 'Column 1: unknown modifier ":upper".'),
    ("title:lower:each = 1", "Column 1"),
    ("(title = 1", 'Column 1: this "(" is never closed.'),
    ('title = "a', "Column 9: the quote \" is never closed."),
    ("foo(title) = 1", 'Column 1: no function named "foo".'),
    ("geoDistance(lon, lat, 1, 2, 3) < 10", "Column 1: geoDistance takes 4 arguments, not 5."),
    ("title == 1", 'Column 7: unknown operator "==".'),
    ("title = 1\n&& nope = 2", 'Line 2, column 4: no field named "nope" in posts.'),
    ("title = 1 && TRUE", "Column 18: an operator expected at the end."),
    ("(title = 1) && views", "Column 21: an operator expected at the end."),
]

#: (the name before the caret, what the editor offers); each offer is listed once.
COMPLETIONS = [
    ("@request.auth.id", ["@request.auth.id:lower"]),
    ("auth", ["author"]),
    ("author", ["author."]),
    ("comm", ["comments_via_post."]),
    ("author.posts", ["author.posts_via_author."]),
    ("@request.", ["@request.context", "@request.method", "@request.auth.", "@request.body.",
                   "@request.query.", "@request.headers."]),
    ("@request.query.p", ["@request.query.page", "@request.query.perPage"]),
    ("@request.headers.x_t", ["@request.headers.x_token"]),
    ("@request.auth.pass", []),
    ("@request.body.tags:", ["@request.body.tags:each", "@request.body.tags:length",
                             "@request.body.tags:isset", "@request.body.tags:changed"]),
    ("@collection.c", ["@collection.comments."]),
]

#: (text, caret, the word completed there): none inside quotes or a comment.
WORDS = [
    ("title = auth", 12, "auth"),
    ('title = "auth', 13, ""),
    ("title = 'a' && auth", 19, "auth"),
    ("// auth", 7, ""),
    ("// x\nauth", 9, "auth"),
]

SCRIPT = """
import { checkFilter, wordBefore } from "%(lib)s/filterCheck.js";
import { completions } from "%(lib)s/filterPaths.js";
const cases = JSON.parse(process.argv[2]);
const scope = cases.scope;
console.log(JSON.stringify({
  rules: cases.rules.map((rule) => checkFilter(rule, scope)),
  completions: cases.words.map((word) => completions(word, scope)),
  words: cases.carets.map(([text, caret]) => wordBefore(text, caret)),
  typing: [checkFilter("author. = 1", scope, 7), checkFilter("title: = 1", scope, 6), checkFilter("title =", scope, 7),
    checkFilter("author. = 1", scope), checkFilter("title =", scope)],
  logs: [checkFilter("data.auth = 1 && level > 1", ["id", "level", "data"]), checkFilter("nope = 1", ["id", "data"])],
  draft: checkFilter("comments_via_parent.body = 1", cases.draftScope),
}));
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Everything the tables ask, answered by one node run."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed on PATH to run the dashboard's filter check")
    script = tmp_path_factory.mktemp("filter-check") / "run.mjs"
    script.write_text(SCRIPT % {"lib": LIB.as_uri()})
    # comments being edited: its draft has a new relation to itself, its saved copy not yet
    draft = {**COMMENTS, "fields": [*COMMENTS["fields"],
                                     {"name": "parent", "type": "relation", "collectionId": "pbc_comments"}]}
    cases = {"scope": SCOPE, "rules": ACCEPTED + [rule for rule, _ in REFUSED],
             "words": [word for word, _ in COMPLETIONS], "carets": [[text, caret] for text, caret, _ in WORDS],
             "draftScope": {"self": draft, "collections": SCOPE["collections"]}}
    done = subprocess.run([node, str(script), json.dumps(cases)], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("index", range(len(ACCEPTED)), ids=ACCEPTED)
def test_rules_pocketbase_accepts_pass(answers: dict[str, Any], index: int) -> None:
    assert answers["rules"][index] == ""


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=[rule for rule, _ in REFUSED])
def test_rules_pocketbase_refuses_are_pointed_at(answers: dict[str, Any], index: int) -> None:
    assert answers["rules"][len(ACCEPTED) + index].startswith(REFUSED[index][1])


@pytest.mark.parametrize("index", range(len(COMPLETIONS)), ids=[word for word, _ in COMPLETIONS])
def test_completions(answers: dict[str, Any], index: int) -> None:
    assert answers["completions"][index] == COMPLETIONS[index][1]


def test_no_completion_inside_quotes_or_comments(answers: dict[str, Any]) -> None:
    assert answers["words"] == [word for _, _, word in WORDS]


def test_what_is_still_typed_is_not_flagged_at_the_caret(answers: dict[str, Any]) -> None:
    """A name ending in "." or ":", or an unfinished rule, at the caret; flagged once left."""
    name, modifier, unfinished, name_left, unfinished_left = answers["typing"]
    assert (name, modifier, unfinished) == ("", "", "")
    assert name_left == "Column 8: a field name expected."
    assert unfinished_left == "Column 8: a field or value expected at the end."


def test_the_logs_filter_checks_its_own_names(answers: dict[str, Any]) -> None:
    assert answers["logs"] == ["", 'Column 1: no field named "nope" in this collection.']


def test_a_self_back_relation_through_a_new_relation_field(answers: dict[str, Any]) -> None:
    """Editing comments, adding ``parent`` (to comments): the draft counts, not the saved copy."""
    assert answers["draft"] == ""
