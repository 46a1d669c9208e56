"""``PostgresCluster``, the ``ClusterBackend`` over the database's LISTEN/NOTIFY and advisory
locks, against the real PostgreSQL: several members in one event loop (the kernel's use of it,
across real nodes, is tests/test_cluster_nodes.py)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import psycopg
import pytest
import pytest_asyncio
from pbk_postgres.cluster import PostgresCluster
from pbk_postgres.database import PostgresDriver
from pbk_sdk.errors import PluginError


class Joined:
    """One member, with what it received and how often it was told it lost messages."""

    def __init__(self, backend: PostgresCluster) -> None:
        self.backend = backend
        self.received: list[tuple[int, str, bytes]] = []
        self.losses = 0

    def receive(self, sender: int, channel: str, data: bytes) -> None:
        self.received.append((sender, channel, data))

    def lost(self) -> None:
        self.losses += 1


@pytest_asyncio.fixture
async def join(postgres_url: str) -> AsyncIterator[Callable[..., object]]:
    """``await join(node)``: a new member of the cluster on the test's database."""
    async with AsyncExitStack() as stack:

        async def make(node: str = "n", worker: int = 0) -> Joined:
            backend = PostgresDriver(postgres_url).cluster_backend()
            assert backend is not None
            joined = Joined(backend)
            await backend.join(node, worker, "host", f"/data/{node}", joined.receive, joined.lost)
            stack.push_async_callback(backend.leave)
            return joined

        yield make


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time given"
        await asyncio.sleep(0.02)


async def test_members_get_the_lowest_free_numbers_and_see_each_other(join) -> None:
    a, b, c = await join("a"), await join("b"), await join("c", 1)
    assert [m.backend.member.number for m in (a, b, c)] == [0, 1, 2]
    await eventually(lambda: all(len(m.backend.members()) == 3 for m in (a, b, c)))
    assert a.backend.members()[2] == c.backend.member
    assert (c.backend.member.node, c.backend.member.worker, c.backend.member.pid) == ("c", 1, os.getpid())
    assert await a.backend.alive(1)
    await b.backend.leave()
    assert not await a.backend.alive(1)
    await eventually(lambda: 1 not in a.backend.members() and 1 not in c.backend.members())
    assert (await join("d")).backend.member.number == 1  # the free number again


async def test_messages_arrive_in_order_once_at_their_addressees_whatever_their_size(join) -> None:
    a, b, c = await join("a"), await join("b"), await join("c")
    big = bytes(range(256)) * 100  # past a notification's size, and not text
    a.backend.send(None, "news", b"one")
    a.backend.send(1, "private", "to b: \u00e9t\u00e9".encode())
    a.backend.send(None, "news", big)
    a.backend.send(None, "news", b"\xff\x00 not utf-8")
    a.backend.send(None, "news", b"")
    a.backend.send(None, "news", b"one")  # the same payload twice is delivered twice
    await a.backend.flush()
    expected_c = [(0, "news", b"one"), (0, "news", big), (0, "news", b"\xff\x00 not utf-8"), (0, "news", b""),
                  (0, "news", b"one")]
    await eventually(lambda: len(c.received) == 5 and len(b.received) == 6)
    assert c.received == expected_c
    assert b.received == [expected_c[0], (0, "private", "to b: \u00e9t\u00e9".encode()), *expected_c[1:]]
    assert a.received == []
    # Broadcasts of several senders: one order for everyone.
    b.backend.send(None, "x", b"b1")
    c.backend.send(None, "x", b"c1")
    b.backend.send(None, "x", b"b2")
    await asyncio.gather(b.backend.flush(), c.backend.flush())
    await eventually(lambda: len(a.received) == 3)
    order = [data for _, channel, data in a.received if channel == "x"]
    assert order.index(b"b1") < order.index(b"b2")
    with pytest.raises(ValueError):
        a.backend.send(None, "two\nlines", b"")


async def test_one_member_leads_and_another_takes_over(join) -> None:
    members = [await join(name) for name in "abc"]
    assert [m.backend.leading() for m in members] == [True, False, False]
    await members[0].backend.leave()
    await eventually(lambda: sum(m.backend.leading() for m in members[1:]) == 1, timeout=3)
    await asyncio.sleep(1.5)  # retried every second: still one
    assert sum(m.backend.leading() for m in members[1:]) == 1


async def test_counters_hold_across_members(join) -> None:
    a, b = await join("a"), await join("b")
    counted = [await m.backend.consume("mail:1", 3, 60) for _ in range(3) for m in (a, b)]
    assert counted == [True, True, True, False, False, False]
    await b.backend.give_back("mail:1")
    assert await a.backend.consume("mail:1", 3, 60)
    assert not await b.backend.consume("mail:1", 3, 60)
    assert await a.backend.consume("short", 1, 0.3)
    assert not await b.backend.consume("short", 1, 0.3)
    await asyncio.sleep(0.35)
    assert await b.backend.consume("short", 1, 0.3)
    await a.backend.give_back("nothing counted")  # no such key: nothing happens


async def test_exclusive_lets_one_member_in_at_a_time(join) -> None:
    a, b = await join("a"), await join("b")
    inside: list[str] = []

    async def hold(member: Joined, name: str) -> None:
        async with member.backend.exclusive("start"):
            inside.append(f"{name} in")
            await asyncio.sleep(0.3)
            inside.append(f"{name} out")

    await asyncio.gather(hold(a, "a"), hold(b, "b"))
    assert inside in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_a_lost_listen_connection_joins_again_and_says_so(join, postgres_url: str) -> None:
    a, b = await join("a"), await join("b")
    number = a.backend.member.number
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND application_name LIKE 'pbk-cluster-%%'")
    await eventually(lambda: a.losses == 1 and b.losses == 1)
    assert a.backend.member.number == number  # free again: claimed again
    assert sum(m.backend.leading() for m in (a, b)) <= 1
    await eventually(lambda: sum(m.backend.leading() for m in (a, b)) == 1, timeout=3)
    a.backend.send(None, "after", b"hello")
    b.backend.send(None, "after", b"back")
    await eventually(lambda: (1, "after", b"back") in a.received and (0, "after", b"hello") in b.received)
    assert await a.backend.consume("k", 1, 60)


async def test_a_database_out_of_reach_is_one_clear_error() -> None:
    backend = PostgresDriver("postgresql://root:secret@127.0.0.1:1/none").cluster_backend()
    assert backend is not None
    with pytest.raises(PluginError) as caught:
        await backend.join("n", 0, "host", "/data", lambda *_: None, lambda: None)
    assert str(caught.value).startswith("cannot open the PostgreSQL database postgresql://root:***@127.0.0.1:1/none: ")
    assert PostgresDriver("postgresql://root@127.0.0.1/x", "aux").cluster_backend() is None
