"""``filter.cached.RuleCache``: a rule compiled once per requester shape gives exactly what
compiling it again would, for every requester, and the same records on a real SQLite file."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from pbk_records.filter import FilterError, RequestInfo, compile_filter
from pbk_records.filter.cached import RuleCache

try:
    from . import test_filter_support as support
except ImportError:  # tests/ is not a package
    import test_filter_support as support

RULES = [
    '@request.auth.id != ""',
    "author = @request.auth.id",
    "author = @request.auth.id || published = true",
    "@request.auth.verified = true && author.id = @request.auth.id",
    "@request.auth.name = 'Ann' || @request.auth.age > 30",  # joins the auth record
    "@request.auth.mentor.name != '' && author = @request.auth.id",
    "likes ?= @request.auth.id",
    "title ~ @request.auth.id",  # ~ wraps the value: not reusable, compiled each time
    "@request.auth.email = '' || @request.auth.emailVisibility = false",
    "@collection.comments.author ?= @request.auth.id",
    "created < @now && author = @request.auth.id",  # a macro: never cached
    "@request.body.title = '' && author = @request.auth.id",  # reads the body: never cached
    "@request.auth.collectionName = 'authors' && @request.auth.collectionId != ''",
    "@request.auth.id:isset = true",
    # names the auth collection plainly and joins the auth record: the join must find it
    "@request.auth.collectionName = 'authors' && @request.auth.collectionId != '' && @request.auth.name != 'Bob'",
    "@request.auth.collectionId != '' && @request.auth.collectionName != '' && @request.auth.email:lower != ''",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> support.Env:
    return support.Env(str(tmp_path_factory.mktemp("rulecache") / "data.db"))


def requesters(env: support.Env) -> list[RequestInfo]:
    a1, a2 = env.auth(support.A1), env.auth(support.A2)
    odd: dict[str, Any] = {**a2, "id": "", "email": "", "verified": True}
    return [
        RequestInfo(),
        RequestInfo(auth={}),
        RequestInfo(auth=a1, body={"title": "x"}),
        RequestInfo(auth=a2),
        RequestInfo(auth=odd),
        RequestInfo(auth={**a1, "collectionId": "", "collectionName": "authors"}),
        RequestInfo(auth={**a1, "verified": 1}),
        RequestInfo(auth=env.auth(support.A3)),
    ]


def outcome(compile_: Any, *args: Any, **kw: Any) -> Any:
    """The compiled SQL and values, or the error's detail."""
    try:
        sql = compile_(*args, **kw)
    except FilterError as exc:
        return ("error", exc.detail)
    return sql


@pytest.mark.parametrize("table", ["posts", "comments"])
def test_cached_rules_equal_fresh_compilations_for_every_requester(env: support.Env, table: str) -> None:
    cache = RuleCache()
    schema = object()
    collection = env.collections[table]
    compared = 0
    for _ in range(2):  # the second pass is all hits
        for rule in RULES:
            for request in requesters(env):
                fresh = outcome(compile_filter, rule, collection, env.lookup, request, mode="rule")
                cached = outcome(cache.compile, rule, collection, env.lookup, request, schema=schema)
                if isinstance(fresh, tuple) or isinstance(cached, tuple):
                    assert cached == fresh, (rule, request.auth)
                    continue
                if "@now" not in rule:
                    assert (cached.sql, cached.params) == (fresh.sql, fresh.params), (rule, request.auth)
                assert support.select_ids(env.conn, collection, cached) == support.select_ids(
                    env.conn, collection, fresh
                ), (rule, request.auth)
                compared += 1
    assert compared > len(RULES) * 8


def test_the_requesters_values_are_bound_not_the_first_ones(env: support.Env) -> None:
    cache = RuleCache()
    posts = env.collections["posts"]
    schema = object()
    mine = {
        author: support.select_ids(
            env.conn,
            posts,
            cache.compile("author = @request.auth.id", posts, env.lookup, RequestInfo(auth=env.auth(author)), schema=schema),
        )
        for author in (support.A1, support.A2, support.A3)
    }
    assert len(cache._compiled) == 1  # one shape, three requesters
    for author, ids in mine.items():
        fresh = compile_filter(
            "author = @request.auth.id", posts, env.lookup, RequestInfo(auth=env.auth(author)), mode="rule"
        )
        assert ids == support.select_ids(env.conn, posts, fresh)
    assert mine[support.A1] != mine[support.A2]


def test_a_schema_change_empties_the_cache(env: support.Env) -> None:
    cache = RuleCache()
    posts = env.collections["posts"]
    request = RequestInfo(auth=env.auth(support.A1))
    schema, changed = (posts,), (posts, posts)
    cache.compile("author = @request.auth.id", posts, env.lookup, request, schema=schema)
    cache.compile('@request.auth.id != ""', posts, env.lookup, request, schema=schema)
    assert len(cache._compiled) == 2
    cache.compile('@request.auth.id != ""', posts, env.lookup, request, schema=changed)
    assert len(cache._compiled) == 1


def test_a_literal_that_looks_like_a_marker_is_compiled_each_time(env: support.Env) -> None:
    cache = RuleCache()
    posts = env.collections["posts"]
    rule = "title = '\x01pbk-rule-value:id' || author = @request.auth.id"
    request = RequestInfo(auth=env.auth(support.A1))
    fresh = compile_filter(rule, posts, env.lookup, request, mode="rule")
    cached = cache.compile(rule, posts, env.lookup, request, schema=())
    assert (cached.sql, cached.params) == (fresh.sql, fresh.params)
    assert not cache._compiled


def test_a_rule_naming_the_auth_collection_still_refuses_the_requester_it_names(env: support.Env) -> None:
    """The auth collection's id and name choose the table the joined fields come from: a
    first requester compiled with stand-ins there would join nothing, and ``name != 'Bob'``
    (NULL) would admit Bob."""
    cache = RuleCache()
    posts = env.collections["posts"]
    rule = "@request.auth.collectionName = 'authors' && @request.auth.collectionId != '' && @request.auth.name != 'Bob'"
    bob, ann = RequestInfo(auth=env.auth(support.A2)), RequestInfo(auth=env.auth(support.A1))
    assert bob.auth is not None and bob.auth["name"] == "Bob"
    for request in (bob, ann, bob):
        assert cache.compile(rule, posts, env.lookup, request, schema=()).sql == compile_filter(
            rule, posts, env.lookup, request, mode="rule"
        ).sql
    assert support.select_ids(env.conn, posts, cache.compile(rule, posts, env.lookup, bob, schema=())) == []
    assert support.select_ids(env.conn, posts, cache.compile(rule, posts, env.lookup, ann, schema=())) != []


def test_a_number_field_named_as_an_auth_text_value_binds_what_a_fresh_compilation_binds(env: support.Env) -> None:
    """A numeric text compared through a number field of the same name is bound as a number."""
    spec = {
        "id": "pbc_numbers0001",
        "name": "numbers",
        "type": "base",
        "fields": [{"name": name, "type": "number"} for name in ("email", "collectionName", "verified")],
    }
    numbers = support.build_collections([*support.SCHEMA, spec])["numbers"]
    cache = RuleCache()
    base = env.auth(support.A1)
    rules = [
        "email = @request.auth.email",
        "@request.auth.email > 5 && @request.auth.name != ''",
        "collectionName = @request.auth.collectionName && @request.auth.name != ''",
        "@request.auth.verified = verified",
    ]
    requesters = [{**base, "email": "42"}, base, {**base, "email": "7.5"}, {**base, "collectionName": "12"}]
    for _ in range(2):
        for rule in rules:
            for auth in requesters:
                request = RequestInfo(auth=auth)
                fresh = compile_filter(rule, numbers, env.lookup, request, mode="rule")
                cached = cache.compile(rule, numbers, env.lookup, request, schema=())
                assert (cached.sql, cached.params) == (fresh.sql, fresh.params), (rule, auth)


def test_compiling_from_two_threads_while_a_third_empties_the_cache(env: support.Env) -> None:
    """The writer thread compiles rules while the event loop may empty the cache (a schema
    change): no call fails, every call gives a fresh compilation's answer."""
    cache = RuleCache()
    posts = env.collections["posts"]
    requests = [RequestInfo(auth=env.auth(author)) for author in (support.A1, support.A2, support.A3)]
    expected = {
        (rule, index): compile_filter(rule, posts, env.lookup, request, mode="rule")
        for rule in RULES[:6]
        for index, request in enumerate(requests)
    }
    schema = object()
    stop = threading.Event()
    failures: list[BaseException] = []

    def compile_all() -> None:
        try:
            while not stop.is_set():
                for (rule, index), fresh in expected.items():
                    got = cache.compile(rule, posts, env.lookup, requests[index], schema=schema)
                    assert (got.sql, got.params) == (fresh.sql, fresh.params)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
            stop.set()

    def reset() -> None:
        for _ in range(3000):
            if stop.is_set():
                return
            cache.compile(RULES[0], posts, env.lookup, requests[0], schema=object())  # empties it

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between any two steps
    threads = [threading.Thread(target=compile_all) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        reset()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
    assert not failures, failures[0]
