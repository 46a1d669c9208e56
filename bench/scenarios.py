"""The scenario list. Each load scenario turns a seeded server into a request spec.

Scenarios run in this order, every round, against both servers. To add one, add a
``LoadScenario`` here; the report and the targets pick the new name up from ``TARGETS``.
Realtime fan-out (SSE subscribers waiting for an event, which wrk cannot drive) has its own
runner: ``python -m bench.realtime`` (``bench/realtime.py``).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
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
    kind: Literal["read", "write", "auth"]


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


def _signed_in(seeded: Seeded, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": seeded.users[0]["token"], "Content-Type": content_type}


def _create(seeded: Seeded) -> RequestSpec:
    suffix = '","body":"' + "a body " * 20 + '","views":1}'
    return RequestSpec("POST", ["/api/collections/inbox/records"], _signed_in(seeded),
                       ('{"title":"created ', suffix))


def _create_relation(seeded: Seeded) -> RequestSpec:
    suffix = '",' + json.dumps({"body": "a body " * 20, "views": 1, "published": True,
                                "author": seeded.users[0]["id"], "tags": ["go", "web"]})[1:]
    return RequestSpec("POST", ["/api/collections/linked/records"], _signed_in(seeded),
                       ('{"title":"created post ', suffix))


UPLOAD_BYTES = 100 * 1024
BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"


def multipart_body(title: str, filename: str, size: int) -> str:
    """A multipart/form-data body: a text part and one file part of ``size`` ASCII bytes."""
    data = (string.ascii_letters * (size // len(string.ascii_letters) + 1))[:size]
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n{data}\r\n--{BOUNDARY}--\r\n")


def _create_file(seeded: Seeded) -> RequestSpec:
    return RequestSpec("POST", ["/api/collections/uploads/records"],
                       _signed_in(seeded, f"multipart/form-data; boundary={BOUNDARY}"),
                       multipart_body("an upload", "report.txt", UPLOAD_BYTES))


def _update(seeded: Seeded) -> RequestSpec:
    paths = [f"/api/collections/items/records/{i}" for i in seeded.item_ids[1:]]
    return RequestSpec("PATCH", paths, _signed_in(seeded), ('{"title":"updated","views":', "}"))


def _score_hot(seeded: Seeded) -> RequestSpec:
    return RequestSpec("PATCH", [f"/api/collections/items/records/{seeded.item_ids[0]}"],
                       _signed_in(seeded), '{"score+":1}')


def _delete(seeded: Seeded) -> RequestSpec:
    return RequestSpec("DELETE", [], _signed_in(seeded), id_path="/api/collections/trash/records/")


BATCH_SIZE = 50


def _batch(seeded: Seeded) -> RequestSpec:
    item = {"method": "POST", "url": "/api/collections/inbox/records",
            "body": {"title": "batched", "body": "a body " * 20, "views": 1}}
    return RequestSpec("POST", ["/api/batch"], _signed_in(seeded),
                       json.dumps({"requests": [item] * BATCH_SIZE}))


def _auth_password(seeded: Seeded) -> RequestSpec:
    from .seed import USER_PASSWORD

    user = seeded.users[-1]
    body = json.dumps({"identity": user["email"], "password": USER_PASSWORD})
    return RequestSpec("POST", ["/api/collections/users/auth-with-password"],
                       {"Content-Type": "application/json"}, body)


LOAD_SCENARIOS: list[LoadScenario] = [
    LoadScenario("view", "view one record by id (public rule), 32 conns", 32, _view, "read"),
    LoadScenario("list_filter_sort", "list a page, filter + sort over all posts, 32 conns", 32,
                 _list_filter_sort, "read"),
    LoadScenario("list_expand_owner", "list + expand=author under an owner rule (user token), 32 conns",
                 32, _list_expand_owner, "read"),
    LoadScenario("create_c8", "create in a plain collection, 8 conns", 8, _create, "write"),
    LoadScenario("create_c32", "create in a plain collection, 32 conns", 32, _create, "write"),
    LoadScenario("create_relation", "create with a relation and a multi-select, 8 conns", 8,
                 _create_relation, "write"),
    LoadScenario("create_file", "create with a 100 KB file (multipart), 8 conns", 8, _create_file, "write"),
    LoadScenario("update", "PATCH two fields, a different record each time, 8 conns", 8, _update, "write"),
    LoadScenario("score_hot", "PATCH {\"score+\": 1} on one hot record, 16 conns", 16, _score_hot, "write"),
    LoadScenario("delete", "DELETE a different seeded record each time, 8 conns", 8, _delete, "write"),
    LoadScenario("batch50", "POST /api/batch of 50 creates, 8 conns", 8, _batch, "write"),
    LoadScenario("auth_password", "auth-with-password (bcrypt cost 10), 8 conns", 8, _auth_password, "auth"),
]

#: The scale lists' filter: ``list_filter_sort``'s, narrowed by an indexed range (1% of the rows),
#: as a list over a million records would be; without it (and still with a tenth of the rows),
#: PocketBase's count takes longer than a measurement at 8 connections.
SCALE_FILTER = "views >= 9900 && title ~ 'lorem'"


def _scale_list(extra: str) -> Callable[[Seeded], RequestSpec]:
    def build(seeded: Seeded) -> RequestSpec:
        query = f"?page=1&perPage=30&filter={quote(SCALE_FILTER)}&sort={quote(LIST_SORT)}{extra}"
        return RequestSpec("GET", [f"/api/collections/{SCALE_COLLECTION}/records{query}"])

    return build


def _scale_expand(seeded: Seeded) -> RequestSpec:
    return RequestSpec("GET", [(f"/api/collections/{SCALE_COLLECTION}/records?page=1&perPage=30"
                               "&sort=-created&expand=author")])


def _scale_view(seeded: Seeded) -> RequestSpec:
    return RequestSpec("GET", [f"/api/collections/{SCALE_COLLECTION}/records/{i}" for i in seeded.post_ids])


def _scale_create(seeded: Seeded) -> RequestSpec:
    suffix = '",' + json.dumps({"body": "a body " * 20, "views": 1, "published": True,
                                "author": seeded.users[0]["id"], "tags": ["go", "web"]})[1:]
    return RequestSpec("POST", [f"/api/collections/{SCALE_COLLECTION}/records"], _signed_in(seeded),
                       ('{"title":"created post ', suffix))


#: The scale run (``python -m bench --scale``, bench/scale.py): the same requests on a collection
#: of 10,000 and of 1,000,000 records.
SCALE_COLLECTION = "big"
SCALE_SCENARIOS: list[LoadScenario] = [
    LoadScenario("scale_list_filter_sort", "list, filter + sort, with the total count, 8 conns", 8,
                 _scale_list(""), "read"),
    LoadScenario("scale_list_skiptotal", "the same list with skipTotal=1, 8 conns", 8,
                 _scale_list("&skipTotal=1"), "read"),
    LoadScenario("scale_list_expand", "list sorted by -created with expand=author, 8 conns", 8,
                 _scale_expand, "read"),
    LoadScenario("scale_view", "view by id, 200 ids spread over the table, 8 conns", 8, _scale_view, "read"),
    LoadScenario("scale_create", "create (a relation and a multi-select), 8 conns", 8, _scale_create, "write"),
]

#: Measured outside the load loop: RSS and PSS once seeded and idle, start-up to a healthy
#: /api/health. PSS splits pages shared between processes (pbk's forked workers share the
#: imported code and data with their supervisor) where a sum of RSS counts them once per process.
SPECIAL_SCENARIOS = ["idle_rss", "idle_pss", "startup"]

#: Issue 14's targets, pbk against PocketBase as installed (median paired ratios).
THROUGHPUT_TARGET = {"read": 2.5, "write": 1.5, "auth": 1.2}


def targets(scenario: LoadScenario) -> list[tuple[str, str, float]]:
    """A load scenario's targets: its kind's throughput ratio, and a p99 at most PocketBase's."""
    return [("throughput", "ratio_ge", THROUGHPUT_TARGET[scenario.kind]), ("p99", "p99_le", 1.0)]


#: name -> (metric, comparison, bound). "ratio_ge": median paired pbk/PocketBase throughput
#: ratio >= bound; "p99_le": median paired p99 ratio <= bound; "ratio_le": value ratio <= bound;
#: "abs_lt": pbk's median value < bound (seconds). ``idle_rss`` is shown without a target:
#: issue 14 sets one on PSS, which counts pages the workers share once.
TARGETS: dict[str, list[tuple[str, str, float]]] = {
    **{s.name: targets(s) for s in [*LOAD_SCENARIOS, *SCALE_SCENARIOS]},
    "idle_pss": [("rss", "ratio_le", 1.5)],
    "startup": [("seconds", "abs_lt", 0.5)],
}
