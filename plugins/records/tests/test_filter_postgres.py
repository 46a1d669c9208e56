"""The filter compiler's PostgreSQL dialect against its SQLite dialect, on the same rows.

The collections and rows of ``test_filter_support`` live in an SQLite file (PocketBase's
layout) and in a fresh PostgreSQL database (pbk's PostgreSQL layout). Every filter, sort and
rule of the PocketBase differential corpus (``test_filter_differential``, whose SQLite answers
are PocketBase's) is compiled with both dialects and run on both databases: the ids, and
their order, must be the same, and a filter SQLite refuses PostgreSQL must refuse alike.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pbk_records.filter import (
    POSTGRES,
    SQLITE,
    FilterError,
    RequestInfo,
    Sql,
    compile_filter,
    compile_sort,
    dialect_for,
)
from pbk_records.schema import Collection, Field

try:
    from . import test_filter_differential as corpus
    from . import test_filter_postgres_support as pg
    from . import test_filter_property as property_tests
    from . import test_filter_support as support
except ImportError:  # tests/ is not a package
    import test_filter_differential as corpus
    import test_filter_postgres_support as pg
    import test_filter_property as property_tests
    import test_filter_support as support


class Dbs:
    def __init__(self, sqlite: Any, postgres: Any) -> None:
        self.sqlite = sqlite
        self.postgres = postgres


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dbs]:
    path = tmp_path_factory.mktemp("filter-pg") / "data.db"
    collections = support.build_collections()
    sqlite = support.create_database(str(path), collections)
    with pg.postgres_database() as conn:
        pg.seed(conn, collections)
        yield Dbs(sqlite, conn)
    sqlite.close()


def _with_rules(rules: Mapping[str, Mapping[str, Any]]) -> dict[str, Collection]:
    schema = copy.deepcopy(support.SCHEMA)
    for spec in schema:
        spec.update(rules.get(spec["name"], {}))
    return support.build_collections(schema)


SU_COLLECTIONS = support.build_collections()
USER_COLLECTIONS = _with_rules(corpus.RULES)


def _list(
    dbs: Dbs,
    engine: str,
    collections: Mapping[str, Collection],
    collection: str,
    expression: str,
    request: RequestInfo,
    *,
    sort: str = "",
    and_rule: str | None = None,
) -> tuple[str, Any]:
    """Ids a list request answers, or the error status (``_pbk_ids`` of the differential test)."""
    dialect = dialect_for(engine)
    lookup = support.make_lookup(collections)
    coll = collections[collection]
    if not request.is_superuser and and_rule is None:
        rule = coll.rules.get("listRule")
        if rule is None:
            return ("error", 403)
        and_rule = rule or None
    try:
        where = compile_filter(expression, coll, lookup, request, and_rule=and_rule, dialect=dialect)
        order = (
            compile_sort(f"{sort},@rowid", coll, lookup, request, dialect=dialect) if sort else None
        )
    except FilterError as exc:
        return ("error", exc.status)
    conditions = [where, *([order.where] if order is not None and order.where is not None else [])]
    ordering = order if order is not None and order.sql else Sql("main.rowid", [])
    query = " ".join(
        [
            f'SELECT main.id FROM "{coll.name}" AS main WHERE',
            " AND ".join(f"({c.sql})" for c in conditions),
            f"ORDER BY {ordering.sql}",
        ]
    )
    params = [p for c in [*conditions, ordering] for p in c.params]
    return ("ok", [row[0] for row in _run(dbs, engine, query, params)])


def _run(dbs: Dbs, engine: str, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    if engine == "sqlite":
        return list(dbs.sqlite.execute(sql, params))
    return pg.run(dbs.postgres, sql, params)


def _differences(dbs: Dbs, cases: list[tuple[Any, ...]], **kw: Any) -> list[str]:
    out = []
    for collections, collection, expression, request, sort in cases:
        args = (collections, collection, expression, request)
        expected = _list(dbs, "sqlite", *args, sort=sort, **kw)
        try:
            got = _list(dbs, "postgresql", *args, sort=sort, **kw)
        except Exception as exc:  # noqa: BLE001 - an SQL error is a difference to report
            got = ("sql error", str(exc).splitlines()[0])
        if sort.lstrip("-").startswith(("labels.", "comments_via_")) and got[0] == expected[0] == "ok":
            got, expected = ("ok", sorted(got[1])), ("ok", sorted(expected[1]))
        if got != expected:
            shown = expression if len(expression) < 150 else expression[:150] + "…"
            out.append(f"{collection} filter={shown!r} sort={sort!r}\n  sqlite: {expected}\n  postgresql: {got}")
    return out


def _superuser(expression: str) -> RequestInfo:
    return RequestInfo(
        is_superuser=True,
        query={"perPage": "500", "sort": "@rowid", "filter": expression},
        auth={"id": "x", "collectionName": "_superusers", "collectionId": "pbc_3142635823"},
    )


def _users() -> dict[str, RequestInfo]:
    return {
        "guest": RequestInfo(),
        "ann": RequestInfo(auth=pg.auth_record(USER_COLLECTIONS, support.A1)),
        "bob": RequestInfo(auth=pg.auth_record(USER_COLLECTIONS, support.A2)),
    }


def _report(differences: list[str], total: int) -> None:
    assert not differences, f"{len(differences)} of {total} differ:\n" + "\n".join(differences)


_LIST = 'SELECT main.id FROM "posts" AS main WHERE {sql} ORDER BY main.rowid'


def _on_both(dbs: Dbs, compile_one: Any, query: str = _LIST, *first: Any) -> list[tuple[Any, ...]]:
    """``compile_one(dialect)``'s condition in ``query`` on each engine: the first column of the
    rows, the FilterError's status, or the SQL error."""
    answers: list[tuple[Any, ...]] = []
    for engine in ("sqlite", "postgresql"):
        try:
            sql = compile_one(dialect_for(engine))
            rows = _run(dbs, engine, query.format(sql=sql.sql), [*first, *sql.params])
            answers.append(("ok", [r[0] for r in rows]))
        except FilterError as exc:
            answers.append(("error", exc.status))
        except Exception as exc:  # noqa: BLE001 - an SQL error is a difference to report
            answers.append(("sql error", str(exc).splitlines()[0]))
    return answers


def test_dialect_for() -> None:
    assert dialect_for("sqlite") is SQLITE
    assert dialect_for("postgresql") is POSTGRES
    with pytest.raises(ValueError):
        dialect_for("mysql")


def test_superuser_filters_match_sqlite(dbs: Dbs) -> None:
    cases = [(SU_COLLECTIONS, "posts", e, _superuser(e), "") for e in corpus.POST_FILTERS]
    cases += [(SU_COLLECTIONS, c, e, _superuser(e), "") for c, e in corpus.OTHER_FILTERS]
    _report(_differences(dbs, cases), len(cases))


def test_sorts_match_sqlite(dbs: Dbs) -> None:
    cases = [(SU_COLLECTIONS, c, "", _superuser(""), s) for c, s in corpus.SORTS]
    users = _users()
    cases += [(USER_COLLECTIONS, c, "", r, s) for r in users.values() for c, s in corpus.USER_SORTS]
    _report(_differences(dbs, cases), len(cases))


def test_user_filters_match_sqlite(dbs: Dbs) -> None:
    cases = []
    for request in _users().values():
        cases += [(USER_COLLECTIONS, "posts", e, request, "") for e in corpus.USER_FILTERS]
        cases.append((USER_COLLECTIONS, "comments", "post.title != 'zz'", request, ""))
        cases.append((USER_COLLECTIONS, "authors", "profiles_via_owner.bio = 'hi'", request, ""))
    _report(_differences(dbs, cases), len(cases))


def test_list_rules_match_sqlite(dbs: Dbs) -> None:
    differences: list[str] = []
    users = _users()
    for rule in corpus.LIST_RULES:
        cases = [(USER_COLLECTIONS, "posts", "", r, "") for r in users.values()]
        differences += _differences(dbs, cases, and_rule=rule)
    _report(differences, len(corpus.LIST_RULES) * len(users))


def test_update_rules_match_sqlite(dbs: Dbs) -> None:
    ann = pg.auth_record(USER_COLLECTIONS, support.A1)
    lookup = support.make_lookup(USER_COLLECTIONS)
    one = 'SELECT 1 FROM "posts" AS main WHERE main.id = ? AND ({sql})'
    differences = []
    for rule, record_id, body in corpus.RULE_CASES:
        request = RequestInfo(auth=ann, body={**body, "link": "not a url"}, method="PATCH")
        answers = _on_both(
            dbs,
            lambda d, rule=rule, request=request: compile_filter(
                rule, USER_COLLECTIONS["posts"], lookup, request, mode="rule", dialect=d
            ),
            one,
            record_id,
        )
        if answers[0] != answers[1]:
            differences.append(f"{rule!r} body={body}\n  sqlite: {answers[0]}\n  postgresql: {answers[1]}")
    _report(differences, len(corpus.RULE_CASES))


# -- where the engines' types differ ------------------------------------------------------------

#: comparisons across types: SQLite converts or orders (NULL < numbers < texts); PostgreSQL
#: would refuse most of them without the dialect's typing
TYPE_FILTERS: list[str] = [
    "views > title",
    "views < title",
    "title > views",
    "title <= views",
    "views != title",
    'views = "10 "',
    'views = " 10"',
    'views > "1e1"',
    'views = "+10"',
    'views = ".5e1"',
    'views < "abc"',
    'views >= "abc"',
    'views != "abc"',
    'views = "0x10"',
    'views = "1e999"',
    "published > 0",
    "published < 1",
    'published ~ "1"',
    "published = views",
    "published < views",
    "published != null",
    'meta.n > "1"',
    'meta.n = "1"',
    "meta.k < 5",
    "meta.k > 5",
    'meta.n < "a"',
    'meta.arr = "[1,2]"',
    "meta.o ~ 'x'",
    'meta.k ~ "V"',
    "meta.n ~ 1",
    "meta.n = views",
    "meta.n < views",
    "views > meta.n",
    "meta.k = title",
    "meta.k != title",
    "title = meta.k",
    "title > meta.n",
    "meta.n = published",
    "meta = published",
    "meta.n = true",
    "meta = 1",
    "meta = false",
    "meta > 40",
    'meta < "q"',
    "meta:lower ~ 'PLAIN'",
    'tags > "["',
    "tags = 5",
    "tags:length > views",
    "labels:length = published",
    "tags:each > 'b'",
    "labels.weight > labels.name",
    "loc.lon > '20'",
    'loc = \'{"lon":0,"lat":0}\'',
    "when > 5",
    "when = 2024",
    "created > @now",
    "@now > when",
    "@second < 60",
    '@year > "2000"',
    "@month = title",
    "@weekday < 7 && @hour < 24",
    "title ~ 10",
    "views ~ 7.25",
    "views ~ title",
    'title ~ "%a\\\\"',
    'title ~ "%\\\\\\\\"',
    'title ~ "%É%"',
    'title ~ "%é%"',
    'title:lower = "ünïcode 50% off_x"',
    'title:lower = "Ünïcode 50% off_x"',
    'title > "Z"',
    'title < "a"',
    'title > "Ü"',
    "author.age > author.name",
    "author.verified = author.emailVisibility",
    "author.verified > 0",
    'comments_via_post.score > "2"',
    "comments_via_post.score ?> title",
    'geoDistance(loc.lon, loc.lat, "23.32", "42.69") < 10',
    "geoDistance(loc.lon, loc.lat, meta.n, meta.n) > 0",
    "geoDistance(title, views, 0, 0) > 0",
    'strftime("%Y-%m-%d %H:%M", 2460000.25) = "2023-02-24 18:00"',
    'strftime("%Y-%m-%d", meta.k) != ""',
    'strftime("%Y-%m-%d", when, "+1 month") = "2024-03-02"',
    'strftime("%Y-%m-%d", when, "-1 month", "start of month") > "2023"',
    'strftime("%H", when, "+90 minutes") = "01"',
    'strftime("%Y", @now) = strftime("%Y")',
    'strftime("%Y", "now") = strftime("%Y", @now)',
]

#: ``{:name}`` values of every type against columns of every kind
PLACEHOLDER_VALUES: list[Any] = [10, 10.0, 7.25, "10", "abc", "", True, False, None, [1, 2], {"k": "v"}, 2**70]
PLACEHOLDER_FILTERS: list[str] = [
    "views = {:v}",
    "views > {:v}",
    "title = {:v}",
    "title < {:v}",
    "published = {:v}",
    "meta = {:v}",
    "meta.n = {:v}",
    "meta.k != {:v}",
    "tags ?= {:v}",
    "tags:each ?= {:v}",
    "title ~ {:v}",
    "{:v} = {:v}",
]

#: sorts on every kind of column, JSON values of mixed types included
TYPE_SORTS: list[str] = [
    "meta",
    "-meta",
    "meta.k",
    "-meta.n",
    "published",
    "-published",
    "loc",
    "tags",
    "-files",
    "when",
    "category",
    "link",
    "-body",
    "title:lower",
    "-author.age",
    "author.verified",
    "-tags:length",
]

#: request values of several types (the body as a record form submits it)
REQUEST_CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("@request.body.views > views", {"views": "6"}, {}),
    ("@request.body.views > views", {"views": 6}, {}),
    ("@request.body.title = title", {"title": 10}, {}),
    ("@request.body.title = views", {"title": "10"}, {}),
    ("@request.body.published = published", {"published": True}, {}),
    ("@request.body.published = published", {"published": "true"}, {}),
    ("@request.body.meta.k = meta.k", {"meta": {"k": "v"}}, {}),
    ("@request.body.meta.n > meta.n", {"meta": {"n": 2}}, {}),
    ("@request.body.meta = meta", {"meta": {"k": ""}}, {}),
    ('@request.body.title = 5', {"title": 5}, {}),
    ('@request.body.title = "5"', {"title": 5.0}, {}),
    ('@request.body.x > 5', {"x": [1]}, {}),
    ("@request.body.tags:each ?= tags:each", {"tags": ["b", "x"]}, {}),
    ("@request.body.tags:each > 'a'", {"tags": ["b", "c"]}, {}),
    ("@request.body.labels:length = labels:length", {"labels": ["x", "y"]}, {}),
    ("@request.body.tags:each = 1", {"tags": [1, 1.0]}, {}),
    ("@request.body.tags:each ?> 1", {"tags": [1, 2.5, True, "3"]}, {}),
    ("@request.body.tags:each ?= views", {"tags": ["10", 5]}, {}),
    ("@request.body.tags:each ?= title", {"tags": [10, "second"]}, {}),
    ("@request.query.n = views", {}, {"n": "10"}),
    ("@request.query.n > 9", {}, {"n": "10"}),
    ("@request.query.n ~ views", {}, {"n": "10"}),
    ("@request.query.n < title", {}, {"n": "10"}),
    ("@request.body.when < when", {"when": "2024-06-01 00:00:00.000Z"}, {}),
    ("@request.body.views:changed = true", {"views": 10.0}, {}),
    ("@request.body.meta:changed = false", {"meta": None}, {}),
    ("@request.body.published:changed = true", {"published": 1}, {}),
]


def test_type_corners_match_sqlite(dbs: Dbs) -> None:
    cases = [(SU_COLLECTIONS, "posts", e, _superuser(e), "") for e in TYPE_FILTERS]
    cases += [(SU_COLLECTIONS, "posts", "", _superuser(""), s) for s in TYPE_SORTS]
    _report(_differences(dbs, cases), len(cases))


def test_placeholders_match_sqlite(dbs: Dbs) -> None:
    lookup = support.make_lookup(SU_COLLECTIONS)
    differences = []
    for expression in PLACEHOLDER_FILTERS:
        for v in PLACEHOLDER_VALUES:
            answers = _on_both(
                dbs,
                lambda d, e=expression, v=v: compile_filter(
                    e, SU_COLLECTIONS["posts"], lookup, _superuser(""), params={"v": v}, dialect=d
                ),
            )
            if answers[0] != answers[1]:
                differences.append(f"{expression} v={v!r}\n  sqlite: {answers[0]}\n  postgresql: {answers[1]}")
    _report(differences, len(PLACEHOLDER_FILTERS) * len(PLACEHOLDER_VALUES))


def test_request_values_match_sqlite(dbs: Dbs) -> None:
    lookup = support.make_lookup(SU_COLLECTIONS)
    ann = pg.auth_record(SU_COLLECTIONS, support.A1)
    differences = []
    for rule, body, query in REQUEST_CASES:
        request = RequestInfo(auth=ann, body=body, query=query, method="PATCH")
        answers = _on_both(
            dbs,
            lambda d, rule=rule, request=request: compile_filter(
                rule, SU_COLLECTIONS["posts"], lookup, request, mode="rule", dialect=d
            ),
        )
        if answers[0] != answers[1]:
            differences.append(f"{rule!r} body={body} query={query}\n  sqlite: {answers[0]}\n  postgresql: {answers[1]}")
    _report(differences, len(REQUEST_CASES))


# -- strftime, value by value -----------------------------------------------------------------

STRFTIME_FORMATS = ["%" + c for c in "deFfHIjJklmMpPRsSTuwWUVGgY"] + ["%%", "x%Yy", "", "%Q", "%", "%Y-%m-%d %H:%M:%f"]
STRFTIME_TIMES: list[Any] = [
    "2024-01-31",
    "2024-01-31 10:20",
    "2024-01-31T10:20:30.123Z",
    "2024-02-29 23:59:59.999Z",
    "2024-13-01",
    "2024-01-31 10:20:30+02:00",
    "2023-12-31 22:30:00-01:45",
    " 2024-01-01 ",
    "2021-01-03 12:00:00",
    "9999-12-31 23:59:59.999",
    "",
    "x",
    None,
    "2024-01-01 ",
    "2024-01-01 10:20:30.123456",
    "2024-01-01 10:20:30.9999",
    "2460000.5",
    " 2460000.25 ",
    "10:20",
    "23:59:59.5",
    2460000.25,
    1721790.5,
    "0002-12-31 23:00:00",
]
STRFTIME_MODIFIERS: list[list[str]] = [
    [],
    ["+1 day"],
    ["-2 hours"],
    ["+1.5 days"],
    ["+1 month"],
    ["-1 month"],
    ["+13 months"],
    ["+1 year"],
    ["-1 years", "start of month"],
    ["start of year"],
    ["start of day"],
    ["weekday 0"],
    ["weekday 3"],
    ["utc"],
    ["bogus"],
    ["+30 seconds"],
    ["+90 minutes", "start of day", "+1 hour"],
    ["+1000000000 days"],
    ["+1.5 months"],
    ["-1.5 months"],
    ["+1.25 years"],
    ["-0.5 year"],
    ["+01:30"],
    ["-00:00:30.5"],
    ["ceiling"],
]


def _strftime_sqlite(dbs: Dbs, fmt: str, time: Any, modifiers: list[str]) -> Any:
    marks = ", ".join("?" for _ in range(2 + len(modifiers)))
    return dbs.sqlite.execute(f"SELECT strftime({marks})", [fmt, time, *modifiers]).fetchone()[0]


def _strftime_postgres(dbs: Dbs, fmt: str, time: Any, modifiers: list[str]) -> Any:
    values: list[Any] = []

    def bind(value: Any) -> str:
        values.append(value)
        return f"\x00{len(values) - 1}\x00"

    if time is None:
        time_sql = ("NULL", "null")
    elif isinstance(time, str):
        time_sql = (POSTGRES.param(bind(time), "str"), "str")
    else:
        time_sql = (POSTGRES.param(bind(time), "real"), "real")
    sql = POSTGRES.strftime_typed(fmt, time_sql, modifiers, bind)
    params: list[Any] = []

    def marker(match: re.Match[str]) -> str:
        params.append(values[int(match.group(1))])
        return "?"

    sql = re.sub("\x00([0-9]+)\x00", marker, sql)
    return pg.run(dbs.postgres, f"SELECT {sql}", params)[0][0]


def test_strftime_matches_sqlite(dbs: Dbs) -> None:
    cases = [(f, t, []) for f in STRFTIME_FORMATS for t in STRFTIME_TIMES if (f, t) != ("%J", "9999-12-31 23:59:59.999")]
    cases += [("%Y-%m-%d %H:%M:%f", t, m) for t in STRFTIME_TIMES for m in STRFTIME_MODIFIERS]
    cases += [("%Y-%m-%d %H:%M:%S", 1700000000, ["unixepoch"]), ("%s", "2024-01-31 10:20:30", [])]
    differences = []
    for fmt, time, modifiers in cases:
        expected = _strftime_sqlite(dbs, fmt, time, modifiers)
        try:
            got = _strftime_postgres(dbs, fmt, time, modifiers)
        except Exception as exc:  # noqa: BLE001 - an SQL error is a difference to report
            got = f"sql error: {str(exc).splitlines()[0]}"
        if got != expected:
            differences.append(f"strftime({fmt!r}, {time!r}, {modifiers}): sqlite {expected!r}, postgresql {got!r}")
    _report(differences, len(cases))


# -- the documented differences (docs/scale-out.md, "Differences from SQLite") ---------------------


@pytest.mark.parametrize(
    ("args", "sqlite", "postgresql"),
    [
        # years before 1 (year 0, Julian days before 0001-01-01) are NULL on PostgreSQL
        (("%Y", "0000-06-01", []), "0000", None),
        (("%Y", 0, []), "-4713", None),
        (("%Y-%m-%d", "0001-01-01", ["-1 day"]), "0000-12-31", None),
        # an impossible day of the month rolls over before a month or year is added
        (("%Y-%m-%d", "2024-02-30", ["+1 month"]), "2024-03-30", "2024-04-01"),
        # %J: the exact value rounded to 16 digits, not the nearest double's
        (("%J", "9999-12-31 23:59:59.999", []), "5373484.499999989", "5373484.499999988"),
        # modifiers pbk does not translate are NULL
        (("%Y-%m-%d", "1700000000", ["auto"]), "2023-11-14", None),
        (("%Y-%m-%d", "2024-01-31", ["+1 month", "floor"]), "2024-02-29", None),
        (("%Y-%m-%d %H:%M:%f", "2024-01-01 10:20:30", ["subsec"]), "2024-01-01 10:20:30.000", None),
    ],
)
def test_strftime_differences(dbs: Dbs, args: tuple[str, Any, list[str]], sqlite: Any, postgresql: Any) -> None:
    assert _strftime_sqlite(dbs, *args) == sqlite
    assert _strftime_postgres(dbs, *args) == postgresql


@pytest.mark.parametrize(
    ("expression", "sqlite", "postgresql"),
    [
        # a text with an exponent of three digits or more stays a text next to a number field
        ('views > "-1e100"', support.P[:8], []),
        ('views < "1e100"', support.P[:8], support.P[:8]),
        # or of 200 characters or more
        ('views > "-' + "9" * 250 + '"', support.P[:8], []),
        # (the same as SQLite with one or two digits)
        ('views > "-1e10"', support.P[:8], support.P[:8]),
    ],
)
def test_numeric_text_differences(dbs: Dbs, expression: str, sqlite: list[str], postgresql: list[str]) -> None:
    args = (SU_COLLECTIONS, "posts", expression, _superuser(expression))
    assert _list(dbs, "sqlite", *args) == ("ok", sqlite)
    assert _list(dbs, "postgresql", *args) == ("ok", postgresql)


def test_json_number_text_difference(dbs: Dbs) -> None:
    """A JSON number read as a text keeps its JSON spelling on PostgreSQL (``1e2``); SQLite
    writes the number it parsed (``100.0``). As numbers they are equal on both, out-of-range
    ones included."""
    table = Collection(
        id="pbc_jsonnumbers", name="jsonnumbers", type="base",
        fields=[Field({"name": "id", "type": "text", "primaryKey": True}), Field({"name": "data", "type": "json"})],
    )
    dbs.sqlite.execute('CREATE TABLE "jsonnumbers" ("id" TEXT PRIMARY KEY, "data" JSON DEFAULT NULL)')
    big = "1" + "0" * 400
    rows = f"""('n1', '{{"n":1e2}}'), ('n2', '{{"n":1e400}}'), ('n3', '{{"n":-1e-400}}'), ('n4', '{{"n":1e-310}}'), ('n5', '{{"n":{big}}}')"""
    dbs.sqlite.execute(f'INSERT INTO "jsonnumbers" VALUES {rows}')
    dbs.postgres.execute(pg.pg_ddl(table))
    dbs.postgres.execute(f'INSERT INTO "jsonnumbers" (id, data) VALUES {rows}')
    collections = {**SU_COLLECTIONS, "jsonnumbers": table}
    for expression, sqlite, postgresql in [
        ("data.n = 100", ["n1"], ["n1"]),
        ('data.n ~ "100"', ["n1"], ["n5"]),
        # beyond the double range: no error, the same order as SQLite (Inf, 0)
        ("data.n > 1000", ["n2", "n5"], ["n2", "n5"]),
        ("data.n = 0", ["n3"], ["n3"]),
        ("data.n > 0 && data.n < 1", ["n4"], ["n4"]),
    ]:
        args = (collections, "jsonnumbers", expression, _superuser(expression))
        assert _list(dbs, "sqlite", *args) == ("ok", sqlite), expression
        assert _list(dbs, "postgresql", *args) == ("ok", postgresql), expression


# -- random filters ----------------------------------------------------------------------------


@settings(max_examples=int(os.environ.get("PBK_PG_EXAMPLES", "150")), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(expression=property_tests.expressions, request_kind=st.sampled_from(["superuser", "guest", "ann"]), mode=st.sampled_from(["filter", "rule"]))
def test_random_filters_match_sqlite(dbs: Dbs, expression: str, request_kind: str, mode: str) -> None:
    """test_filter_property's grammar: PostgreSQL answers what SQLite answers, never an SQL
    error; a text PostgreSQL cannot hold (NUL) is a 400."""
    request = property_tests.request_for(request_kind)
    lookup = support.make_lookup(SU_COLLECTIONS)
    answers = _on_both(
        dbs, lambda d: compile_filter(expression, SU_COLLECTIONS["posts"], lookup, request, mode=mode, dialect=d)
    )
    if answers[1] == ("error", 400) and "\x00" in expression:
        return
    if "strftime(" in expression and answers[0][0] == answers[1][0] == "ok":
        return  # strftime of any text: years before 1 differ (test_strftime_differences)
    assert answers[0] == answers[1], expression

@pytest.mark.parametrize(
    ("expression", "body"),
    [('title = "a\x00b"', {}), ('strftime("%Y\x00", when) = ""', {}), ("@request.body.tags:each ?= tags:each", {"tags": ["a\x00"]})],
)
def test_nul_in_a_text_is_a_400(dbs: Dbs, expression: str, body: dict[str, Any]) -> None:
    """PostgreSQL's texts cannot hold NUL: a filter or request value with one is a 400 there
    (SQLite runs it)."""
    request = RequestInfo(is_superuser=True, body=body)
    lookup = support.make_lookup(SU_COLLECTIONS)
    sql = compile_filter(expression, SU_COLLECTIONS["posts"], lookup, request, mode="rule")
    dbs.sqlite.execute(f'SELECT main.id FROM "posts" AS main WHERE {sql.sql}', sql.params).fetchall()
    with pytest.raises(FilterError) as info:
        compile_filter(expression, SU_COLLECTIONS["posts"], lookup, request, mode="rule", dialect=POSTGRES)
    assert info.value.status == 400
