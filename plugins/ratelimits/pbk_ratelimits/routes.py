"""Which requests are about a collection, and under which tags PocketBase counts them.

PocketBase counts a request to a collection's records, sign-in flows or files under the labels
``<collection>:<tag>`` and ``*:<tag>`` before its path labels, and keys the counter by the
collection and the route rather than by the rule. The limiter reads the request's method and
path here, the routes being PocketBase's public API; no plugin has to tag its requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Tags by (method, what follows ``/api/collections/{collection}/``), as PocketBase binds them.
COLLECTION_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "auth-methods"): ("listAuthMethods",),
    ("POST", "auth-refresh"): ("authRefresh",),
    ("POST", "auth-with-password"): ("authWithPassword", "auth"),
    ("POST", "auth-with-oauth2"): ("authWithOAuth2", "auth"),
    ("POST", "request-otp"): ("requestOTP",),
    ("POST", "auth-with-otp"): ("authWithOTP", "auth"),
    ("POST", "request-password-reset"): ("requestPasswordReset",),
    ("POST", "confirm-password-reset"): ("confirmPasswordReset",),
    ("POST", "request-verification"): ("requestVerification",),
    ("POST", "confirm-verification"): ("confirmVerification",),
    ("POST", "request-email-change"): ("requestEmailChange",),
    ("POST", "confirm-email-change"): ("confirmEmailChange",),
    ("GET", "records"): ("list",),
    ("POST", "records"): ("create",),
    ("GET", "records/{id}"): ("view",),
    ("PATCH", "records/{id}"): ("update",),
    ("DELETE", "records/{id}"): ("delete",),
}
#: Tags PocketBase checks only after refusing a view collection (which has no such action).
WRITES = frozenset({"create", "update", "delete"})

_COLLECTION_PATH = re.compile(r"/api/collections/([^/]+)/(records/[^/]+|[^/]+)")
_FILE_PATH = re.compile(r"/api/files/([^/]+)/[^/]+/[^/]+")


@dataclass(frozen=True, slots=True)
class CollectionRoute:
    collection: str  # as the path names it: the name or the id
    route: str  # the route's identity, part of the counter's key
    tags: tuple[str, ...]


def collection_route(method: str, path: str) -> CollectionRoute | None:
    """The collection route ``method path`` reaches, if any (HEAD is GET's, as in the router)."""
    method = "GET" if method == "HEAD" else method
    if found := _COLLECTION_PATH.fullmatch(path):
        rest = found[2]
        shape = "records/{id}" if rest.startswith("records/") else rest
        tags = COLLECTION_ROUTES.get((method, shape))
        return CollectionRoute(found[1], f"{method} {shape}", tags) if tags else None
    if method == "GET" and (found := _FILE_PATH.fullmatch(path)):
        return CollectionRoute(found[1], "GET file", ("file",))
    return None
