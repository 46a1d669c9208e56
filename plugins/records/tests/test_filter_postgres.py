"""The filter compiler's PostgreSQL dialect against its SQLite dialect, on the same rows.

The collections and rows of ``test_filter_support`` live in an SQLite file (PocketBase's
layout) and in a fresh PostgreSQL database (pbk's PostgreSQL layout). Every filter, sort and
rule of the PocketBase differential corpus (``test_filter_differential``, whose SQLite answers
are PocketBase's) is compiled with both dialects and run on both databases: the ids, and
their order, must be the same, and a filter SQLite refuses PostgreSQL must refuse alike.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pbk_records.filter import (
    POSTGRES,
    SQLITE,
    FilterError,
    RequestInfo,
    compile_filter,
    compile_sort,
    dialect_for,
)
from pbk_records.schema import Collection

try:
    from . import test_filter_differential as corpus
    from . import test_filter_postgres_support as pg
    from . import test_filter_support as support
except ImportError:  # tests/ is not a package
    import test_filter_differential as corpus
    import test_filter_postgres_support as pg
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
    order_sql = order.sql if order and order.sql else "main.rowid"
    where_sql, params = where.sql, list(where.params)
    if order is not None and order.where is not None:
        where_sql = f"({where_sql}) AND ({order.where.sql})"
        params += order.where.params
    params += order.params if order else []
    query = f'SELECT main.id FROM "{coll.name}" AS main WHERE {where_sql} ORDER BY {order_sql}'
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
    differences = []
    for rule, record_id, body in corpus.RULE_CASES:
        request = RequestInfo(auth=ann, body={**body, "link": "not a url"}, method="PATCH")
        answers = []
        for engine in ("sqlite", "postgresql"):
            try:
                sql = compile_filter(
                    rule, USER_COLLECTIONS["posts"], lookup, request, mode="rule",
                    dialect=dialect_for(engine),
                )
                query = f'SELECT 1 FROM "posts" AS main WHERE main.id = ? AND ({sql.sql})'
                answers.append(("ok", bool(_run(dbs, engine, query, [record_id, *sql.params]))))
            except FilterError as exc:
                answers.append(("error", exc.status))
            except Exception as exc:  # noqa: BLE001 - an SQL error is a difference to report
                answers.append(("sql error", str(exc).splitlines()[0]))
        if answers[0] != answers[1]:
            differences.append(f"{rule!r} body={body}\n  sqlite: {answers[0]}\n  postgresql: {answers[1]}")
    _report(differences, len(corpus.RULE_CASES))
