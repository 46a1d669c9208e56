"""This process's place among the worker processes that serve one data dir.

``pbk serve --workers N`` forks N workers from a supervisor (``pbk.workers``). They share the
SQLite files, which SQLite keeps consistent, but each holds state read from them (the
collections, the settings) and its own realtime clients. These keep them in step:

- **epochs**: a page of shared memory with one counter per worker. A worker that committed a
  change to shared state bumps its counter (``changed()``) before it answers; every worker
  compares the page with what it last saw before each request (a few bytes, no syscall) and
  reloads first when it differs (``sync()``). A client that got the answer to a schema change
  therefore finds the new schema on every worker, whichever one its next request reaches.
- **interest**: beside the epochs, one bit mask per worker says which broadcast channels it
  listens to now (``want``), so a worker with nobody to tell (no realtime client) costs the
  others no message.
- **the link**: a socket to the supervisor, which relays frames between workers: broadcasts
  (realtime events made on one worker, for the clients of every other) and calls to one worker
  with a reply (a realtime subscription posted to a worker that does not hold the stream).
- **leadership** (``lead()``, ``pbk.leadership``): one process at a time, a lock on a file in the
  data dir, runs what must run once for all (scheduled jobs); another takes over when it dies.

With one worker (``--workers 1``, a one-core machine, in-process tests, ``pbk shell``) there is
no link and no shared page: ``broadcast`` and ``changed`` do nothing, ``stale`` is always false
and ``call`` to this worker answers here. ``lead()`` still takes the lock: another server may have
been started on the same data dir.

Several nodes (``pbk serve`` processes on a database they share, ``--db postgresql://...``) are
one cluster when the storage offers a ``ClusterBackend``: each worker joins it in ``connect()``
and ``pbk.nodes`` carries the same news to the other nodes' processes (``changed``, interest,
broadcasts, calls by member number); ``lead()`` and ``consume()`` then ask the backend instead of
the data dir's lock file and this node's shared memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import mmap
import os
import secrets
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

from pbk_sdk.errors import WorkerUnreachable
from pbk_sdk.interfaces import ClusterBackend, Member

from .counters import SharedSequence, WindowCounters
from .leadership import LEADER_FILE, Leadership
from .nodes import Nodes

log = logging.getLogger(__name__)

#: Frame kinds on the link. The supervisor rewrites ``peer`` from the destination (what a worker
#: sends) to the source (what a worker receives).
BROADCAST, CALL, REPLY, UNREACHABLE, READY, RESTART = range(1, 7)
#: length of the rest, kind, peer, call id, channel length.
HEADER = struct.Struct("!IBHIB")
EPOCH = struct.Struct("Q")
INTEREST = struct.Struct("Q")
MAX_WORKERS = 256
INTEREST_OFFSET = EPOCH.size * MAX_WORKERS
CALL_TIMEOUT = 5.0

Handler = Callable[[int, bytes], Awaitable[bytes | None]]


def frame(kind: int, peer: int, call_id: int, channel: str, data: bytes) -> bytes:
    name = channel.encode()
    return HEADER.pack(HEADER.size - 4 + len(name) + len(data), kind, peer, call_id, len(name)) + name + data


def shared_epochs() -> mmap.mmap:
    """The epoch counters and interest masks, shared by the processes forked after it is made."""
    return mmap.mmap(-1, INTEREST_OFFSET + INTEREST.size * MAX_WORKERS)


def channel_bit(channel: str) -> int:
    """The interest bit of ``channel`` (two channels may share one: a message too many)."""
    return 1 << (zlib.crc32(channel.encode()) % 64)


class Cluster:
    """See the module docstring; ``app.cluster`` in every pbk app."""

    def __init__(self, data_dir: Path | None = None,
                 backend: Callable[[], ClusterBackend | None] | None = None) -> None:
        self.worker = 0
        self.workers = 1
        #: This ``pbk serve``'s id among the nodes: made before the fork, so its workers share it.
        self.node = secrets.token_hex(6)
        self._data_dir = data_dir
        self._make_backend = backend
        #: The other nodes, once this process joined them (``connect``), else None.
        self.nodes: Nodes | None = None
        self._epochs: mmap.mmap | None = None
        self._seen = b""
        # Changes other nodes announced, and how many of them were reloaded.
        self._remote_changes = 0
        self._remote_seen = 0
        #: The channels this process wants (``want``), said to the other nodes.
        self.wants: set[str] = set()
        self._on_missed: list[Callable[[], None]] = []
        self._reloaders: list[Callable[[], Awaitable[None]]] = []
        self._sync_lock: asyncio.Lock | None = None
        self._handlers: dict[str, Handler] = {}
        self._link: socket.socket | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._calls: dict[int, asyncio.Future[bytes]] = {}
        self._call_ids = itertools.count(1)
        self._on_lost: Callable[[], None] | None = None
        #: Set by ``restart()`` in a process serving alone: it re-executes itself once stopped.
        self.restart_requested = False
        self._leadership = Leadership(data_dir / LEADER_FILE if data_dir is not None else None)
        # Made with the app, so before any fork: every worker shares it.
        self.counters = WindowCounters()
        self.sequence = SharedSequence()

    # ------------------------------------------------------------------ set-up (pbk.workers)

    def join(self, worker: int, workers: int, link: socket.socket, epochs: mmap.mmap) -> None:
        """Become worker ``worker`` of ``workers``, before the app starts."""
        self.worker, self.workers = worker, workers
        self._link, self._epochs = link, epochs
        self._seen = epochs[: EPOCH.size * workers]
        # A replaced worker starts with the interests declared before the fork (on_message),
        # not with what the worker it replaces wanted.
        mask = 0
        for channel in self.wants:
            mask |= channel_bit(channel)
        INTEREST.pack_into(epochs, INTEREST_OFFSET + INTEREST.size * worker, mask)

    async def connect(self, on_lost: Callable[[], None]) -> None:
        """Start reading the link and join the other nodes (when the storage offers a cluster
        backend); ``on_lost`` (which stops the server) runs if the supervisor goes away, or, in
        a process serving alone, when a restart is asked."""
        self._on_lost = on_lost
        if self._link is not None:
            reader, self._writer = await asyncio.open_unix_connection(sock=self._link)
            self._reader_task = asyncio.create_task(self._read(reader), name="pbk-cluster-link")
        backend = self._make_backend() if self._make_backend is not None else None
        if backend is not None:
            nodes = Nodes(self, backend)
            data_dir = str(self._data_dir.resolve()) if self._data_dir is not None else ""
            await nodes.join(data_dir)
            self.nodes = nodes

    def ready(self) -> None:
        """Tell the supervisor this worker serves (it starts the next one, prints the banner)."""
        self._write(READY, 0, 0, "", b"")

    async def close(self) -> None:
        if self.nodes is not None:
            nodes, self.nodes = self.nodes, None
            await nodes.leave()
        if self._reader_task is not None:
            self._reader_task.cancel()
            await asyncio.gather(self._reader_task, return_exceptions=True)
            self._reader_task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # ------------------------------------------------------------------ shared state

    def on_sync(self, reload: Callable[[], Awaitable[None]]) -> None:
        """Run ``reload`` when another worker changed shared state."""
        self._reloaders.append(reload)

    def changed(self) -> None:
        """This worker committed a change to shared state: the others (of every node) reload
        before their next request. Call it after the commit and before answering."""
        if self.nodes is not None:
            self.nodes.changed()
        if self._epochs is None:
            return
        offset = EPOCH.size * self.worker
        (value,) = EPOCH.unpack_from(self._epochs, offset)
        EPOCH.pack_into(self._epochs, offset, value + 1)
        # Our own change is loaded already: do not reload it.
        self._seen = self._seen[:offset] + self._epochs[offset : offset + EPOCH.size] + self._seen[offset + EPOCH.size :]

    def stale(self) -> bool:
        return self._remote_changes != self._remote_seen or (
            self._epochs is not None and self._epochs[: len(self._seen)] != self._seen)

    def mark_stale(self) -> None:
        """Another node changed shared state (or its news may have been missed): reload."""
        self._remote_changes += 1

    async def sync(self) -> None:
        """Reload what another worker changed; requests that arrive meanwhile wait for it."""
        if not self.stale():
            return
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        async with self._sync_lock:
            if not self.stale():
                return
            snapshot = self._epochs[: len(self._seen)] if self._epochs is not None else b""
            remote = self._remote_changes
            failed = False
            for reload in self._reloaders:
                try:
                    await reload()
                except Exception:
                    log.exception("reloading after another worker's change failed; retrying later")
                    failed = True
            if not failed:
                # Only now: a request that checks stale() meanwhile must wait for this reload.
                self._seen = snapshot
                self._remote_seen = remote

    # ------------------------------------------------------------------ the cluster's members

    @property
    def member(self) -> int:
        """This process's number among every process of every node (``worker`` alone)."""
        return self.nodes.backend.member.number if self.nodes is not None else self.worker

    def members(self) -> Mapping[int, Member]:
        """The live processes of every node by number (alone: this node's workers)."""
        if self.nodes is not None:
            return self.nodes.members()
        host = socket.gethostname()
        data_dir = str(self._data_dir.resolve()) if self._data_dir is not None else ""
        return {worker: Member(worker, "", worker, host, data_dir, os.getpid() if worker == self.worker else 0)
                for worker in range(self.workers)}

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """One process of every node at a time runs the block (alone: no wait), such as the
        start-up's migrations, which two nodes started together must not both apply."""
        if self.nodes is None:
            yield
            return
        async with self.nodes.backend.exclusive(name):
            yield

    def on_missed(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` when messages from other nodes may have been missed."""
        self._on_missed.append(callback)

    def missed(self) -> None:
        for callback in self._on_missed:
            try:
                callback()
            except Exception:
                log.exception("an on_missed callback failed")

    async def consume(self, key: str, limit: int, window: float) -> bool:
        """A fixed-window counter for the whole cluster (``counters.consume`` alone)."""
        if self.nodes is not None:
            return await self.nodes.backend.consume(key, limit, window)
        return self.counters.consume(key, limit, window)

    async def give_back(self, key: str) -> None:
        """Take one counted hit of ``key``'s current window back."""
        if self.nodes is not None:
            await self.nodes.backend.give_back(key)
        else:
            self.counters.give_back(key)

    # ------------------------------------------------------------------ leadership

    def lead(self) -> bool:
        """Whether this process is the leader, claiming the role if no live process holds it:
        among every node's processes when there are nodes (the backend's lock), else among the
        processes serving this data dir (the lock file)."""
        if self.nodes is not None:
            return self.nodes.backend.leading()
        return self._leadership.claim()

    def restart(self) -> None:
        """Ask the supervisor to restart every worker; serving alone, stop the server so that
        ``pbk serve`` re-executes the process. RuntimeError when no server runs this app."""
        if self._link is not None:
            self._write(RESTART, 0, 0, "", b"")
        elif self._on_lost is not None:
            self.restart_requested = True
            self._on_lost()
        else:
            raise RuntimeError("this app is not served by `pbk serve`: it cannot restart itself")

    def resign(self) -> None:
        """Give up the leadership when the app stops, so another process takes it at once."""
        self._leadership.resign()

    # ------------------------------------------------------------------ messages

    def on_message(self, channel: str, handler: Handler) -> None:
        """``handler(from_worker, data)`` gets ``channel``'s broadcasts (from now on: see
        ``want``) and calls; what it returns answers a call."""
        self._handlers[channel] = handler
        self.want(channel, True)

    def want(self, channel: str, wanted: bool) -> None:
        """Whether this worker wants ``channel``'s broadcasts now. Takes effect at once for
        this node's workers: a broadcast that starts after this returns sees it; other nodes
        hear of it at once too, and a yes made during a request settles before its response."""
        if wanted != (channel in self.wants):
            if wanted:
                self.wants.add(channel)
            else:
                self.wants.discard(channel)
            if self.nodes is not None:
                self.nodes.wants_changed(wanted)
        if self._epochs is None:
            return
        offset = INTEREST_OFFSET + INTEREST.size * self.worker
        (mask,) = INTEREST.unpack_from(self._epochs, offset)
        bit = channel_bit(channel)
        INTEREST.pack_into(self._epochs, offset, mask | bit if wanted else mask & ~bit)

    def wanted(self, channel: str) -> bool:
        """Whether another process (a worker of this node, or of another node) wants
        ``channel``'s broadcasts."""
        return self._wanted_here(channel) or (self.nodes is not None and self.nodes.wanted(channel))

    def broadcast(self, channel: str, data: bytes) -> None:
        """Send ``data`` to every other process of every node (in order, never back to this
        one) that wants ``channel``."""
        if self.workers > 1 and self._wanted_here(channel):
            self._write(BROADCAST, 0, 0, channel, data)
        if self.nodes is not None:
            self.nodes.broadcast(channel, data)

    def _wanted_here(self, channel: str) -> bool:
        """Whether another worker of this node wants ``channel``."""
        if self._epochs is None:
            return False
        bit = channel_bit(channel)
        return any(
            INTEREST.unpack_from(self._epochs, INTEREST_OFFSET + INTEREST.size * worker)[0] & bit
            for worker in range(self.workers)
            if worker != self.worker
        )

    async def call(self, worker: int, channel: str, data: bytes, timeout: float = CALL_TIMEOUT) -> bytes:
        """Ask ``worker`` and wait for its answer; ``WorkerUnreachable`` if it cannot answer."""
        if worker == self.worker:
            return await self.answer(worker, channel, data)
        if self._writer is None or not 0 <= worker < self.workers:
            raise WorkerUnreachable(f"no worker {worker}")
        call_id = next(self._call_ids) & 0xFFFFFFFF
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        try:
            self._write(CALL, worker, call_id, channel, data)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise WorkerUnreachable(f"worker {worker} did not answer within {timeout}s") from exc
        finally:
            self._calls.pop(call_id, None)

    async def call_member(self, member: int, channel: str, data: bytes, timeout: float = CALL_TIMEOUT) -> bytes:
        """``call`` to a process of any node by its number in ``members()``: through the link
        to a worker of this node, through the backend to another node's."""
        if self.nodes is None:
            return await self.call(member, channel, data, timeout)
        if member == self.member:
            return await self.answer(self.worker, channel, data)
        target = self.nodes.members().get(member)
        if target is None:
            raise WorkerUnreachable(f"no cluster member {member}")
        if target.node == self.node:
            return await self.call(target.worker, channel, data, timeout)
        return await self.nodes.call(member, channel, data, timeout)

    def handler(self, channel: str) -> Handler | None:
        return self._handlers.get(channel)

    def _write(self, kind: int, peer: int, call_id: int, channel: str, data: bytes) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(frame(kind, peer, call_id, channel, data))

    async def answer(self, source: int, channel: str, data: bytes) -> bytes:
        handler = self._handlers.get(channel)
        if handler is None:
            raise WorkerUnreachable(f"nothing answers {channel!r}")
        return await handler(source, data) or b""

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                length, kind, peer, call_id, name_length = HEADER.unpack(await reader.readexactly(HEADER.size))
                body = await reader.readexactly(length - (HEADER.size - 4))
                channel, data = body[:name_length].decode(), body[name_length:]
                if kind == REPLY or kind == UNREACHABLE:
                    future = self._calls.get(call_id)
                    if future is not None and not future.done():
                        if kind == REPLY:
                            future.set_result(data)
                        else:
                            future.set_exception(WorkerUnreachable(f"worker {peer} is gone"))
                elif kind == CALL:
                    asyncio.create_task(self._reply(peer, call_id, channel, data))
                else:
                    handler = self._handlers.get(channel)
                    if handler is not None:
                        try:
                            await handler(peer, data)
                        except Exception:
                            log.exception("cluster message on %r failed", channel)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.warning("worker %d lost its supervisor; stopping", self.worker)
            if self._on_lost is not None:
                self._on_lost()

    async def _reply(self, source: int, call_id: int, channel: str, data: bytes) -> None:
        try:
            answer = await self.answer(source, channel, data)
        except Exception:
            log.exception("cluster call on %r failed", channel)
            self._write(UNREACHABLE, source, call_id, channel, b"")
            return
        self._write(REPLY, source, call_id, channel, answer)
