"""``app.cluster`` over HTTP: a plugin for tests of several nodes (and workers) as one cluster.

Write it into the ``--pluginsDir`` of each server under test (``write_cluster_plugin``) and add
``cluster_probe`` to ``--plugins``. Whichever process takes a request answers it:

- ``GET CLUSTER``: ``{"member", "node", "worker", "workers", "pid", "leading", "missed",
  "members": {number: {node, worker, host, data_dir, pid}}}``, this process's view;
- ``GET CLUSTER/everyone``: the same from every live member (asked with ``call_member``), by
  number (``{"unreachable": why}`` for a member that did not answer within 2 s);
- ``POST CLUSTER/broadcast`` ``{"data": text}``: ``broadcast`` on the probe's channel;
- ``GET CLUSTER/received``: every member's received broadcasts (``[[from_worker, data], ...]``);
- ``POST CLUSTER/call`` ``{"member": n, "data": text}``: ``call_member``; the answer names who answered;
- ``POST CLUSTER/consume`` ``{"key", "limit", "window"}`` and ``POST CLUSTER/give-back``
  ``{"key"}``: the cluster's counters;
- ``POST CLUSTER/block`` ``{"seconds": s}``: holds the process's event loop that long (busy).
"""

from __future__ import annotations

from pathlib import Path

CLUSTER = "/api/_test/cluster"

CLUSTER_PLUGIN = f'''
import asyncio
import dataclasses
import os
import time

import orjson
from pbk_sdk import ApiError, Route, hookimpl
from pbk_sdk.errors import WorkerUnreachable

EVENTS = "cluster_probe.events"
ASK = "cluster_probe.ask"
ECHO = "cluster_probe.echo"


class Probe:
    def __init__(self, app):
        self.app = app
        self.received = []
        self.missed = 0
        app.cluster.on_message(EVENTS, self.on_event)
        app.cluster.on_message(ASK, self.on_ask)
        app.cluster.on_message(ECHO, self.on_echo)
        app.cluster.on_missed(self.on_missed)

    def on_missed(self):
        self.missed += 1

    async def on_event(self, from_worker, data):
        self.received.append([from_worker, data.decode()])

    async def on_ask(self, from_worker, data):
        return orjson.dumps(self.view() if data == b"view" else self.received)

    async def on_echo(self, from_worker, data):
        return orjson.dumps({{"member": self.app.cluster.member, "pid": os.getpid(), "from": from_worker,
                             "data": data.decode()}})

    def view(self):
        cluster = self.app.cluster
        return {{"member": cluster.member, "node": cluster.node, "worker": cluster.worker,
                "workers": cluster.workers, "pid": os.getpid(), "leading": cluster.lead(),
                "missed": self.missed,
                "members": {{str(n): dataclasses.asdict(m) for n, m in cluster.members().items()}}}}

    async def everyone(self, question):
        async def ask(number):
            try:
                return orjson.loads(await self.app.cluster.call_member(number, ASK, question, 2.0))
            except WorkerUnreachable as exc:
                return {{"unreachable": str(exc)}}

        numbers = list(self.app.cluster.members())
        answers = await asyncio.gather(*(ask(number) for number in numbers))
        return {{str(number): answer for number, answer in zip(numbers, answers)}}


class View:
    def __init__(self, probe):
        self.probe = probe

    async def on_get(self, req, resp):
        resp.media = self.probe.view()


class Everyone:
    def __init__(self, probe, question):
        self.probe, self.question = probe, question

    async def on_get(self, req, resp):
        resp.media = await self.probe.everyone(self.question)


class Broadcast:
    def __init__(self, probe):
        self.probe = probe

    async def on_post(self, req, resp):
        body = await req.get_media()
        self.probe.app.cluster.broadcast(EVENTS, body["data"].encode())
        resp.media = {{"member": self.probe.app.cluster.member}}


class Call:
    def __init__(self, probe):
        self.probe = probe

    async def on_post(self, req, resp):
        body = await req.get_media()
        try:
            answer = await self.probe.app.cluster.call_member(int(body["member"]), ECHO, body["data"].encode(),
                                                              float(body.get("timeout", 5.0)))
        except WorkerUnreachable as exc:
            raise ApiError(404, str(exc)) from exc
        resp.media = orjson.loads(answer)


class Consume:
    def __init__(self, probe):
        self.probe = probe

    async def on_post(self, req, resp):
        body = await req.get_media()
        counted = await self.probe.app.cluster.consume(body["key"], int(body["limit"]), float(body["window"]))
        resp.media = {{"counted": counted, "member": self.probe.app.cluster.member}}


class GiveBack:
    def __init__(self, probe):
        self.probe = probe

    async def on_post(self, req, resp):
        body = await req.get_media()
        await self.probe.app.cluster.give_back(body["key"])
        resp.media = {{}}


class Block:
    """Holds this process's event loop, as a process too busy to answer would."""

    async def on_post(self, req, resp):
        body = await req.get_media()
        time.sleep(float(body["seconds"]))
        resp.media = {{"pid": os.getpid()}}


@hookimpl
def pbk_register_routes(app):
    probe = Probe(app)
    return [
        Route("{CLUSTER}", View(probe)),
        Route("{CLUSTER}/everyone", Everyone(probe, b"view")),
        Route("{CLUSTER}/received", Everyone(probe, b"received")),
        Route("{CLUSTER}/broadcast", Broadcast(probe)),
        Route("{CLUSTER}/call", Call(probe)),
        Route("{CLUSTER}/consume", Consume(probe)),
        Route("{CLUSTER}/give-back", GiveBack(probe)),
        Route("{CLUSTER}/block", Block()),
    ]
'''


def write_cluster_plugin(plugins_dir: Path) -> Path:
    """Write the ``cluster_probe`` plugin into ``plugins_dir`` (made if missing); its path."""
    plugins_dir.mkdir(parents=True, exist_ok=True)
    path = plugins_dir / "cluster_probe.py"
    path.write_text(CLUSTER_PLUGIN)
    return path
