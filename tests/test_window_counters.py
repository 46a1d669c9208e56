"""pbk.counters.WindowCounters: one table of hit counters shared by forked processes."""

from __future__ import annotations

import fcntl
import os
import signal
import time

from pbk.counters import WindowCounters


def in_child(action) -> int:
    """Run ``action()`` in a forked process; its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            action()
        finally:
            os._exit(0)
    return os.waitpid(pid, 0)[1]


def test_hits_counted_in_a_forked_worker_count_here_too():
    counters = WindowCounters()
    assert in_child(lambda: [counters.consume("k", 5, 60) for _ in range(4)]) == 0
    assert counters.consume("k", 5, 60)
    assert not counters.consume("k", 5, 60)
    assert counters.consume("other", 5, 60)


def test_a_worker_killed_holding_the_lock_does_not_block_the_others():
    counters = WindowCounters()
    holding, held = os.pipe()
    pid = os.fork()
    if pid == 0:
        fcntl.lockf(counters._fd, fcntl.LOCK_EX)
        os.write(held, b"x")  # the lock is taken
        time.sleep(60)
        os._exit(0)
    os.close(held)
    assert os.read(holding, 1) == b"x"
    os.close(holding)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert counters.consume("k", 1, 60)
    assert not counters.consume("k", 1, 60)


def test_a_full_neighbourhood_gives_the_slot_whose_window_ends_first():
    counters = WindowCounters(slots=16)
    assert all(counters.consume(f"key{n}", 1, 60 + n) for n in range(16))
    assert counters.consume("newcomer", 1, 600)  # takes key0's slot, the first to end
    assert not counters.consume("newcomer", 1, 600)
    assert counters.consume("key0", 1, 60)  # forgotten: counted afresh
    assert not counters.consume("key15", 1, 75)


def test_a_window_that_ended_starts_over():
    counters = WindowCounters()
    time.sleep(1.01 - time.time() % 1)  # just after a second starts: both calls fall within it
    assert counters.consume("k", 1, 1)
    assert not counters.consume("k", 1, 1)
    time.sleep(1.05 - time.time() % 1)  # into the next second
    assert counters.consume("k", 1, 1)
