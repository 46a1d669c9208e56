"""``PostgresCluster``: the processes of every node on one PostgreSQL database reach each other
through it (the kernel's ``ClusterBackend``, ``pbk_sdk.interfaces``), with nothing else to run.

Each worker process is a *member* with two connections of its own (psycopg's async connections,
on the worker's event loop):

- the **listen** connection ``LISTEN``s on the database's ``pbk`` channel and holds the member's
  session advisory locks: its number (the lowest free ``n`` below 3844 for which
  ``pg_try_advisory_lock(MEMBER_LOCKS, n)`` succeeds) and, in one member of the cluster, the
  leader's lock. PostgreSQL drops both the moment the process dies or the connection drops, so
  a member is live exactly while ``pg_locks`` shows its lock; ``_pbk_members`` (UNLOGGED) says
  which process holds each number. About every second the member reads who is live and, when
  it does not lead, tries the leader's lock.
- the **send** connection sends the queued messages in order, a batch at a time in one
  statement (``pg_notify`` for each), and runs the counters' statements. A message's payload
  is a header (sender, addressee, a sequence number, the channel) and its data when that is
  short text; other data goes into ``_pbk_messages`` (UNLOGGED, rows kept a minute) and the
  notification carries the row's id. PostgreSQL delivers the notifications of committed
  transactions in commit order, the same order to every listener.

Losing the listen connection (a PostgreSQL restart, ``pg_terminate_backend``) makes it again
with backoff, claims the same number if still free (another one if not), then calls ``lost``:
messages may have been missed meanwhile. Losing the send connection only delays the messages
queued: the batch that failed is sent again on a new connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import psycopg
from pbk_sdk.errors import PluginError
from pbk_sdk.interfaces import Member
from psycopg.conninfo import conninfo_to_dict

from .database import create_if_missing, redacted

log = logging.getLogger(__name__)

CHANNEL = "pbk"
#: The first key of the members' advisory locks (the second is the member's number), and the
#: leader's lock. The writers' locks (``database.WRITE_LOCKS``) are single-key: another space.
MEMBER_LOCKS = 0x70626B10
LEADER_LOCK = (0x70626B11, 0)
SETUP_LOCK = 0x70626B12
#: The first key of ``exclusive``'s locks (the second is the name's hash).
EXCLUSIVE_LOCKS = 0x70626B13
#: A realtime client id encodes a member's number in two base-62 characters.
MAX_MEMBERS = 62 * 62
TICK_SECONDS = 1.0
#: NOTIFY payloads must stay below 8000 bytes; longer data goes through _pbk_messages.
INLINE_BYTES = 7000
CLEANUP_SECONDS = 30.0
BATCH = 200
MAX_BACKOFF_SECONDS = 5.0
#: TCP keepalive idle, interval (seconds) and count: a vanished peer is noticed within ~11 s.
KEEPALIVE = (5, 2, 3)
SERVER_KEEPALIVE = ("-c tcp_keepalives_idle={} -c tcp_keepalives_interval={} "
                    "-c tcp_keepalives_count={}").format(*KEEPALIVE)
#: Kinds of notification: the first character of the payload.
TEXT, ROW, JOIN, LEAVE = "t", "r", "j", "l"

TABLES = """
CREATE UNLOGGED TABLE IF NOT EXISTS _pbk_members (
    number integer PRIMARY KEY, node text NOT NULL, worker integer NOT NULL, host text NOT NULL,
    data_dir text NOT NULL, pid integer NOT NULL, backend_pid integer NOT NULL,
    joined timestamptz NOT NULL DEFAULT now());
CREATE UNLOGGED TABLE IF NOT EXISTS _pbk_messages (
    id bigserial PRIMARY KEY, data bytea NOT NULL, created timestamptz NOT NULL DEFAULT now());
CREATE UNLOGGED TABLE IF NOT EXISTS _pbk_counters (
    key text PRIMARY KEY, started double precision NOT NULL, seconds double precision NOT NULL,
    hits integer NOT NULL);
"""
#: The numbers whose lock is held, and by which server process.
HELD = """
SELECT objid::int AS number, pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s::bigint::oid
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
LIVE = f"""
WITH held AS ({HELD})
SELECT m.number, m.node, m.worker, m.host, m.data_dir, m.pid
FROM _pbk_members m JOIN held h ON h.number = m.number AND h.pid = m.backend_pid
"""
CLAIM = """
INSERT INTO _pbk_members (number, node, worker, host, data_dir, pid, backend_pid)
VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid())
ON CONFLICT (number) DO UPDATE SET node = EXCLUDED.node, worker = EXCLUDED.worker,
    host = EXCLUDED.host, data_dir = EXCLUDED.data_dir, pid = EXCLUDED.pid,
    backend_pid = EXCLUDED.backend_pid, joined = now()
"""
NOTIFY_ALL = "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i"
#: Counts a hit and returns a row, or returns none once the window's limit was reached.
CONSUME = """
INSERT INTO _pbk_counters AS c (key, started, seconds, hits)
VALUES (%(key)s, extract(epoch FROM clock_timestamp()), %(window)s, 1)
ON CONFLICT (key) DO UPDATE SET
    started = CASE WHEN c.started + c.seconds <= EXCLUDED.started THEN EXCLUDED.started ELSE c.started END,
    seconds = CASE WHEN c.started + c.seconds <= EXCLUDED.started THEN EXCLUDED.seconds ELSE c.seconds END,
    hits = CASE WHEN c.started + c.seconds <= EXCLUDED.started THEN 1 ELSE c.hits + 1 END
WHERE c.started + c.seconds <= EXCLUDED.started OR c.hits < %(limit)s
RETURNING 1
"""
GIVE_BACK = """
UPDATE _pbk_counters SET hits = hits - 1
WHERE key = %s AND hits > 0 AND started + seconds > extract(epoch FROM clock_timestamp())
"""
CLEANUP = """
DELETE FROM _pbk_messages WHERE created < now() - interval '1 minute';
DELETE FROM _pbk_counters WHERE started + seconds < extract(epoch FROM clock_timestamp()) - 60;
"""

Receive = Callable[[int, str, bytes], None]


class PostgresCluster:
    """A ``ClusterBackend`` on the PostgreSQL database of ``url`` (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.member = Member(-1, "", 0, "", "", os.getpid())
        self._identity: tuple[str, int, str, str] = ("", 0, "", "")
        self._receive: Receive = lambda sender, channel, data: None
        self._lost: Callable[[], None] = lambda: None
        self._members: dict[int, Member] = {}
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._talk: psycopg.AsyncConnection[Any] | None = None
        self._leading = False
        self._tables_made = False
        self._queue: deque[tuple[int | None, str, bytes]] = deque()
        self._queued = self._sent = 0
        self._pending = asyncio.Event()  # the queue holds messages
        self._joined = asyncio.Event()  # sending may go on (not while joining again)
        self._progress = asyncio.Condition()  # notified when messages were sent
        self._sequence = itertools.count()
        self._tasks: list[asyncio.Task[None]] = []
        self._cleaned = 0.0
        self._opening = asyncio.Lock()

    # ------------------------------------------------------------------ membership

    async def join(self, node: str, worker: int, host: str, data_dir: str, receive: Receive,
                   lost: Callable[[], None]) -> Member:
        self._identity = (node, worker, host, data_dir)
        self._receive, self._lost = receive, lost
        try:
            try:
                await self._connect(None)
            except psycopg.OperationalError:  # no such database yet (or made by another node meanwhile)
                await asyncio.to_thread(create_if_missing, self.url)
                await self._connect(None)
        except psycopg.Error as exc:
            raise PluginError(f"cannot open the PostgreSQL database {redacted(self.url)}: {_first_line(exc)}") from exc
        self._joined.set()
        self._tasks = [asyncio.create_task(self._listen_loop(), name="pbk-cluster-listen"),
                       asyncio.create_task(self._send_loop(), name="pbk-cluster-send")]
        return self.member

    async def _connect(self, previous: int | None) -> None:
        """Listen, claim a number (``previous`` if free), say so, read who is live."""
        listen = await self._open("listen")
        try:
            talk = await self._talk_connection()
            if not self._tables_made:
                async with talk.transaction():
                    await talk.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (SETUP_LOCK,))
                    await talk.execute(TABLES)
                self._tables_made = True
            await listen.execute(f"LISTEN {CHANNEL}")
            number = await self._claim(listen, previous)
            node, worker, host, data_dir = self._identity
            await listen.execute(CLAIM, (number, node, worker, host, data_dir, os.getpid()))
            self.member = Member(number, node, worker, host, data_dir, os.getpid())
            await self._notify(talk, [JOIN + f"{number}\n" + json.dumps(dataclasses.asdict(self.member))])
            self._members = await self._live(listen)
            self._members[number] = self.member
            self._leading = await self._try_lock(listen, *LEADER_LOCK)
        except BaseException:
            await listen.close()
            raise
        self._listen = listen

    async def _claim(self, conn: psycopg.AsyncConnection[Any], previous: int | None) -> int:
        taken = {number for number, _ in await (await conn.execute(HELD, (MEMBER_LOCKS,))).fetchall()}
        for number in itertools.chain([] if previous is None else [previous], range(MAX_MEMBERS)):
            if number not in taken and await self._try_lock(conn, MEMBER_LOCKS, number):
                return number
        raise PluginError(f"the cluster has {MAX_MEMBERS} members already")

    @staticmethod
    async def _try_lock(conn: psycopg.AsyncConnection[Any], first: int, second: int) -> bool:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", (first, second))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def _live(self, conn: psycopg.AsyncConnection[Any]) -> dict[int, Member]:
        rows = await (await conn.execute(LIVE, (MEMBER_LOCKS,))).fetchall()
        return {row[0]: Member(*row) for row in rows}

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._leading = False
        try:
            if self._talk is not None and not self._talk.closed:
                await self._notify(self._talk, [LEAVE + f"{self.member.number}\n"])
        except psycopg.Error:
            pass  # the others see the lock gone within a second
        if self._listen is not None and not self._listen.closed:
            try:
                # Now, not when the server notices the closed socket: a member that has left is
                # not alive from this line on (an alive() asked right after sees it gone).
                await self._listen.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                pass  # the lock goes with the connection
        for conn in (self._listen, self._talk):
            if conn is not None:
                await conn.close()  # the session's locks go with it
        self._listen = self._talk = None

    def members(self) -> Mapping[int, Member]:
        return self._members

    async def alive(self, number: int) -> bool:
        conn = await self._talk_connection()
        rows = await (await conn.execute(f"{LIVE} WHERE m.number = %s", (MEMBER_LOCKS, number))).fetchall()
        return bool(rows)

    def leading(self) -> bool:
        return self._leading

    # ------------------------------------------------------------------ counters

    async def consume(self, key: str, limit: int, window: float) -> bool:
        conn = await self._talk_connection()
        cursor = await conn.execute(CONSUME, {"key": key, "window": float(window), "limit": limit})
        return await cursor.fetchone() is not None

    async def give_back(self, key: str) -> None:
        conn = await self._talk_connection()
        await conn.execute(GIVE_BACK, (key,))

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        """A session lock on a connection of its own, held while the block runs."""
        conn = await self._open("exclusive")
        try:
            await conn.execute("SELECT pg_advisory_lock(%s::int, %s::int)", (EXCLUSIVE_LOCKS, _key(name)))
            yield
        finally:
            await conn.close()

    # ------------------------------------------------------------------ sending

    def send(self, to: int | None, channel: str, data: bytes) -> None:
        if "\n" in channel:
            raise ValueError(f"a cluster channel holds no newline: {channel!r}")
        self._queue.append((to, channel, data))
        self._queued += 1
        self._pending.set()

    async def flush(self) -> None:
        target = self._queued
        async with self._progress:
            await self._progress.wait_for(lambda: self._sent >= target)

    async def _send_loop(self) -> None:
        delay = 0.0
        while True:
            await self._pending.wait()
            await self._joined.wait()
            if delay:
                await asyncio.sleep(delay)
            batch = list(itertools.islice(self._queue, BATCH))
            try:
                conn = await self._talk_connection()
                await self._notify(conn, [await self._payload(conn, *message) for message in batch])
            except psycopg.OperationalError as exc:  # the connection: sent again on a new one
                delay = min(max(delay * 2, 0.1), MAX_BACKOFF_SECONDS)
                log.warning("sending to the other nodes failed (%s); retrying in %.1fs", _first_line(exc), delay)
                continue
            except psycopg.Error:
                log.exception("messages to the other nodes could not be sent; dropped")
            delay = 0.0
            for _ in batch:
                self._queue.popleft()
            self._sent += len(batch)
            if not self._queue:
                self._pending.clear()
            async with self._progress:
                self._progress.notify_all()

    async def _payload(self, conn: psycopg.AsyncConnection[Any], to: int | None, channel: str, data: bytes) -> str:
        head = f"{self.member.number} {'' if to is None else to} {next(self._sequence)}\n{channel}\n"
        if len(data) + len(head.encode()) <= INLINE_BYTES and b"\0" not in data and (
                data.isascii() or conn.info.encoding == "utf-8"):
            try:
                return TEXT + head + data.decode()
            except UnicodeDecodeError:
                pass
        cursor = await conn.execute("INSERT INTO _pbk_messages (data) VALUES (%s) RETURNING id", (data,))
        row = await cursor.fetchone()
        assert row is not None
        return ROW + head + str(row[0])

    @staticmethod
    async def _notify(conn: psycopg.AsyncConnection[Any], payloads: list[str]) -> None:
        if payloads:
            await conn.execute(NOTIFY_ALL, (CHANNEL, payloads))

    # ------------------------------------------------------------------ receiving

    async def _listen_loop(self) -> None:
        while True:
            try:
                assert self._listen is not None
                async for notification in self._listen.notifies(timeout=TICK_SECONDS):
                    await self._arrived(notification.payload)
                await self._tick(self._listen)
            except (psycopg.Error, OSError) as exc:
                await self._join_again(exc)

    async def _arrived(self, payload: str) -> None:
        kind = payload[:1]
        head, _, body = payload[1:].partition("\n")
        try:
            if kind == JOIN:
                member = Member(**json.loads(body))
                self._members[member.number] = member
                return
            if kind == LEAVE:
                if int(head) != self.member.number:
                    self._members.pop(int(head), None)
                return
            sender_text, to, _ = head.split(" ")
            sender = int(sender_text)
        except (ValueError, TypeError):  # not a member's: someone else NOTIFYs on the channel
            log.warning("ignored a notification on %r that no pbk member sent: %.80r", CHANNEL, payload)
            return
        if sender == self.member.number or (to and to != str(self.member.number)):
            return
        channel, _, text = body.partition("\n")
        if kind == ROW:
            conn = await self._talk_connection()
            row = await (await conn.execute("SELECT data FROM _pbk_messages WHERE id = %s", (int(text),))).fetchone()
            if row is None:
                log.warning("a message from cluster member %d was deleted before it was read", sender)
                return
            data = bytes(row[0])
        else:
            data = text.encode()
        try:
            self._receive(sender, channel, data)
        except Exception:
            log.exception("handling a message from cluster member %d failed", sender)

    async def _tick(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """About every second: try to lead, read who is live, now and then clean up."""
        if not self._leading:
            self._leading = await self._try_lock(conn, *LEADER_LOCK)
        members = await self._live(conn)
        members[self.member.number] = self.member
        self._members = members
        now = asyncio.get_running_loop().time()
        if self._leading and now - self._cleaned > CLEANUP_SECONDS:
            self._cleaned = now
            await conn.execute(CLEANUP)

    async def _join_again(self, exc: BaseException) -> None:
        """The listen connection was lost: make it again, then tell the kernel (``lost``)."""
        self._leading = False
        self._joined.clear()
        log.warning("lost the connection to the other nodes (%s); joining again", _first_line(exc))
        if self._listen is not None:
            await self._listen.close()
        delay = 0.1
        while True:
            try:
                await self._connect(self.member.number)
                break
            except Exception as retry:  # noqa: BLE001 - whatever it is, the member must come back
                log.debug("joining the other nodes again failed: %s", retry)
                if self._talk is not None:
                    await self._talk.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        log.warning("joined the other nodes again as member %d", self.member.number)
        self._joined.set()
        self._lost()

    # ------------------------------------------------------------------ connections

    async def _open(self, role: str) -> psycopg.AsyncConnection[Any]:
        """A connection whose loss both ends notice within seconds, even when a machine vanishes
        without closing it: TCP keepalives on the client's side and on the server's (then the
        server drops the session, and with it the member's locks)."""
        given = conninfo_to_dict(self.url).get("options") or ""
        return await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, application_name=f"pbk-cluster-{role}", connect_timeout=10,
            keepalives=1, keepalives_idle=KEEPALIVE[0], keepalives_interval=KEEPALIVE[1],
            keepalives_count=KEEPALIVE[2], options=f"{given} {SERVER_KEEPALIVE}".strip())

    async def _talk_connection(self) -> psycopg.AsyncConnection[Any]:
        """The send connection, made again when it was closed or broken."""
        async with self._opening:
            if self._talk is None or self._talk.closed or self._talk.broken:
                if self._talk is not None:
                    await self._talk.close()
                self._talk = await self._open("send")
            return self._talk


def _first_line(exc: BaseException) -> str:
    """What went wrong, in one line (psycopg's messages may add a hint or a detail line)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _key(name: str) -> int:
    """``name`` as the second key of an advisory lock (a signed 32-bit integer)."""
    return zlib.crc32(name.encode()) - (1 << 31)
