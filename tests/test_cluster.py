"""pbk.cluster.Cluster without processes: two workers' views of one shared page, and a link."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pbk.cluster import BROADCAST, CALL, REPLY, Cluster, frame, shared_epochs
from pbk_sdk.errors import WorkerUnreachable


def pair_of_workers() -> tuple[Cluster, Cluster, list[socket.socket]]:
    epochs = shared_epochs()
    first, second = Cluster(), Cluster()
    ends = [*socket.socketpair(), *socket.socketpair()]
    first.join(0, 2, ends[0], epochs)
    second.join(1, 2, ends[2], epochs)
    return first, second, [ends[1], ends[3]]


async def test_one_worker_is_a_no_op():
    cluster = Cluster()
    cluster.changed()
    cluster.broadcast("x", b"ignored")
    assert not cluster.stale()
    assert not cluster.wanted("x")
    reloads: list[str] = []

    async def reload() -> None:
        reloads.append("x")

    cluster.on_sync(reload)
    await cluster.sync()
    assert reloads == []


async def test_a_change_by_one_worker_makes_the_other_reload_once_and_not_itself():
    first, second, _ = pair_of_workers()
    reloads: list[str] = []

    async def first_reload() -> None:
        reloads.append("first")

    async def second_reload() -> None:
        reloads.append("second")

    first.on_sync(first_reload)
    second.on_sync(second_reload)
    first.changed()
    assert second.stale() and not first.stale()
    await asyncio.gather(second.sync(), second.sync(), first.sync())
    assert reloads == ["second"]
    assert not second.stale()


async def test_interest_is_seen_by_the_other_worker_at_once():
    first, second, _ = pair_of_workers()
    assert not first.wanted("realtime")

    async def handler(worker: int, data: bytes) -> None:
        return None

    second.on_message("realtime", handler)
    assert first.wanted("realtime") and not second.wanted("realtime")
    second.want("realtime", False)
    assert not first.wanted("realtime")


async def test_frames_from_the_supervisor_reach_handlers_and_answer_calls():
    first, _, (supervisor_end, _) = pair_of_workers()
    received: list[tuple[int, bytes]] = []

    async def on_event(worker: int, data: bytes) -> None:
        received.append((worker, data))

    async def on_question(worker: int, data: bytes) -> bytes:
        return data.upper()

    first.on_message("events", on_event)
    first.on_message("questions", on_question)
    await first.connect(on_lost=lambda: None)
    reader, writer = await asyncio.open_unix_connection(sock=supervisor_end)
    writer.write(frame(BROADCAST, 1, 0, "events", b"hello"))
    writer.write(frame(CALL, 1, 42, "questions", b"why"))
    header = await reader.readexactly(12)
    length = int.from_bytes(header[:4], "big")
    rest = header[4:] + await reader.readexactly(length - 8)
    assert rest[0] == REPLY and int.from_bytes(rest[3:7], "big") == 42
    assert rest.endswith(b"WHY")
    assert received == [(1, b"hello")]
    await first.close()
    writer.close()


async def test_a_call_to_a_worker_that_does_not_exist_fails_fast():
    first, _, _ = pair_of_workers()
    await first.connect(on_lost=lambda: None)
    with pytest.raises(WorkerUnreachable):
        await first.call(5, "questions", b"?")
    await first.close()


async def test_losing_the_supervisor_tells_the_worker_to_stop():
    first, _, (supervisor_end, _) = pair_of_workers()
    lost = asyncio.Event()
    await first.connect(on_lost=lost.set)
    supervisor_end.close()
    await asyncio.wait_for(lost.wait(), 5)
    await first.close()
