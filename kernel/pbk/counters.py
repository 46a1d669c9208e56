"""Fixed-window counters and a sequence shared by every worker process
(``app.cluster.counters``, ``app.cluster.sequence``).

A rate limit must hold for the whole server, whichever worker a request reaches, and checking
it must cost next to nothing. So the counters live in one table of shared memory made before
the workers are forked (a ``memfd`` mapped by every process), and a check is a hash, a short
probe and a few bytes written, under a lock held for a few microseconds.

The lock is a POSIX record lock (``fcntl.lockf``) on the memfd: uncontended it is one system
call each way, and the kernel releases it when its holder dies, so a worker killed mid-check
never blocks the others. Record locks belong to the process, so only the event loop's thread
may call ``consume`` (a second thread of the same process would not be excluded).

Each slot holds a key's 64-bit hash, the end of its current window and the hits in it. A slot
whose window has ended is free (a window that ended counts as a fresh one anyway), so the
table never needs sweeping; when every slot a key may use is busy, the one whose window ends
first is taken over. With one process (``--workers 1``, tests) the same table simply has one
user.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import time
import weakref

#: key hash, window end (unix seconds), hits in the window.
SLOT = struct.Struct("<QdI4x")
SLOTS = 1 << 14
#: How many slots from a key's home slot it may use.
PROBE = 16


class WindowCounters:
    """See the module docstring; ``pbk_sdk.interfaces.WindowCounters``."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._slots = slots
        self._fd = _anonymous_file()
        os.ftruncate(self._fd, slots * SLOT.size)
        self._table = mmap.mmap(self._fd, slots * SLOT.size)
        weakref.finalize(self, os.close, self._fd)

    def consume(self, key: str, limit: int, window: float) -> bool:
        """Count a hit on ``key``; false once ``limit`` hits were counted in the ``window``
        seconds since its first one."""
        digest = _digest(key)
        now = time.time()
        home = digest % self._slots
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            return self._consume_locked(digest, home, now, limit, window)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def give_back(self, key: str) -> None:
        """Take one counted hit of ``key``'s current window back."""
        digest = _digest(key)
        now = time.time()
        home = digest % self._slots
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            for step in range(PROBE):
                offset = ((home + step) % self._slots) * SLOT.size
                owner, ends, hits = SLOT.unpack_from(self._table, offset)
                if owner == digest:
                    if now < ends and hits:
                        SLOT.pack_into(self._table, offset, digest, ends, hits - 1)
                    return
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _consume_locked(self, digest: int, home: int, now: float, limit: int, window: float) -> bool:
        table, free, soonest, soonest_end = self._table, -1, home, None
        for step in range(PROBE):
            offset = ((home + step) % self._slots) * SLOT.size
            owner, ends, hits = SLOT.unpack_from(table, offset)
            if owner == digest:
                if now >= ends:
                    SLOT.pack_into(table, offset, digest, now + window, 1)
                    return True
                if hits >= limit:
                    return False
                SLOT.pack_into(table, offset, digest, ends, hits + 1)
                return True
            if now >= ends and free < 0:
                free = offset
            if soonest_end is None or ends < soonest_end:
                soonest, soonest_end = offset, ends
        SLOT.pack_into(table, free if free >= 0 else soonest, digest, now + window, 1)
        return True


#: the last number taken.
NUMBER = struct.Struct("<Q")


class SharedSequence:
    """Numbers that increase across every worker (``pbk_sdk.interfaces.SharedSequence``): a
    number taken after another one was taken, in whichever process, is larger. Kept in a memfd
    under the same kind of record lock as the counters (from the event loop's thread only)."""

    def __init__(self) -> None:
        self._fd = _anonymous_file()
        os.ftruncate(self._fd, NUMBER.size)
        self._number = mmap.mmap(self._fd, NUMBER.size)
        weakref.finalize(self, os.close, self._fd)

    def take(self) -> int:
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            (last,) = NUMBER.unpack_from(self._number)
            NUMBER.pack_into(self._number, 0, last + 1)
            return last + 1
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def last(self) -> int:
        """The last number taken by any process (0 before the first)."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            return NUMBER.unpack_from(self._number)[0]
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)


def _digest(key: str) -> int:
    """A key's 64-bit hash, never 0 (the mark of a slot never used)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1


def _anonymous_file() -> int:
    """A file in memory (a memfd), or an unlinked temporary file where there is none (macOS)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("pbk-counters", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())
