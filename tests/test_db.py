"""pbk.db.Database: real SQLite files, one writer thread, reader threads, transactions."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import apsw
import pytest
import pytest_asyncio
from pbk.db import Database
from pbk_sdk.errors import QueryTimeoutError

# Counts to infinity: only an interrupt ends it.
ENDLESS_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
)
# Counts to ? (about a second for 6 million on a laptop).
COUNTING_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
    "SELECT count(*) FROM c"
)


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "data.db")
    await database.open()
    await database.write(lambda conn: conn.execute("CREATE TABLE t (n INTEGER)"))
    try:
        yield database
    finally:
        await database.close()


def rows(conn: apsw.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT n FROM t ORDER BY rowid")]


def insert(conn: apsw.Connection, *values: int) -> None:
    for value in values:
        conn.execute("INSERT INTO t (n) VALUES (?)", (value,))


def committed_rows(path: Path) -> list[int]:
    """What another process would see: a fresh connection of its own."""
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return rows(conn)
    finally:
        conn.close()


def pragmas(conn: apsw.Connection) -> tuple[str, int, int]:
    return (
        conn.execute("PRAGMA journal_mode").fetchone()[0],
        conn.execute("PRAGMA foreign_keys").fetchone()[0],
        conn.execute("PRAGMA synchronous").fetchone()[0],
    )


# --------------------------------------------------------------------------- connections


async def test_the_app_database_is_a_wal_file_with_foreign_keys_and_normal_sync_on_every_connection(
    pbk_app,
):
    db = pbk_app.db
    assert db.path == pbk_app.data_dir / "data.db"
    assert db.path.is_file()

    assert await db.write(pragmas) == ("wal", 1, 1)

    # Four concurrent reads that wait for each other occupy all four reader threads.
    barrier = threading.Barrier(4, timeout=10)

    def read_pragmas(conn: apsw.Connection) -> tuple[str, tuple[str, int, int]]:
        barrier.wait()
        return threading.current_thread().name, pragmas(conn)

    results = await asyncio.gather(*(db.read(read_pragmas) for _ in range(4)))
    assert len({thread for thread, _ in results}) == 4
    assert {p for _, p in results} == {("wal", 1, 1)}
    assert (await pbk_app.aux_db.read(pragmas)) == ("wal", 1, 1)


async def test_foreign_keys_are_enforced(db: Database):
    def schema(conn: apsw.Connection) -> None:
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent INTEGER REFERENCES parent(id))")

    await db.write(schema)
    with pytest.raises(apsw.ConstraintError):
        await db.write(lambda conn: conn.execute("INSERT INTO child VALUES (42)"))


async def test_a_write_is_seen_by_a_later_read(db: Database):
    await db.write(insert, 1, 2, 3)
    assert await db.read(rows) == [1, 2, 3]
    assert committed_rows(db.path) == [1, 2, 3]


async def test_a_failing_write_leaves_nothing_behind(db: Database):
    def half_then_fail(conn: apsw.Connection) -> None:
        insert(conn, 1, 2)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.write(half_then_fail)

    assert await db.read(rows) == []
    await db.write(insert, 3)
    assert await db.read(rows) == [3]


async def test_a_constraint_violation_rolls_back_the_earlier_statements_of_that_write(
    db: Database,
):
    await db.write(lambda conn: conn.execute("CREATE UNIQUE INDEX t_n ON t (n)"))

    with pytest.raises(apsw.ConstraintError):
        await db.write(insert, 1, 2, 1)

    assert await db.read(rows) == []


async def test_reading_or_writing_a_closed_database_raises(tmp_path: Path):
    database = Database(tmp_path / "x.db")
    with pytest.raises(RuntimeError, match="not open"):
        await database.write(insert, 1)
    await database.open()
    await database.close()
    await database.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        await database.read(rows)
    with pytest.raises(RuntimeError):
        await database.write(insert, 1)
    with pytest.raises(RuntimeError, match="cannot be reopened"):
        await database.open()


# --------------------------------------------------------------------------- transactions


async def test_a_transaction_commits_its_writes_together(db: Database):
    async with db.transaction():
        await db.write(insert, 1)
        await db.write(insert, 2)
        assert committed_rows(db.path) == []

    assert committed_rows(db.path) == [1, 2]


async def test_an_exception_in_a_transaction_rolls_back_all_its_writes(db: Database):
    with pytest.raises(LookupError):
        async with db.transaction():
            await db.write(insert, 1)
            await db.write(insert, 2)
            raise LookupError

    assert await db.read(rows) == []
    assert committed_rows(db.path) == []


async def test_a_failed_inner_transaction_caught_by_its_caller_rolls_back_only_itself(
    db: Database,
):
    async with db.transaction():
        await db.write(insert, 1)
        try:
            async with db.transaction():
                await db.write(insert, 2)
                raise ValueError("inner")
        except ValueError:
            pass
        await db.write(insert, 3)

    assert await db.read(rows) == [1, 3]


async def test_a_failed_nested_write_caught_by_its_caller_rolls_back_only_that_write(
    db: Database,
):
    def fail_after_insert(conn: apsw.Connection) -> None:
        insert(conn, 20, 21)
        raise ValueError("no")

    async with db.transaction():
        await db.write(insert, 10)
        with pytest.raises(ValueError):
            await db.write(fail_after_insert)
        await db.write(insert, 11)

    assert await db.read(rows) == [10, 11]


async def test_savepoints_nest_several_levels_deep(db: Database):
    async with db.transaction():
        await db.write(insert, 1)
        async with db.transaction():
            await db.write(insert, 2)
            with pytest.raises(KeyError):
                async with db.transaction():
                    await db.write(insert, 3)
                    raise KeyError
            async with db.transaction():
                await db.write(insert, 4)

    assert await db.read(rows) == [1, 2, 4]


async def test_reads_inside_a_transaction_see_its_writes_and_another_task_sees_only_committed_data(
    db: Database,
):
    await db.write(insert, 1)
    written = asyncio.Event()
    checked = asyncio.Event()
    seen: dict[str, list[int]] = {}

    async def writer() -> None:
        async with db.transaction():
            await db.write(insert, 2)
            seen["inside"] = await db.read(rows)
            written.set()
            await checked.wait()

    async def outsider() -> None:
        await written.wait()
        seen["outside during"] = await db.read(rows)
        checked.set()

    await asyncio.gather(writer(), outsider())

    assert seen["inside"] == [1, 2]
    assert seen["outside during"] == [1]
    assert await db.read(rows) == [1, 2]


async def test_writers_from_other_tasks_wait_for_an_open_transaction(db: Database):
    order: list[str] = []
    opened = asyncio.Event()

    async def long_transaction() -> None:
        async with db.transaction():
            await db.write(insert, 1)
            opened.set()
            await asyncio.sleep(0.05)
            order.append("transaction done")

    async def other_writer() -> None:
        await opened.wait()
        await db.write(insert, 2)
        order.append("other write done")

    await asyncio.gather(long_transaction(), other_writer())

    assert order == ["transaction done", "other write done"]
    assert await db.read(rows) == [1, 2]


async def test_concurrent_writes_inside_one_transaction_each_become_a_savepoint(db: Database):
    def maybe_fail(conn: apsw.Connection, n: int) -> None:
        insert(conn, n)
        if n % 2:
            raise ValueError(n)

    async with db.transaction():
        results = await asyncio.gather(
            *(db.write(maybe_fail, n) for n in range(6)), return_exceptions=True
        )

    assert [isinstance(r, ValueError) for r in results] == [False, True] * 3
    assert sorted(await db.read(rows)) == [0, 2, 4]


async def test_a_task_spawned_in_a_transaction_that_writes_after_it_ended_gets_its_own_transaction(
    db: Database,
):
    """The spawned task inherits the transaction's context variable but must not reuse it."""
    callbacks: list[str] = []
    go = asyncio.Event()

    async def later() -> None:
        await go.wait()
        async with db.transaction():
            await db.write(insert, 99)

            async def committed() -> None:
                callbacks.append("late commit")

            db.after_commit(committed)

    async with db.transaction():
        await db.write(insert, 1)
        task = asyncio.create_task(later())

    # Another transaction is open, and rolled back, while the spawned task writes.
    with pytest.raises(ZeroDivisionError):
        async with db.transaction():
            await db.write(insert, 2)
            go.set()
            await asyncio.sleep(0.05)
            raise ZeroDivisionError
    await task

    assert callbacks == ["late commit"]
    assert committed_rows(db.path) == [1, 99]


async def test_in_transaction_is_true_only_inside_an_open_write_transaction_of_this_task(
    db: Database, tmp_path: Path
):
    other_db = Database(tmp_path / "other.db")
    await other_db.open()
    seen: dict[str, bool] = {}
    inside = asyncio.Event()
    leave = asyncio.Event()

    async def bystander() -> None:
        await inside.wait()
        seen["another task"] = db.in_transaction
        leave.set()

    def in_write_function(conn: apsw.Connection, label: str) -> None:
        seen[label] = db.in_transaction

    waiting = asyncio.create_task(bystander())
    seen["outside"] = db.in_transaction
    await db.write(in_write_function, "plain write")
    async with db.transaction():
        seen["transaction"] = db.in_transaction
        seen["other database"] = other_db.in_transaction
        async with db.transaction():
            seen["savepoint"] = db.in_transaction
        await db.write(in_write_function, "write in transaction")
        inside.set()
        await leave.wait()
    await waiting
    seen["after"] = db.in_transaction
    await other_db.close()

    assert seen == {
        "outside": False,
        "plain write": True,
        "transaction": True,
        "other database": False,
        "savepoint": True,
        "write in transaction": True,
        "another task": False,
        "after": False,
    }


async def test_a_task_spawned_in_a_transaction_is_not_in_it_once_it_ended(db: Database):
    go = asyncio.Event()

    async def later() -> bool:
        await go.wait()
        return db.in_transaction

    async with db.transaction():
        task = asyncio.create_task(later())
        await asyncio.sleep(0)
    go.set()
    assert await task is False


# --------------------------------------------------------------------------- after commit


async def test_after_commit_callbacks_run_after_the_commit_in_order(db: Database):
    calls: list[tuple[str, list[int]]] = []

    def callback(label: str):
        async def run() -> None:
            calls.append((label, committed_rows(db.path)))

        return run

    def write_and_schedule(conn: apsw.Connection) -> None:
        insert(conn, 2)
        db.after_commit(callback("from write fn"))

    async with db.transaction():
        await db.write(insert, 1)
        db.after_commit(callback("first"))
        await db.write(write_and_schedule)
        async with db.transaction():
            db.after_commit(callback("from savepoint"))
        db.after_commit(callback("last"))
        assert calls == []

    assert calls == [
        ("first", [1, 2]),
        ("from write fn", [1, 2]),
        ("from savepoint", [1, 2]),
        ("last", [1, 2]),
    ]


async def test_after_commit_callbacks_are_dropped_when_the_transaction_rolls_back(db: Database):
    calls: list[str] = []

    async def callback() -> None:
        calls.append("ran")

    with pytest.raises(RuntimeError):
        async with db.transaction():
            db.after_commit(callback)
            await db.write(insert, 1)
            raise RuntimeError

    def schedule_then_fail(conn: apsw.Connection) -> None:
        db.after_commit(callback)
        raise RuntimeError

    with pytest.raises(RuntimeError):
        await db.write(schedule_then_fail)

    assert calls == []


async def test_after_commit_callbacks_of_a_rolled_back_savepoint_are_dropped(db: Database):
    calls: list[str] = []

    def callback(label: str):
        async def run() -> None:
            calls.append(label)

        return run

    async with db.transaction():
        db.after_commit(callback("outer"))
        try:
            async with db.transaction():
                db.after_commit(callback("rolled back"))
                raise ValueError
        except ValueError:
            pass
        async with db.transaction():
            db.after_commit(callback("released"))

    assert calls == ["outer", "released"]


async def test_a_failing_after_commit_callback_is_logged_and_the_others_still_run(
    db: Database, caplog
):
    calls: list[str] = []

    async def broken() -> None:
        raise RuntimeError("callback failed")

    async def fine() -> None:
        calls.append("fine")

    async with db.transaction():
        db.after_commit(broken)
        db.after_commit(fine)

    assert calls == ["fine"]
    assert any("after-commit callback" in r.getMessage() for r in caplog.records)


async def test_after_commit_outside_a_transaction_raises(db: Database):
    async def callback() -> None:
        pass

    with pytest.raises(RuntimeError, match="open transaction"):
        db.after_commit(callback)
    async with db.transaction():
        pass
    with pytest.raises(RuntimeError):
        db.after_commit(callback)


async def test_a_callback_can_write_again_in_a_new_transaction(db: Database):
    async def follow_up() -> None:
        await db.write(insert, 2)

    def first(conn: apsw.Connection) -> None:
        insert(conn, 1)
        db.after_commit(follow_up)

    await db.write(first)

    assert await db.read(rows) == [1, 2]


# --------------------------------------------------------------------------- timeouts, the loop


async def test_a_read_past_the_query_timeout_is_interrupted_and_the_connection_stays_usable(
    tmp_path: Path,
):
    database = Database(tmp_path / "slow.db", readers=1, query_timeout=0.2)
    await database.open()
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError) as info:
            await database.read(lambda conn: conn.execute(ENDLESS_QUERY).fetchall())
        assert 0.15 < time.monotonic() - started < 5
        assert info.value.status == 400

        # The only reader connection answers the next read.
        assert await database.read(lambda conn: conn.execute("SELECT 1").fetchall()) == [(1,)]
        assert await database.read(
            lambda conn: conn.execute(COUNTING_QUERY, (1000,)).fetchall()
        ) == [(1000,)]
    finally:
        await database.close()


async def test_a_slow_read_does_not_block_the_event_loop(tmp_path: Path):
    database = Database(tmp_path / "slow.db", query_timeout=0)
    await database.open()
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        started = time.monotonic()
        result = await database.read(
            lambda conn: conn.execute(COUNTING_QUERY, (6_000_000,)).fetchall()
        )
        elapsed = time.monotonic() - started
    finally:
        done = True
        await ticking
        await database.close()

    assert result == [(6_000_000,)]
    assert elapsed > 0.2
    # A blocked loop would tick once or twice; a free one about elapsed / 10 ms times.
    assert ticks >= max(5, elapsed / 0.01 * 0.25), (ticks, elapsed)


async def test_many_concurrent_reads_and_writes_all_succeed(db: Database):
    await db.write(lambda conn: conn.execute("CREATE TABLE counter (n INTEGER)"))
    await db.write(lambda conn: conn.execute("INSERT INTO counter VALUES (0)"))

    def bump(conn: apsw.Connection) -> None:
        conn.execute("UPDATE counter SET n = n + 1")

    def read_counter(conn: apsw.Connection) -> int:
        return conn.execute("SELECT n FROM counter").fetchone()[0]

    writes = [db.write(bump) for _ in range(50)]
    inserts = [db.write(insert, i) for i in range(50)]
    reads = [db.read(read_counter) for _ in range(50)]
    results = await asyncio.gather(*writes, *inserts, *reads)

    seen = results[100:]
    assert all(0 <= n <= 50 for n in seen)
    assert await db.read(read_counter) == 50
    assert sorted(await db.read(rows)) == list(range(50))


async def test_cancelling_a_task_inside_a_transaction_rolls_it_back(db: Database):
    inside = asyncio.Event()

    async def interrupted() -> None:
        async with db.transaction():
            await db.write(insert, 1)
            inside.set()
            await asyncio.sleep(30)
            await db.write(insert, 2)

    task = asyncio.create_task(interrupted())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await db.read(rows) == []
    await asyncio.wait_for(db.write(insert, 3), 5)
    assert committed_rows(db.path) == [3]


async def test_cancelling_a_task_while_its_write_runs_rolls_it_back(db: Database):
    started = threading.Event()

    def slow_write(conn: apsw.Connection) -> None:
        insert(conn, 1)
        started.set()
        conn.execute(COUNTING_QUERY, (2_000_000,)).fetchall()
        insert(conn, 2)

    task = asyncio.create_task(db.write(slow_write))
    while not started.is_set():
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await db.read(rows) == []
    await asyncio.wait_for(db.write(insert, 3), 5)
    assert await db.read(rows) == [3]


async def test_a_timeout_around_a_transaction_rolls_it_back(db: Database):
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            async with db.transaction():
                await db.write(insert, 1)
                await asyncio.sleep(30)

    assert await db.read(rows) == []
    await db.write(insert, 2)
    assert await db.read(rows) == [2]


# --------------------------------------------------------------------------- several handles


async def test_two_database_objects_on_one_file_see_each_others_writes(tmp_path: Path):
    path = tmp_path / "shared.db"
    first = Database(path)
    second = Database(path)
    await first.open()
    await second.open()
    try:
        await first.write(lambda conn: conn.execute("CREATE TABLE t (n INTEGER)"))
        await first.write(insert, 1)
        assert await second.read(rows) == [1]

        await second.write(insert, 2)
        assert await first.read(rows) == [1, 2]

        # Both writers at once: SQLite's lock (busy timeout) serialises them.
        await asyncio.gather(*(first.write(insert, n) for n in range(10, 20)),
                             *(second.write(insert, n) for n in range(20, 30)))
        assert sorted(await first.read(rows)) == [1, 2, *range(10, 30)]
    finally:
        await first.close()
        await second.close()


async def test_after_rollback_runs_only_when_the_work_is_undone(tmp_path):
    from pbk.db import Database

    db = Database(tmp_path / "rollback.db")
    await db.open()
    ran: list[str] = []

    def note(name: str):
        async def callback() -> None:
            ran.append(name)

        return callback

    try:
        async with db.transaction():
            db.after_rollback(note("committed"))
        with pytest.raises(RuntimeError):
            async with db.transaction():
                async with db.transaction():  # a released savepoint hands its callbacks up
                    db.after_rollback(note("outer rolled back"))
                raise RuntimeError("boom")
        async with db.transaction():
            with pytest.raises(ValueError):
                async with db.transaction():
                    db.after_rollback(note("savepoint rolled back"))
                    raise ValueError("inner")
        with pytest.raises(RuntimeError, match="after_rollback"):
            db.after_rollback(note("nowhere"))
    finally:
        await db.close()
    assert ran == ["outer rolled back", "savepoint rolled back"]


async def test_a_cancellation_during_commit_still_reports_the_commit(tmp_path):
    from pbk.db import Database

    db = Database(tmp_path / "slow-commit.db")
    await db.open()
    ran: list[str] = []

    async def note_commit() -> None:
        ran.append("after_commit")

    async def note_rollback() -> None:
        ran.append("after_rollback")

    def slow_commit() -> bool:
        time.sleep(0.3)
        return False  # allow the commit

    try:
        await db.write(lambda conn: conn.execute("CREATE TABLE t (x)"))
        await db.write(lambda conn: conn.set_commit_hook(slow_commit))

        async def work() -> None:
            async with db.transaction():
                await db.write(lambda conn: conn.execute("INSERT INTO t VALUES (1)"))
                db.after_commit(note_commit)
                db.after_rollback(note_rollback)

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(work(), 0.1)
        await asyncio.sleep(0.05)
        await db.write(lambda conn: conn.set_commit_hook(None))
        assert await db.read(lambda conn: conn.execute("SELECT COUNT(*) FROM t").get) == 1
        assert ran == ["after_commit"]
    finally:
        await db.close()


async def test_an_inline_write_runs_on_the_loop_and_commits_like_any_write(db: Database):
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def insert(conn: apsw.Connection) -> None:
        seen.append(threading.get_ident())
        conn.execute("INSERT INTO t VALUES (1)")

    committed: list[bool] = []

    async def on_commit() -> None:
        committed.append(True)

    await db.write(insert, inline=True, on_commit=on_commit)
    assert seen == [loop_thread] and committed == [True]
    assert await db.read(rows) == [1]

    def failing(conn: apsw.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (2)")
        raise ValueError("no")

    with pytest.raises(ValueError):
        await db.write(failing, inline=True)
    assert await db.read(rows) == [1]


async def test_the_wal_is_checkpointed_on_a_thread_of_its_own_never_by_a_commit_on_the_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
):
    """A commit on the event loop (an inline write) never runs SQLite's checkpoint, which copies
    up to 4 MB into the database and syncs it: the checkpoint thread does, once the WAL is long."""
    monkeypatch.setattr("pbk.db.CHECKPOINT_PAGES", 4)
    checkpoints: list[str] = []
    real_checkpoint = db._checkpoint

    def recorded() -> None:
        checkpoints.append(threading.current_thread().name)
        real_checkpoint()

    monkeypatch.setattr(db, "_checkpoint", recorded)

    await db.write(lambda conn: conn.execute("CREATE TABLE big (b BLOB)"))
    for _ in range(10):  # 20 KB a row: 5 pages a commit
        await db.write(lambda conn: conn.execute("INSERT INTO big VALUES (zeroblob(20000))"), inline=True)
    await asyncio.get_running_loop().run_in_executor(None, db._checkpointer.submit(lambda: None).result)
    assert db._writer_conn is not None and db._writer_conn.pragma("wal_autocheckpoint") == 0
    assert checkpoints and all(name.startswith("pbk-db-checkpoint") for name in checkpoints)
    # What the WAL held is in the database file now: another checkpoint finds nothing to copy.
    frames, copied = await db.read(lambda conn: conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_PASSIVE))
    assert frames == copied


async def test_an_inline_write_waits_on_the_writer_thread_while_another_process_holds_the_lock(
    db: Database,
):
    """Another connection (as another worker process would) holds the write lock: the inline
    write must not block the event loop; it waits on the writer thread and then commits."""
    other = apsw.Connection(str(db.path))
    other.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (7)")
    threads: list[int] = []

    def insert(conn: apsw.Connection) -> None:
        threads.append(threading.get_ident())
        conn.execute("INSERT INTO t VALUES (8)")

    write = asyncio.create_task(db.write(insert, inline=True))
    ticks = 0
    while ticks < 20:  # the loop keeps turning while the write waits
        await asyncio.sleep(0.005)
        ticks += 1
    assert not write.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(write, 5)
    assert threads and threads[0] != threading.get_ident()
    assert await db.read(rows) == [7, 8]


async def test_a_transaction_begun_by_an_inline_write_waits_on_the_writer_while_the_lock_is_held(
    db: Database,
):
    """The first inline write of a transaction while another process holds the write lock:
    BEGIN must not block the event loop; it waits on the writer thread, then all commits."""
    other = apsw.Connection(str(db.path))
    other.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (7)")
    threads: list[int] = []

    def insert(conn: apsw.Connection, n: int) -> None:
        threads.append(threading.get_ident())
        conn.execute("INSERT INTO t VALUES (?)", (n,))

    async def two_writes() -> None:
        async with db.transaction():
            await db.write(insert, 8, inline=True)
            await db.write(insert, 9, inline=True)

    writes = asyncio.create_task(two_writes())
    for _ in range(20):  # the loop keeps turning while BEGIN waits
        await asyncio.sleep(0.005)
    assert not writes.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writes, 5)
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()
    assert await db.read(rows) == [7, 8, 9]


async def test_an_inline_write_inside_a_begun_transaction_is_a_savepoint_on_the_loop(db: Database):
    """A batch's writes: while nothing of the transaction is on the writer thread, each inline
    write is a savepoint run on the loop (the first one begins the transaction there); a
    failing one is undone alone, and the whole is committed (or rolled back) as one."""
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def insert(conn: apsw.Connection, n: int) -> None:
        threads.append(threading.get_ident())
        conn.execute("INSERT INTO t VALUES (?)", (n,))

    def failing(conn: apsw.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (99)")
        raise ValueError("no")

    async with db.transaction():
        await db.write(insert, 1, inline=True)  # begins the transaction, on the loop
        await db.write(insert, 2, inline=True)
        with pytest.raises(ValueError):
            await db.write(failing, inline=True)
        slow = asyncio.create_task(db.read(lambda conn: conn.execute(COUNTING_QUERY, (200_000,)).get))
        await asyncio.sleep(0)  # the read is on the writer thread: the next write waits its turn
        await db.write(insert, 3, inline=True)
        await slow
    assert threads[:2] == [loop_thread, loop_thread] and threads[2] != loop_thread
    assert await db.read(rows) == [1, 2, 3]

    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.write(insert, 4, inline=True)
            await db.write(insert, 5, inline=True)
            raise RuntimeError("roll back")
    assert await db.read(rows) == [1, 2, 3]


def _write_then_count(conn: apsw.Connection, threads: list[int], n: int, count_to: int) -> int:
    """An INSERT and then a costly read-only statement (a rule over a big table)."""
    threads.append(threading.get_ident())
    conn.execute("INSERT INTO t VALUES (?)", (n,))
    counted: int = conn.execute(COUNTING_QUERY, (count_to,)).get
    return counted


async def _loop_turns_while(work: asyncio.Future[int]) -> int:
    turns = 0
    while not work.done():
        await asyncio.sleep(0)
        turns += 1
    return turns


async def test_an_inline_write_past_its_step_budget_is_undone_and_run_again_on_the_writer(db: Database):
    """As ``read_inline``: a write whose statements take more than a small budget of SQLite
    steps stops holding the event loop; what it did is rolled back and it runs again, whole,
    on the writer thread. A short one stays on the loop."""
    loop_thread = threading.get_ident()
    threads: list[int] = []
    work = asyncio.ensure_future(db.write(_write_then_count, threads, 1, 3_000_000, inline=True))
    turns = await _loop_turns_while(work)
    assert await work == 3_000_000
    assert threads[0] == loop_thread and threads[1:] and threads[1] != loop_thread and len(threads) == 2
    assert turns > 10, "the loop turned while the write ran on the writer thread"
    assert await db.read(rows) == [1]  # the undone run left nothing behind

    threads.clear()
    assert await db.write(_write_then_count, threads, 2, 10, inline=True) == 10
    assert threads == [loop_thread]
    assert await db.read(rows) == [1, 2]


def _slow_steps(conn: apsw.Connection, threads: list[int], rows: int) -> int:
    """A read whose few steps are slow (as steps waiting on a busy disk are): a millisecond a row."""
    threads.append(threading.get_ident())
    conn.create_scalar_function("slow_step", lambda value: time.sleep(0.001) or value, 1)
    return conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "SELECT COUNT(slow_step(i)) FROM n", (rows,)).get


async def test_inline_work_whose_steps_are_slow_leaves_the_loop_after_a_few_milliseconds(db: Database):
    """The step budget also has a time budget: 400 slow rows are far fewer steps than the budget
    allows, yet take 0.4 s; the loop is held for one progress check's worth of them, not all."""
    loop_thread = threading.get_ident()
    for inline_call in (
        lambda threads: db.write(_slow_steps, threads, 400, inline=True),
        lambda threads: db.read_inline(_slow_steps, threads, 400),
    ):
        threads: list[int] = []
        work = asyncio.ensure_future(inline_call(threads))
        started = time.monotonic()
        await asyncio.sleep(0)  # the work begins on the loop and holds it until it leaves
        held = time.monotonic() - started
        assert await work == 400
        assert threads[0] == loop_thread and threads[-1] != loop_thread
        assert held < 0.2, f"the loop was held {held:.2f}s"


async def test_an_inline_write_past_its_budget_inside_a_transaction_redoes_only_its_savepoint(db: Database):
    loop_thread = threading.get_ident()
    threads: list[int] = []
    async with db.transaction():
        await db.write(insert, 1, inline=True)  # begins the transaction on the writer thread
        work = asyncio.ensure_future(db.write(_write_then_count, threads, 2, 3_000_000, inline=True))
        turns = await _loop_turns_while(work)
        assert await work == 3_000_000
        await db.write(insert, 3, inline=True)
    assert threads[0] == loop_thread and len(threads) == 2 and threads[1] != loop_thread
    assert turns > 10
    assert await db.read(rows) == [1, 2, 3]


async def test_a_writing_statement_past_the_budget_is_not_interrupted(db: Database):
    """Interrupting an INSERT would roll the whole transaction back (an enclosing one's work
    included): a writing statement past the budget runs to its end, on the loop."""
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def insert_many(conn: apsw.Connection) -> None:
        threads.append(threading.get_ident())
        conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) "
            "INSERT INTO t (n) SELECT x FROM c"
        )

    async with db.transaction():
        await db.write(insert, 0, inline=True)
        await db.write(insert_many, inline=True)
    assert threads == [loop_thread]
    assert await db.read(lambda conn: conn.execute("SELECT COUNT(*), MAX(n) FROM t").get) == (50001, 50000)
