"""Handlers limited to some collections by a predicate (``collections=has_files``), and
``has(name, collection)``: answers follow the collection objects a producer passes (a new one
per schema version) and the chain's changes, asking the predicate once per version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pbk.events import EventBus
from pbk_sdk.events import Event, RecordEvent


class Collection:
    """A collection as a producer holds it: a new object whenever its schema changes."""

    def __init__(self, name: str, fields: list[str], *, id: str = "") -> None:
        self.id = id or f"pbc_{name}"
        self.name = name
        self.type = "base"
        self.fields = list(fields)


#: The collections ``has_files`` was asked about, in order.
asked: list[str] = []


def has_files(collection: Any) -> bool:
    asked.append(collection.name)
    return "attachment" in collection.fields


def recorder(label: str, log: list[str]) -> Any:
    async def handler(e: Event) -> None:
        log.append(label)
        await e.next()

    return handler


async def test_a_predicate_limits_a_handler_to_the_collections_it_admits() -> None:
    bus, log = EventBus(), []
    bus.on("record_create", recorder("files", log), collections=has_files)
    bus.on("record_create", recorder("everyone", log))
    posts, docs = Collection("posts", ["title"]), Collection("docs", ["attachment"])

    async def write(collection: Collection) -> list[str]:
        log.clear()
        await bus.trigger("record_create", RecordEvent(collection=collection, record={}), default=None)
        return list(log)

    assert await write(posts) == ["everyone"]
    assert await write(docs) == ["files", "everyone"]
    assert bus.has("record_create", posts) and bus.has("record_create", docs)


async def test_has_answers_per_collection_and_asks_the_predicate_once_per_schema_version() -> None:
    bus = EventBus()
    asked.clear()
    subscription = bus.on("record_validate", recorder("files", []), collections=has_files)
    posts = Collection("posts", ["title"])
    assert not bus.has("record_validate", posts)
    assert not bus.has("record_validate", posts)
    assert asked == ["posts"], "the answer is kept for this version of posts"
    assert bus.has("record_validate"), "without a collection: any handler at all"

    posts_with_files = Collection("posts", ["title", "attachment"], id=posts.id)  # the schema changed
    assert bus.has("record_validate", posts_with_files)
    renamed = Collection("articles", ["title", "attachment"], id=posts.id)
    assert bus.has("record_validate", renamed)
    assert asked == ["posts", "posts", "articles"]

    posts.fields = ["title", "attachment"]  # a field list replaced in place is asked again
    assert bus.has("record_validate", posts)

    subscription.remove()
    assert not bus.has("record_validate", posts_with_files)
    assert not bus.has("record_validate")


async def test_a_new_handler_is_seen_by_collections_already_answered() -> None:
    bus = EventBus()
    posts = Collection("posts", ["title"])
    bus.on("record_create", recorder("files", []), collections=has_files)
    assert not bus.has("record_create", posts)
    bus.on("record_create", recorder("posts", []), collections=["posts"])
    assert bus.has("record_create", posts)
    assert not bus.has("record_create", Collection("users", ["email"]))


async def test_a_predicate_handler_skips_events_about_no_collection() -> None:
    @dataclass(eq=False)
    class Named(Event):
        log: list[str] = field(default_factory=list)

        def targets(self) -> tuple[str, ...]:
            return ("pbc_posts", "posts")

    bus = EventBus()
    event = Named()
    bus.on("named", recorder("predicate", event.log), collections=has_files)
    bus.on("named", recorder("by-name", event.log), collections=["posts"])

    async def default(e: Named) -> None:
        e.log.append("default")

    await bus.trigger("named", event, default)
    assert event.log == ["by-name", "default"]


async def test_an_unhashable_collection_is_answered_every_time() -> None:
    @dataclass
    class Plain:  # a dataclass compares by value, so it is not hashable
        id: str
        name: str
        fields: list[str]
        type: str = "base"

    bus = EventBus()
    bus.on("record_create", recorder("files", []), collections=has_files)
    assert bus.has("record_create", Plain("pbc_1", "docs", ["attachment"]))
    assert not bus.has("record_create", Plain("pbc_2", "posts", ["title"]))


async def test_once_every_handler_unsubscribed_has_is_false_with_or_without_a_collection() -> None:
    """The fast write paths stay off only while a handler listens: a chain emptied by removals
    (targeted and untargeted handlers alike) turns them back on."""
    bus = EventBus()
    posts = Collection("posts", ["attachment"])
    subscriptions = [
        bus.on("record_update", recorder("files", []), collections=has_files),
        bus.on("record_update", recorder("posts", []), collections=["posts"]),
        bus.on("record_update", recorder("everyone", [])),
    ]
    assert bus.has("record_update") and bus.has("record_update", posts)
    for subscription in subscriptions:
        subscription.remove()
    assert not bus.has("record_update")
    assert not bus.has("record_update", posts)
    assert bus.handlers("record_update") == ()
