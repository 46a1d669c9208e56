"""The scenario list. Each load scenario turns a seeded server into a request spec.

Scenarios run in this order, every round, against both servers. To add one, add a
``LoadScenario`` here; the report and the targets pick the new name up from ``TARGETS``.
Realtime fan-out (SSE subscribers waiting for an event, which wrk cannot drive) has its own
runner: ``python -m bench.realtime`` (``bench/realtime.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from .loadgen import RequestSpec
from .seed import Seeded

LIST_FILTER = "published = true && title ~ 'lorem'"
LIST_SORT = "-views,title"


@dataclass(frozen=True)
class LoadScenario:
    name: str
    title: str
    connections: int
    build: Callable[[Seeded], RequestSpec]


def _view(seeded: Seeded) -> RequestSpec:
    ids = seeded.post_ids[:: max(1, len(seeded.post_ids) // 200)][:200]
    return RequestSpec("GET", [f"/api/collections/posts/records/{i}" for i in ids])


def _list_filter_sort(seeded: Seeded) -> RequestSpec:
    query = f"?page=1&perPage=30&filter={quote(LIST_FILTER)}&sort={quote(LIST_SORT)}"
    return RequestSpec("GET", [f"/api/collections/posts/records{query}"])


def _list_expand_owner(seeded: Seeded) -> RequestSpec:
    # One user's token: the owner rule is part of the query; expand fetches the author.
    token = seeded.users[0]["token"]
    query = "?page=1&perPage=30&sort=-created&expand=author"
    return RequestSpec("GET", [f"/api/collections/notes/records{query}"], {"Authorization": token})


def _create(seeded: Seeded) -> RequestSpec:
    user = seeded.users[0]
    prefix = '{"title":"created post '
    suffix = "\"," + json.dumps({"body": "a body " * 20, "views": 1, "published": True,
                                 "author": user["id"], "tags": ["go", "web"]})[1:]
    return RequestSpec("POST", ["/api/collections/inbox/records"],
                       {"Authorization": user["token"], "Content-Type": "application/json"},
                       (prefix, suffix))


def _auth_password(seeded: Seeded) -> RequestSpec:
    from .seed import USER_PASSWORD

    user = seeded.users[-1]
    body = json.dumps({"identity": user["email"], "password": USER_PASSWORD})
    return RequestSpec("POST", ["/api/collections/users/auth-with-password"],
                       {"Content-Type": "application/json"}, body)


LOAD_SCENARIOS: list[LoadScenario] = [
    LoadScenario("view", "view one record by id (public rule), 32 conns", 32, _view),
    LoadScenario("list_filter_sort", "list a page, filter + sort over all posts, 32 conns", 32,
                 _list_filter_sort),
    LoadScenario("list_expand_owner", "list + expand=author under an owner rule (user token), 32 conns",
                 32, _list_expand_owner),
    LoadScenario("create_c8", "create a record, 8 conns", 8, _create),
    LoadScenario("create_c32", "create a record, 32 conns", 32, _create),
    LoadScenario("auth_password", "auth-with-password (bcrypt cost 10), 8 conns", 8, _auth_password),
]

#: Measured outside the load loop: RSS and PSS once seeded and idle, start-up to a healthy
#: /api/health. PSS splits pages shared between processes (pbk's forked workers share the
#: imported code and data with their supervisor) where a sum of RSS counts them once per process.
SPECIAL_SCENARIOS = ["idle_rss", "idle_pss", "startup"]


#: name -> (metric, comparison, bound). "ratio_ge": median paired pbk/PocketBase throughput
#: ratio >= bound; "p99_le": median paired p99 ratio <= bound; "ratio_le": value ratio <= bound;
#: "abs_lt": pbk's median value < bound (seconds).
TARGETS: dict[str, list[tuple[str, str, float]]] = {
    "view": [("throughput", "ratio_ge", 1.5), ("p99", "p99_le", 1.0)],
    "list_filter_sort": [("throughput", "ratio_ge", 1.5), ("p99", "p99_le", 1.0)],
    "list_expand_owner": [("throughput", "ratio_ge", 1.2), ("p99", "p99_le", 1.0)],
    "create_c8": [("throughput", "ratio_ge", 1.0)],
    "create_c32": [("throughput", "ratio_ge", 1.0)],
    "auth_password": [("throughput", "ratio_ge", 1.0)],
    "idle_rss": [("rss", "ratio_le", 2.0)],
    "idle_pss": [("rss", "ratio_le", 2.0)],
    "startup": [("seconds", "abs_lt", 0.5)],
}
