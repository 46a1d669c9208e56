"""The workers broker delivers messages in the order their numbers were taken, whichever
worker they come from, and does not wait forever for a number whose message never comes."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from pbk.cluster import Cluster
from pbk_realtime import broker as brokers
from pbk_sdk.interfaces import RealtimeMessage


def relayed(number: int, text: str) -> bytes:
    """A message as another worker's broker sends it through the supervisor."""
    return orjson.dumps(["topic", None, number]) + b"\n" + text.encode()


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()


async def deliveries(broker: brokers.WorkersBroker, count: int, timeout: float = 5.0) -> list[tuple[str, float]]:
    got: list[tuple[str, float]] = []
    done = asyncio.Event()

    async def receive(message: RealtimeMessage) -> None:
        got.append((message.data.decode(), time.monotonic()))
        if len(got) == count:
            done.set()

    broker.on_message(receive)
    await asyncio.wait_for(done.wait(), timeout)
    return got


async def test_a_message_relayed_late_is_delivered_before_a_later_local_one(cluster: Cluster) -> None:
    broker = brokers.WorkersBroker(cluster)
    broker.clients_here(1)
    relayed_number = cluster.sequence.take()  # another worker published first ...
    await broker.publish(RealtimeMessage("topic", b"local"))  # ... this one after
    await broker._received(1, relayed(relayed_number, "relayed"))  # ... its relay arrives last
    got = await deliveries(broker, 2)
    assert [text for text, _ in got] == ["relayed", "local"]
    await broker.close()


async def test_a_number_whose_message_never_comes_holds_the_next_ones_for_a_moment(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(brokers, "GAP_SECONDS", 0.3)
    broker = brokers.WorkersBroker(cluster)
    broker.clients_here(1)
    cluster.sequence.take()  # a worker that died before sending its message
    started = time.monotonic()
    await broker.publish(RealtimeMessage("topic", b"first"))
    await broker.publish(RealtimeMessage("topic", b"second"))
    got = await deliveries(broker, 2)
    assert [text for text, _ in got] == ["first", "second"]
    assert got[0][1] - started >= 0.3
    # Once past the gap, nothing waits any more.
    await broker.publish(RealtimeMessage("topic", b"third"))
    await asyncio.sleep(0.05)
    assert broker._early == {}
    await broker.close()


async def test_without_clients_here_nothing_is_held(cluster: Cluster) -> None:
    broker = brokers.WorkersBroker(cluster)
    cluster.sequence.take()  # a number this worker never gets: it holds no client
    await broker.publish(RealtimeMessage("topic", b"now"))
    got = await deliveries(broker, 1, timeout=0.5)
    assert [text for text, _ in got] == ["now"]
    await broker.close()
