"""The official PocketBase JS SDK (npm ``pocketbase`` 0.28.1) against a live pbk server.

One server per module, set up entirely through the SDK: the superuser creates the collections
with ``pb.collections.create``, guests sign up through ``pb.collection("users").create``, and
every test then drives the server the way an app would. The expected answers are those of the
real PocketBase 0.40.6 binary; ``PBK_JS_SDK_TARGET=pocketbase`` runs the same tests against
the binary instead of pbk, to check them.

Collections (``posts`` is only read by the tests; writing tests use their own records):

- ``tags``: public list/view, superusers write; a unique index on ``name``.
- ``posts``: listed/viewed when published or by the author, created by signed-in users unless
  the title is "forbidden" (``@request.body``), updated/deleted by the author only.
- ``comments``: public, with a relation to ``posts`` (the back-relation ``comments_via_post``).
- ``items``: superusers only; every test that writes works on its own ``group``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_sdk.testing import (
    pocketbase_superuser,
    postgres,
    start_live_server,
    start_pocketbase,
    superuser_token,
)
from pbk_sdk.testing.js import JsSdk

pytestmark = pytest.mark.slow

SUPERUSER = ("root@example.com", "su-password-123")
ADA = ("ada@example.com", "ada-password")
BOB = ("bob@example.com", "bob-password")
ADA_ID, BOB_ID = "useradaaaaaaaa1", "userbobbbbbbbb1"
TAGS = {"alpha": "tagalpha0000001", "beta": "tagbeta00000001", "gamma": "taggamma0000001"}
HELLO_BODY = "<p>Some <b>long</b> body text here that goes on and on</p>"
NOT_FOUND = {"status": 404, "response": {"data": {}, "message": "The requested resource wasn't found.",
                                         "status": 404}}

#: Put in front of every script: the test's ``data``, logins and a helper that drops the
#: autodate values (``created``/``updated`` are the time of the write) from an answer.
PREAMBLE = """\
const data = %s;
const asSuperuser = () => pb.collection("_superusers").authWithPassword(data.su[0], data.su[1]);
const asUser = (who) => pb.collection("users").authWithPassword(data[who][0], data[who][1]);
const strip = (value) => {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (k !== "created" && k !== "updated") out[k] = strip(v);
    return out;
  }
  return value;
};
const failure = async (promise) => {
  try { await promise; } catch (e) { return {status: e.status, response: e.response}; }
  throw new Error("expected the request to fail");
};
"""

SETUP = """
await asSuperuser();
const su = {isSuperuser: pb.authStore.isSuperuser, isValid: pb.authStore.isValid};
const tags = await pb.collections.create({
  name: "tags", type: "base", listRule: "", viewRule: "",
  fields: [{name: "name", type: "text", required: true, max: 50}],
  indexes: ["CREATE UNIQUE INDEX idx_tags_name ON tags (name)"],
});
const owner = "author = @request.auth.id";
const posts = await pb.collections.create({
  name: "posts", type: "base",
  listRule: "published = true || " + owner, viewRule: "published = true || " + owner,
  createRule: '@request.auth.id != "" && @request.body.title != "forbidden"',
  updateRule: owner, deleteRule: owner,
  fields: [
    {name: "title", type: "text", required: true, max: 200},
    {name: "body", type: "editor"},
    {name: "views", type: "number"},
    {name: "published", type: "bool"},
    {name: "author", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1},
    {name: "tags", type: "relation", collectionId: tags.id, maxSelect: 10},
    {name: "created", type: "autodate", onCreate: true},
    {name: "updated", type: "autodate", onCreate: true, onUpdate: true},
  ],
});
await pb.collections.create({
  name: "comments", type: "base", listRule: "", viewRule: "",
  fields: [{name: "post", type: "relation", collectionId: posts.id, maxSelect: 1}, {name: "message", type: "text"}],
});
await pb.collections.create({
  name: "items", type: "base",
  fields: [
    {name: "name", type: "text", required: true},
    {name: "group", type: "text"},
    {name: "views", type: "number"},
    {name: "tags", type: "relation", collectionId: tags.id, maxSelect: 10},
  ],
});
for (const [name, id] of Object.entries(data.tags)) await pb.collection("tags").create({id, name});

pb.authStore.clear();  // users sign up as guests
const users = {};
for (const [key, id, name] of [["ada", data.adaId, "Ada"], ["bob", data.bobId, "Bob"]]) {
  users[key] = await pb.collection("users").create(
    {id, email: data[key][0], password: data[key][1], passwordConfirm: data[key][1], name});
}

await asSuperuser();
const p = pb.collection("posts");
await p.create({id: "posthello000001", title: "Hello World", body: data.helloBody, views: 10, published: true,
                author: data.adaId, tags: [data.tags.alpha, data.tags.beta]});
await p.create({id: "postdraft000001", title: "Draft", views: 3, published: false, author: data.adaId});
await p.create({id: "postbobs0000001", title: "Bob's", views: 7, published: false, author: data.bobId,
                tags: [data.tags.gamma]});
await p.create({id: "postsecond00001", title: "Second", views: 5, published: true, author: data.bobId});
await pb.collection("comments").create({id: "comment00000001", post: "posthello000001", message: "first"});
await pb.collection("comments").create({id: "comment00000002", post: "posthello000001", message: "second"});
output({su, tags: strip(tags), users: strip(users)});
"""


@dataclass
class Server:
    url: str
    setup: dict[str, Any]
    sdk: JsSdk

    def run(self, script: str, **extra: Any) -> Any:
        data = {"su": SUPERUSER, "ada": ADA, "bob": BOB, "adaId": ADA_ID, "bobId": BOB_ID, "tags": TAGS,
                "helloBody": HELLO_BODY, **extra}
        return self.sdk.run(PREAMBLE % json.dumps(data) + script, self.url)


def _enable_batch_in_pbk(data_dir: Path) -> None:
    from pbk import build_app

    async def enable() -> None:
        app = build_app(data_dir=data_dir, plugins=["records", "auth"],
                        **({"db": postgres.database_for(data_dir)} if postgres.test_engine() == "postgresql" else {}))
        await app.start()
        try:
            await app.settings.update({"batch": {"enabled": True}})
        finally:
            await app.stop()

    asyncio.run(enable())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, js_sdk: JsSdk) -> Iterator[Server]:
    """A live pbk (or, with ``PBK_JS_SDK_TARGET=pocketbase``, the real binary), set up by SETUP."""
    data_dir = tmp_path_factory.mktemp("js_sdk") / "pb_data"
    if os.environ.get("PBK_JS_SDK_TARGET") == "pocketbase":
        pocketbase_superuser(data_dir, *SUPERUSER)
        process = start_pocketbase(data_dir)
    else:
        db_args = ["--db", postgres.database_for(data_dir)] if postgres.test_engine() == "postgresql" else []
        done = subprocess.run([sys.executable, "-m", "pbk", "--plugins", "records,auth", "--dir", str(data_dir),
                               *db_args, "superuser", "upsert", *SUPERUSER], check=False, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        _enable_batch_in_pbk(data_dir)  # pbk has no settings API yet
        process = start_live_server(data_dir, ["--plugins", "records,auth"])
    try:
        if os.environ.get("PBK_JS_SDK_TARGET") == "pocketbase":
            token = superuser_token(process.url, *SUPERUSER)
            enabled = httpx.patch(f"{process.url}/api/settings", json={"batch": {"enabled": True}},
                                  headers={"Authorization": token})
            assert enabled.status_code == 200, enabled.text
        live = Server(process.url, {}, js_sdk)
        live.setup = live.run(SETUP)
        yield live
    finally:
        process.stop()


# -- set-up through the SDK ----------------------------------------------------------------------


def test_collections_and_users_created_through_the_sdk(server: Server) -> None:
    assert server.setup["su"] == {"isSuperuser": True, "isValid": True}
    assert server.setup["tags"] == {
        "id": "pbc_1219621782",  # pbc_ + CRC32("base" + "tags")
        "name": "tags",
        "type": "base",
        "system": False,
        "listRule": "",
        "viewRule": "",
        "createRule": None,
        "updateRule": None,
        "deleteRule": None,
        "fields": [
            {"autogeneratePattern": "[a-z0-9]{15}", "help": "", "hidden": False, "id": "text3208210256",
             "max": 15, "min": 15, "name": "id", "pattern": "^[a-z0-9]+$", "presentable": False,
             "primaryKey": True, "required": True, "system": True, "type": "text"},
            {"autogeneratePattern": "", "help": "", "hidden": False, "id": "text1579384326", "max": 50,
             "min": 0, "name": "name", "pattern": "", "presentable": False, "primaryKey": False,
             "required": True, "system": False, "type": "text"},
        ],
        # PocketBase stores and returns index definitions verbatim
        "indexes": ["CREATE UNIQUE INDEX idx_tags_name ON tags (name)"],
    }
    user = {"avatar": "", "collectionId": "_pb_users_auth_", "collectionName": "users",
            "emailVisibility": False, "verified": False}
    # a guest signing up does not get the email back (emailVisibility is off)
    assert server.setup["users"] == {
        "ada": {**user, "id": ADA_ID, "name": "Ada"},
        "bob": {**user, "id": BOB_ID, "name": "Bob"},
    }


# -- records CRUD and lists ----------------------------------------------------------------------


def test_create_get_update_delete(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const items = pb.collection("items");
        const created = await items.create({name: "crud", group: "crud", views: 1, tags: [data.tags.alpha]});
        const got = await items.getOne(created.id);
        const updated = await items.update(created.id, {name: "crud 2", views: "12"});
        const deleted = await items.delete(created.id);
        const gone = await failure(items.getOne(created.id));
        const again = await failure(items.delete(created.id));
        // create and update take the same expand/fields options as reads
        const shaped = await items.create({name: "shaped", group: "crud", tags: [data.tags.alpha]},
                                          {expand: "tags", fields: "name,expand.tags.name"});
        const reshaped = await items.update((await items.getFirstListItem('name = "shaped"')).id,
                                            {"tags+": data.tags.beta},
                                            {expand: "tags", fields: "name,expand.tags.name"});
        output({created, got, updated, deleted, gone, again, shaped, reshaped});
    """)
    created = result["created"]
    record_id = created["id"]
    assert len(record_id) == 15 and record_id.isalnum() and record_id.islower()
    expected = {"collectionId": "pbc_710432678", "collectionName": "items", "id": record_id, "name": "crud",
                "group": "crud", "views": 1, "tags": [TAGS["alpha"]]}
    assert created == expected
    assert result["got"] == expected
    assert result["updated"] == {**expected, "name": "crud 2", "views": 12}
    assert result["deleted"] is True
    assert result["gone"] == NOT_FOUND
    assert result["again"] == NOT_FOUND
    assert result["shaped"] == {"name": "shaped", "expand": {"tags": [{"name": "alpha"}]}}
    assert result["reshaped"] == {"name": "shaped", "expand": {"tags": [{"name": "alpha"}, {"name": "beta"}]}}


def test_autodate_fields_have_pocketbase_format(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const post = await pb.collection("posts").getOne("posthello000001");
        output([post.created, post.updated]);
    """)
    for value in result:
        assert len(value) == 24 and value[10] == " " and value.endswith("Z") and value[19] == ".", value


def test_get_list_with_filter_sort_expand_fields_and_skip_total(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const posts = pb.collection("posts");
        output({
          first: await posts.getList(1, 2, {filter: "views > 4", sort: "-views", expand: "author,tags",
                                            fields: "id,title,views,expand.author.name,expand.tags.name",
                                            skipTotal: true}),
          second: await posts.getList(2, 2, {filter: "views > 4", sort: "-views", fields: "id,views"}),
          beyond: await posts.getList(9, 2, {sort: "title", fields: "id"}),
          all: await posts.getList(1, 30, {sort: "-published,title", fields: "title"}),
        });
    """)
    assert result["first"] == {
        "page": 1, "perPage": 2, "totalItems": -1, "totalPages": -1,
        "items": [
            {"id": "posthello000001", "title": "Hello World", "views": 10,
             "expand": {"author": {"name": "Ada"}, "tags": [{"name": "alpha"}, {"name": "beta"}]}},
            {"id": "postbobs0000001", "title": "Bob's", "views": 7,
             "expand": {"author": {"name": "Bob"}, "tags": [{"name": "gamma"}]}},
        ],
    }
    assert result["second"] == {"page": 2, "perPage": 2, "totalItems": 3, "totalPages": 2,
                                "items": [{"id": "postsecond00001", "views": 5}]}
    assert result["beyond"] == {"page": 9, "perPage": 2, "totalItems": 4, "totalPages": 2, "items": []}
    assert [item["title"] for item in result["all"]["items"]] == ["Hello World", "Second", "Bob's", "Draft"]


def test_get_full_list_in_batches(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const items = pb.collection("items");
        for (const [name, views] of [["e", 5], ["c", 3], ["a", 1], ["d", 4], ["b", 2]])
          await items.create({name, views, group: "full"});
        const queries = [];
        pb.beforeSend = (url, options) => { queries.push(options.query); return {url, options}; };
        const all = await items.getFullList({batch: 2, sort: "-views", filter: 'group = "full"', fields: "name,views"});
        pb.beforeSend = undefined;
        output({all, queries});
    """)
    assert result["all"] == [{"name": n, "views": v} for n, v in [("e", 5), ("d", 4), ("c", 3), ("b", 2), ("a", 1)]]
    # two full pages of 2, then a short page ends it
    assert [(q["page"], q["perPage"], q["skipTotal"]) for q in result["queries"]] == [(1, 2, 1), (2, 2, 1), (3, 2, 1)]


def test_get_first_list_item_and_not_found(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const posts = pb.collection("posts");
        output({
          found: strip(await posts.getFirstListItem('title = "Draft"')),
          sorted: (await posts.getFirstListItem("views > 0", {sort: "-views"})).id,
          missing: await failure(posts.getFirstListItem('title = "nope"')),
          invalid: await failure(posts.getFirstListItem("title ==== 1")),
        });
    """)
    assert result["found"] == {"author": ADA_ID, "body": "", "collectionId": "pbc_1125843985",
                               "collectionName": "posts", "id": "postdraft000001", "published": False,
                               "tags": [], "title": "Draft", "views": 3}
    assert result["sorted"] == "posthello000001"
    # the SDK turns an empty page into a 404 of its own
    assert result["missing"] == {"status": 404, "response": {"code": 404, "data": {},
                                                             "message": "The requested resource wasn't found."}}
    assert result["invalid"] == {"status": 400, "response": {
        "data": {}, "message": "Something went wrong while processing your request.", "status": 400}}


def test_expand_single_multiple_and_back_relations(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        output({
          post: strip(await pb.collection("posts").getOne("posthello000001",
                                                          {expand: "author,tags,comments_via_post"})),
          nested: strip(await pb.collection("comments").getList(1, 10, {
            sort: "message", expand: "post.author", fields: "id,expand.post.title,expand.post.expand.author.name"})),
          empty: strip(await pb.collection("posts").getOne("postdraft000001", {expand: "tags,comments_via_post,nope"})),
        });
    """)
    tag = {"collectionId": "pbc_1219621782", "collectionName": "tags"}
    comment = {"collectionId": "pbc_533777971", "collectionName": "comments", "post": "posthello000001"}
    assert result["post"] == {
        "author": ADA_ID, "body": HELLO_BODY, "collectionId": "pbc_1125843985", "collectionName": "posts",
        "id": "posthello000001", "published": True, "tags": [TAGS["alpha"], TAGS["beta"]], "title": "Hello World",
        "views": 10,
        "expand": {
            # a superuser sees the email even though emailVisibility is off
            "author": {"avatar": "", "collectionId": "_pb_users_auth_", "collectionName": "users",
                       "email": ADA[0], "emailVisibility": False, "id": ADA_ID, "name": "Ada", "verified": False},
            "tags": [{**tag, "id": TAGS["alpha"], "name": "alpha"}, {**tag, "id": TAGS["beta"], "name": "beta"}],
            "comments_via_post": [{**comment, "id": "comment00000001", "message": "first"},
                                  {**comment, "id": "comment00000002", "message": "second"}],
        },
    }
    assert result["nested"]["items"] == [
        {"id": "comment00000001", "expand": {"post": {"title": "Hello World", "expand": {"author": {"name": "Ada"}}}}},
        {"id": "comment00000002", "expand": {"post": {"title": "Hello World", "expand": {"author": {"name": "Ada"}}}}},
    ]
    # valid relations that resolve nothing give an empty expand; unknown names are ignored
    assert result["empty"]["expand"] == {}


def test_fields_with_excerpt(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        output({
          one: await pb.collection("posts").getOne("posthello000001", {fields: "id,body:excerpt(10,true)"}),
          list: await pb.collection("posts").getList(1, 5, {sort: "title", fields: "title,body:excerpt(20)"}),
          bad: await failure(pb.collection("posts").getOne("posthello000001", {fields: "body:excerpt(0)"})),
          star: strip(await pb.collection("posts").getOne("posthello000001",
                                                          {expand: "author", fields: "*,expand.author.name"})),
        });
    """)
    assert result["one"] == {"id": "posthello000001", "body": "Some long..."}
    assert result["list"] == {"page": 1, "perPage": 5, "totalItems": 4, "totalPages": 1, "items": [
        {"title": "Bob's", "body": ""}, {"title": "Draft", "body": ""},
        {"title": "Hello World", "body": "Some long body text"}, {"title": "Second", "body": ""}]}
    assert result["bad"] == {"status": 400, "response": {
        "data": {}, "message": "Something went wrong while processing your request.", "status": 400}}
    assert result["star"] == {"author": ADA_ID, "body": HELLO_BODY, "collectionId": "pbc_1125843985",
                              "collectionName": "posts", "id": "posthello000001", "published": True,
                              "tags": [TAGS["alpha"], TAGS["beta"]], "title": "Hello World", "views": 10,
                              "expand": {"author": {"name": "Ada"}}}


def test_update_modifiers(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const items = pb.collection("items");
        const item = await items.create({name: "mod", group: "mod", views: 1,
                                         tags: [data.tags.alpha, data.tags.beta, data.tags.gamma]});
        const steps = [];
        steps.push(await items.update(item.id, {"views+": 1, "tags-": data.tags.beta}));
        steps.push(await items.update(item.id, {"views-": 5, "+tags": data.tags.beta}));
        steps.push(await items.update(item.id, {"views+": 0.5, "tags+": [data.tags.alpha, data.tags.gamma],
                                                "tags-": [data.tags.alpha]}));
        output(steps.map((r) => [r.views, r.tags]));
    """)
    assert result == [
        [2, [TAGS["alpha"], TAGS["gamma"]]],
        [-3, [TAGS["beta"], TAGS["alpha"], TAGS["gamma"]]],
        [-2.5, [TAGS["beta"], TAGS["gamma"]]],
    ]


def test_filter_binds_strings_with_quotes_and_backslashes(server: Server) -> None:
    tricky = 'He said "hi" \\ ok \'single\' {:t} %_'
    result = server.run("""
        await asSuperuser();
        const items = pb.collection("items");
        const created = await items.create({name: data.tricky, group: "bind", views: 3});
        await items.create({name: "He said hi ok", group: "bind", views: 4});
        output({
          created: created.name,
          exact: (await items.getFullList({filter: pb.filter("name = {:t}", {t: data.tricky})})).map((r) => r.name),
          like: (await items.getFullList({filter: pb.filter("group = {:g} && name ~ {:part}",
                                                            {g: "bind", part: '"hi" \\\\ ok'})})).map((r) => r.name),
          mixed: (await items.getFullList({filter: pb.filter("group = {:g} && views > {:n} && name != {:t}",
                                                             {g: "bind", n: 3, t: data.tricky})})).map((r) => r.name),
        });
    """, tricky=tricky)
    assert result == {"created": tricky, "exact": [tricky], "like": [tricky], "mixed": ["He said hi ok"]}


# -- batch ---------------------------------------------------------------------------------------


def test_batch_create_upsert_update_delete(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        const existing = await pb.collection("items").create({id: "batchexisting01", name: "old", group: "batch"});
        const doomed = await pb.collection("items").create({id: "batchdoomed0001", name: "doomed", group: "batch"});
        const batch = pb.createBatch();
        batch.collection("items").create({id: "batchcreated001", name: "created", group: "batch", views: 1});
        batch.collection("items").upsert({id: "batchupserted01", name: "upserted (insert)", group: "batch"});
        batch.collection("items").upsert({id: "batchexisting01", name: "upserted (update)", group: "batch"});
        batch.collection("items").update("batchcreated001", {"views+": 2});
        batch.collection("items").delete("batchdoomed0001");
        batch.collection("items").update("batchupserted01", {tags: [data.tags.alpha, data.tags.beta]},
                                         {expand: "tags", fields: "id,expand.tags.name"});
        const answer = await batch.send();
        const after = await pb.collection("items").getFullList({filter: 'group = "batch"', sort: "id",
                                                                fields: "id,name,views"});
        output({answer, after});
    """)
    item = {"collectionId": "pbc_710432678", "collectionName": "items", "group": "batch", "tags": []}
    assert result["answer"] == [
        {"status": 200, "body": {**item, "id": "batchcreated001", "name": "created", "views": 1}},
        {"status": 200, "body": {**item, "id": "batchupserted01", "name": "upserted (insert)", "views": 0}},
        {"status": 200, "body": {**item, "id": "batchexisting01", "name": "upserted (update)", "views": 0}},
        {"status": 200, "body": {**item, "id": "batchcreated001", "name": "created", "views": 3}},
        {"status": 204, "body": None},
        {"status": 200, "body": {"id": "batchupserted01", "expand": {"tags": [{"name": "alpha"}, {"name": "beta"}]}}},
    ]
    assert result["after"] == [
        {"id": "batchcreated001", "name": "created", "views": 3},
        {"id": "batchexisting01", "name": "upserted (update)", "views": 0},
        {"id": "batchupserted01", "name": "upserted (insert)", "views": 0},
    ]


def test_a_failing_batch_rolls_everything_back(server: Server) -> None:
    result = server.run("""
        await asSuperuser();
        await pb.collection("items").create({id: "rollbackkept001", name: "kept", group: "rollback", views: 1});
        const batch = pb.createBatch();
        batch.collection("items").create({id: "rollbacknew0001", name: "new", group: "rollback"});
        batch.collection("items").update("rollbackkept001", {name: "changed", "views+": 10});
        batch.collection("items").delete("rollbackkept001");
        batch.collection("items").create({group: "rollback", name: ""});
        const error = await failure(batch.send());
        const after = await pb.collection("items").getFullList({filter: 'group = "rollback"', fields: "id,name,views"});
        output({error, after});
    """)
    assert result["error"] == {"status": 400, "response": {
        "data": {"requests": {"3": {
            "code": "batch_request_failed", "message": "Batch request failed.",
            "response": {"data": {"name": {"code": "validation_required", "message": "Cannot be blank."}},
                         "message": "Failed to create record.", "status": 400}}}},
        "message": "Batch transaction failed.", "status": 400}}
    assert result["after"] == [{"id": "rollbackkept001", "name": "kept", "views": 1}]


def test_batch_requests_follow_each_collections_rules(server: Server) -> None:
    result = server.run("""
        await asUser("bob");
        const batch = pb.createBatch();
        batch.collection("posts").create({title: "bob in a batch", author: data.bobId});
        batch.collection("posts").update("postdraft000001", {title: "not his"});
        const error = await failure(batch.send());
        await asSuperuser();
        const leaked = await pb.collection("posts").getFullList({filter: 'title = "bob in a batch"'});
        output({error, leaked: leaked.length});
    """)
    assert result["error"]["status"] == 400
    assert result["error"]["response"]["message"] == "Batch transaction failed."
    assert result["error"]["response"]["data"]["requests"]["1"]["response"]["status"] == 404
    assert result["leaked"] == 0


# -- users, auth and rules ----------------------------------------------------------------------


def test_users_sign_in_and_refresh(server: Server) -> None:
    result = server.run("""
        const before = pb.authStore.isValid;
        const auth = await asUser("ada");
        const after = {isValid: pb.authStore.isValid, isSuperuser: pb.authStore.isSuperuser,
                       id: pb.authStore.record.id, sameToken: pb.authStore.token === auth.token};
        const refreshed = await pb.collection("users").authRefresh();
        const me = await pb.collection("users").getOne(data.adaId);
        const wrong = await failure(pb.collection("users").authWithPassword(data.bob[0], "wrong-password"));
        pb.authStore.clear();
        const anonymous = await failure(pb.collection("users").authRefresh());
        const mismatch = await failure(pb.collection("users").create(
          {email: "eve@example.com", password: "eve-password", passwordConfirm: "other-password"}));
        await asUser("bob");
        const users = pb.collection("users");
        const own = {
          visible: strip(await users.update(data.bobId, {emailVisibility: true})),
          listed: strip(await users.getFullList()),  // the default listRule: only oneself
          email: await failure(users.update(data.bobId, {email: "new@example.com"})),
          verified: await failure(users.update(data.bobId, {verified: true})),
          noOld: await failure(users.update(data.bobId, {password: "new-password-1",
                                                         passwordConfirm: "new-password-1"})),
          badOld: await failure(users.update(data.bobId, {password: "new-password-1", passwordConfirm: "new-password-1",
                                                          oldPassword: "wrong"})),
          other: await failure(users.update(data.adaId, {name: "hijacked"})),
        };
        await users.update(data.bobId, {emailVisibility: false});
        output({before, keys: Object.keys(auth).sort(), record: strip(auth.record), after,
                refreshed: {record: strip(refreshed.record), token: typeof refreshed.token,
                            stored: refreshed.token.length > 0},
                me: strip(me), wrong, anonymous, mismatch, own});
    """)
    ada = {"avatar": "", "collectionId": "_pb_users_auth_", "collectionName": "users", "email": ADA[0],
           "emailVisibility": False, "id": ADA_ID, "name": "Ada", "verified": False}
    assert result["before"] is False
    assert result["keys"] == ["record", "token"]
    assert result["record"] == ada
    assert result["after"] == {"isValid": True, "isSuperuser": False, "id": ADA_ID, "sameToken": True}
    assert result["refreshed"] == {"record": ada, "token": "string", "stored": True}
    assert result["me"] == ada
    assert result["wrong"] == {"status": 400, "response": {"data": {}, "message": "Failed to authenticate.",
                                                           "status": 400}}
    assert result["anonymous"] == {"status": 401, "response": {
        "data": {}, "message": "The request requires valid record authorization token.", "status": 401}}
    assert result["mismatch"]["status"] == 400
    assert result["mismatch"]["response"]["data"]["passwordConfirm"]["code"] == "validation_values_mismatch"
    own = result["own"]
    bob = {**ada, "email": BOB[0], "id": BOB_ID, "name": "Bob"}
    assert own["visible"] == {**bob, "emailVisibility": True}
    assert own["listed"] == [{**bob, "emailVisibility": True}]

    def refused(field: str, code: str, message: str) -> dict[str, Any]:
        return {"status": 400, "response": {"data": {field: {"code": code, "message": message}},
                                            "message": "Failed to update record.", "status": 400}}

    assert own["email"] == refused("email", "validation_values_mismatch", "Values don't match.")
    assert own["verified"] == refused("verified", "validation_values_mismatch", "Values don't match.")
    assert own["noOld"] == refused("oldPassword", "validation_required", "Cannot be blank.")
    assert own["badOld"] == refused("oldPassword", "validation_invalid_old_password",
                                    "Missing or invalid old password.")
    assert own["other"] == NOT_FOUND


def test_owner_only_update_rule(server: Server) -> None:
    result = server.run("""
        await asUser("ada");
        const posts = pb.collection("posts");
        const mine = await posts.create({title: "ada's own", author: data.adaId, views: 1, published: true});
        try {
          const updated = strip(await posts.update(mine.id, {title: "ada's own, edited", "views+": 1}));
          await asUser("bob");
          const visible = (await posts.getOne(mine.id)).title;  // published: bob may view it ...
          const update = await failure(posts.update(mine.id, {title: "bob was here"}));  // ... not update it
          const remove = await failure(posts.delete(mine.id));
          await asUser("ada");
          const still = (await posts.getOne(mine.id)).title;
          output({updated, visible, update, remove, still});
        } finally {
          await asUser("ada");
          await posts.delete(mine.id);
        }
    """)
    updated = result["updated"]
    assert updated == {"author": ADA_ID, "body": "", "collectionId": "pbc_1125843985", "collectionName": "posts",
                       "id": updated["id"], "published": True, "tags": [], "title": "ada's own, edited", "views": 2}
    assert result["visible"] == "ada's own, edited"
    assert result["update"] == NOT_FOUND
    assert result["remove"] == NOT_FOUND
    assert result["still"] == "ada's own, edited"


def test_list_rule_acts_as_a_filter(server: Server) -> None:
    result = server.run("""
        const titles = async (options = {}) => {
          const page = await pb.collection("posts").getList(1, 30, {sort: "title", ...options});
          return {titles: page.items.map((r) => r.title), total: page.totalItems};
        };
        const out = {guest: await titles(), guestFiltered: await titles({filter: "views > 6"})};
        out.guestDraft = await failure(pb.collection("posts").getOne("postdraft000001"));
        await asUser("ada");
        out.ada = await titles();
        out.adaDraft = (await pb.collection("posts").getOne("postdraft000001")).title;
        out.adaFiltered = await titles({filter: "published = false"});
        await asUser("bob");
        out.bob = await titles();
        out.bobDraft = await failure(pb.collection("posts").getOne("postdraft000001"));
        out.bobCollection = await failure(pb.collection("posts").getList(1, 5,
                                                                         {filter: '@collection.tags.name = "alpha"'}));
        output(out);
    """)
    assert result["guest"] == {"titles": ["Hello World", "Second"], "total": 2}
    assert result["guestFiltered"] == {"titles": ["Hello World"], "total": 1}
    assert result["ada"] == {"titles": ["Draft", "Hello World", "Second"], "total": 3}
    assert result["adaDraft"] == "Draft"
    assert result["adaFiltered"] == {"titles": ["Draft"], "total": 1}
    assert result["bob"] == {"titles": ["Bob's", "Hello World", "Second"], "total": 3}
    assert result["guestDraft"] == NOT_FOUND
    assert result["bobDraft"] == NOT_FOUND
    assert result["bobCollection"] == {"status": 403, "response": {
        "data": {}, "message": "Only superusers can filter by @collection.", "status": 403}}


def test_create_rule_with_request_body(server: Server) -> None:
    result = server.run("""
        const posts = pb.collection("posts");
        const guest = await failure(posts.create({title: "from a guest"}));
        await asUser("bob");
        const forbidden = await failure(posts.create({title: "forbidden", author: data.bobId}));
        const allowed = await posts.create({title: "allowed", author: data.bobId});
        await posts.delete(allowed.id);
        await asSuperuser();
        const stored = await posts.getFullList({filter: 'title = "forbidden" || title = "from a guest"'});
        output({guest, forbidden, allowed: [allowed.title, allowed.author], stored: stored.length});
    """)
    refused = {"status": 400, "response": {"data": {}, "message": "Failed to create record.", "status": 400}}
    assert result["guest"] == refused
    assert result["forbidden"] == refused
    assert result["allowed"] == ["allowed", BOB_ID]
    assert result["stored"] == 0, "a refused create leaves nothing behind"


def test_relations_follow_the_related_collections_rules(server: Server) -> None:
    """``users`` may be viewed only by oneself: filters and expands through ``author`` obey that."""
    result = server.run("""
        const posts = pb.collection("posts");
        const view = {expand: "author,tags", fields: "id,expand.author.id,expand.author.email,expand.tags.name"};
        const out = {
          guestFilter: (await posts.getFullList({filter: 'author.name = "Ada"'})).map((r) => r.title),
          guestExpand: await posts.getOne("posthello000001", view),
        };
        await asUser("ada");
        out.adaFilter = (await posts.getFullList({filter: 'author.name = "Ada"', sort: "title"})).map((r) => r.title);
        out.adaExpand = await posts.getOne("posthello000001", view);
        out.adaExpandsBob = await posts.getOne("postsecond00001", view);
        output(out);
    """)
    tags = [{"name": "alpha"}, {"name": "beta"}]
    assert result["guestFilter"] == []
    assert result["guestExpand"] == {"id": "posthello000001", "expand": {"tags": tags}}
    assert result["adaFilter"] == ["Draft", "Hello World"]
    # her own record: the email is shown to the record itself
    assert result["adaExpand"] == {"id": "posthello000001",
                                   "expand": {"author": {"id": ADA_ID, "email": ADA[0]}, "tags": tags}}
    assert result["adaExpandsBob"] == {"id": "postsecond00001", "expand": {}}
