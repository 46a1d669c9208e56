"""The runtime event bus: ordered, removable, collection-targeted async handler chains."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from pbk.events import EventBus
from pbk_sdk.errors import ApiError, NotFoundError
from pbk_sdk.events import Event


@dataclass(eq=False)
class Thing(Event):
    """A small event with a payload, about one collection."""

    value: int = 0
    log: list[str] = field(default_factory=list)
    collection_id: str = "pbc_1"
    collection_name: str = "posts"
    reply: Any = None

    def targets(self) -> tuple[str, ...]:
        return (self.collection_id, self.collection_name)

    def answered(self) -> bool:
        return self.reply is not None


def recorder(label: str):
    async def handler(e: Thing) -> None:
        e.log.append(label)
        await e.next()

    handler.__qualname__ = f"handler_{label}"
    return handler


async def default_action(e: Thing) -> None:
    e.log.append("default")


async def test_handlers_run_lower_priority_first_and_equal_priorities_in_registration_order():
    bus = EventBus()
    bus.on("thing", recorder("late"), priority=10)
    bus.on("thing", recorder("first-at-0"))
    bus.on("thing", recorder("early"), priority=-5)
    bus.on("thing", recorder("second-at-0"))
    bus.on("thing", recorder("third-at-0"), priority=0)

    event = await bus.trigger("thing", Thing(), default_action)

    assert event.log == ["early", "first-at-0", "second-at-0", "third-at-0", "late", "default"]


async def test_a_handler_changes_the_payload_before_and_after_next():
    bus = EventBus()
    seen_by_default: list[int] = []

    async def outer(e: Thing) -> None:
        e.value += 1
        await e.next()
        e.value *= 10

    async def inner(e: Thing) -> None:
        e.value += 2
        await e.next()

    async def default(e: Thing) -> None:
        seen_by_default.append(e.value)

    bus.on("thing", outer)
    bus.on("thing", inner)
    event = await bus.trigger("thing", Thing(value=0), default)

    assert seen_by_default == [3]
    assert event.value == 30


async def test_the_default_action_runs_only_after_the_last_handler_calls_next():
    bus = EventBus()

    async def around(e: Thing) -> None:
        e.log.append("before")
        await e.next()
        e.log.append("after")

    bus.on("thing", around)
    event = await bus.trigger("thing", Thing(), default_action)

    assert event.log == ["before", "default", "after"]


async def test_a_handler_that_stops_the_chain_skips_later_handlers_and_the_default():
    bus = EventBus()

    async def stopper(e: Thing) -> None:
        e.log.append("stopper")
        e.reply = "handled here"

    bus.on("thing", recorder("a"))
    bus.on("thing", stopper)
    bus.on("thing", recorder("never"))

    event = await bus.trigger("thing", Thing(), default_action)

    assert event.log == ["a", "stopper"]


async def test_stopping_the_chain_without_answering_logs_a_warning_naming_the_handler(caplog):
    bus = EventBus()

    async def forgetful_handler(e: Thing) -> None:
        e.log.append("forgot next")

    bus.on("thing", recorder("a"))
    bus.on("thing", forgetful_handler)
    caplog.set_level(logging.WARNING, logger="pbk.events")

    event = await bus.trigger("thing", Thing(), default_action)

    assert "default" not in event.log
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "forgetful_handler" in message
    assert "'thing'" in message


async def test_stopping_the_chain_after_answering_logs_nothing(caplog):
    bus = EventBus()

    async def answers(e: Thing) -> None:
        e.reply = {"ok": True}

    bus.on("thing", answers)
    caplog.set_level(logging.DEBUG, logger="pbk.events")

    event = await bus.trigger("thing", Thing(), default_action)

    assert event.log == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_request_handler_that_answered_may_stop_the_chain_silently(caplog):
    import falcon.asgi
    import falcon.testing
    from pbk_sdk.events import RequestEvent

    bus = EventBus()
    responded: list[str] = []

    async def cached(e: RequestEvent) -> None:
        if e.params.get("cached"):
            e.response.media = {"from": "cache"}
            return
        await e.next()

    async def responder(e: RequestEvent) -> None:
        responded.append("responder")
        e.response.media = {"from": "responder"}

    async def forgets(e: RequestEvent) -> None:
        pass

    bus.on("request", cached)
    caplog.set_level(logging.WARNING, logger="pbk.events")

    def event(**params: Any) -> RequestEvent:
        request = falcon.testing.create_asgi_req()
        return RequestEvent(request=request, response=falcon.asgi.Response(), params=params)

    hit = await bus.trigger("request", event(cached=True), responder)
    miss = await bus.trigger("request", event(), responder)
    assert hit.response.media == {"from": "cache"}
    assert miss.response.media == {"from": "responder"}
    assert responded == ["responder"]
    assert not caplog.records

    bus.on("request", forgets, priority=-1)
    await bus.trigger("request", event(), responder)
    assert [r.getMessage() for r in caplog.records if "forgets" in r.getMessage()]


async def test_a_complete_chain_logs_nothing(caplog):
    bus = EventBus()
    bus.on("thing", recorder("a"))
    bus.on("thing", recorder("b"))
    caplog.set_level(logging.DEBUG, logger="pbk.events")

    await bus.trigger("thing", Thing(), default_action)
    await bus.trigger("thing", Thing())  # no default action: still a complete chain

    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_an_api_error_raised_by_a_handler_propagates_out_of_trigger_and_skips_the_default():
    bus = EventBus()
    ran: list[str] = []

    async def refuses(e: Thing) -> None:
        raise NotFoundError("no such thing")

    async def default(e: Thing) -> None:
        ran.append("default")

    bus.on("thing", recorder("a"))
    bus.on("thing", refuses)

    with pytest.raises(ApiError) as info:
        await bus.trigger("thing", Thing(), default)

    assert info.value.status == 404
    assert info.value.message == "No such thing."
    assert ran == []


async def test_an_error_raised_by_the_default_action_propagates_through_the_handlers():
    bus = EventBus()
    unwound: list[str] = []

    async def watcher(e: Thing) -> None:
        try:
            await e.next()
        finally:
            unwound.append("watcher")

    async def failing_default(e: Thing) -> None:
        raise ApiError(400, "bad payload", {"title": "missing"})

    bus.on("thing", watcher)
    with pytest.raises(ApiError, match="Bad payload."):
        await bus.trigger("thing", Thing(), failing_default)
    assert unwound == ["watcher"]


async def test_collection_handlers_only_see_events_that_target_their_collection_by_id_or_name():
    bus = EventBus()
    bus.on("thing", recorder("everything"))
    bus.on("thing", recorder("posts-by-name"), collections=["posts"])
    bus.on("thing", recorder("posts-by-id"), collections=("pbc_1",))
    bus.on("thing", recorder("users"), collections=["users", "pbc_2"])

    posts = await bus.trigger("thing", Thing(collection_id="pbc_1", collection_name="posts"),
                              default_action)
    users = await bus.trigger("thing", Thing(collection_id="pbc_2", collection_name="users"),
                              default_action)
    other = await bus.trigger("thing", Thing(collection_id="pbc_9", collection_name="tags"),
                              default_action)

    assert posts.log == ["everything", "posts-by-name", "posts-by-id", "default"]
    assert users.log == ["everything", "users", "default"]
    assert other.log == ["everything", "default"]


async def test_an_untargeted_event_skips_every_collection_handler_but_still_runs_the_default():
    bus = EventBus()
    bus.on("thing", recorder("posts"), collections=["posts"])
    log: list[str] = []

    async def default(e: Event) -> None:
        log.append("default")

    await bus.trigger("thing", Event(), default)

    assert log == ["default"]


async def test_remove_takes_a_handler_off_and_removing_twice_is_harmless():
    bus = EventBus()
    keep = bus.on("thing", recorder("keep"))
    drop = bus.on("thing", recorder("drop"))

    drop.remove()
    drop.remove()
    event = await bus.trigger("thing", Thing(), default_action)

    assert event.log == ["keep", "default"]
    assert bus.has("thing")
    keep.remove()
    assert not bus.has("thing")
    keep.remove()
    assert not bus.has("thing")
    assert (await bus.trigger("thing", Thing(), default_action)).log == ["default"]


async def test_removing_and_adding_handlers_while_a_chain_runs_does_not_disturb_that_chain():
    bus = EventBus()
    registrations: dict[str, Any] = {}

    async def meddler(e: Thing) -> None:
        e.log.append("meddler")
        registrations["victim"].remove()
        registrations["meddler"].remove()
        bus.on("thing", recorder("newcomer"), priority=-100)
        bus.on("thing", recorder("newcomer-late"), priority=100)
        await e.next()

    registrations["meddler"] = bus.on("thing", meddler)
    registrations["victim"] = bus.on("thing", recorder("victim"), priority=5)

    first = await bus.trigger("thing", Thing(), default_action)
    second = await bus.trigger("thing", Thing(), default_action)

    assert first.log == ["meddler", "victim", "default"]
    assert second.log == ["newcomer", "newcomer-late", "default"]


async def test_sync_handlers_are_refused_with_a_type_error():
    bus = EventBus()

    def sync_handler(e: Event) -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        bus.on("thing", sync_handler)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bus.on("thing", lambda e: None)  # type: ignore[arg-type]
    assert not bus.has("thing")


async def test_an_instance_with_an_async_call_method_is_accepted_as_a_handler():
    bus = EventBus()

    class Counter:
        def __init__(self) -> None:
            self.calls = 0

        async def __call__(self, e: Event) -> None:
            self.calls += 1
            await e.next()

    counter = Counter()
    bus.on("thing", counter)
    await bus.trigger("thing", Thing())
    assert counter.calls == 1


async def test_with_no_handlers_trigger_just_runs_the_default_and_returns_the_event():
    bus = EventBus()
    event = Thing()

    result = await bus.trigger("nobody-listens", event, default_action)

    assert result is event
    assert event.log == ["default"]
    assert (await bus.trigger("nobody-listens", Thing())).log == []


async def test_has_is_true_only_while_a_handler_listens_to_that_name():
    bus = EventBus()
    assert not bus.has("thing")

    registration = bus.on("thing", recorder("a"), collections=["posts"])

    assert bus.has("thing")
    assert not bus.has("other")
    registration.remove()
    assert not bus.has("thing")


async def test_one_bus_keeps_chains_of_different_names_apart():
    bus = EventBus()
    bus.on("one", recorder("for-one"))
    bus.on("two", recorder("for-two"))

    assert (await bus.trigger("one", Thing(), default_action)).log == ["for-one", "default"]
    assert (await bus.trigger("two", Thing(), default_action)).log == ["for-two", "default"]
