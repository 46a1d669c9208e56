"""``pbk serve --workers N``: one supervisor, N forked worker processes, every core used.

The supervisor imports the plugins and builds the app (so the workers share those pages
copy-on-write and start in milliseconds), binds the listening sockets, then forks the workers:
worker 0 first, alone, so that the migrations run once, and the others when it serves. It never
opens the database and runs no threads, so forking again to replace a worker that died is safe.

Each worker gets its own ``SO_REUSEPORT`` socket on the same address, so the kernel spreads
connections across the workers evenly; the sockets stay open in the supervisor, so connections
that arrive while a worker is being replaced wait in its backlog instead of being refused. Where
``SO_REUSEPORT`` is missing, the workers share one socket.

The supervisor also relays the workers' link frames (see ``pbk.cluster``): broadcasts to every
other worker, calls and replies to one. SIGINT/SIGTERM stop every worker gracefully; the
supervisor exits once they have. A worker's ``app.cluster.restart()`` stops every worker the
same way, then the supervisor runs ``pbk_prepare_data_dir`` (as before the first start) and
starts them again; meanwhile connections wait in the sockets' backlogs. If the first worker
cannot start on what that hook prepared (a restored backup), the hook is asked to put the
previous data back and the workers start once more on it.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from pbk_sdk.errors import PluginError

from .cluster import (
    BROADCAST,
    CALL,
    HEADER,
    MAX_WORKERS,
    READY,
    RESTART,
    UNREACHABLE,
    frame,
    shared_epochs,
)
from .config import parse_address
from .server import GRACEFUL_SHUTDOWN_SECONDS, start_banner

log = logging.getLogger("pbk.workers")

PEER = struct.Struct("!H")
PEER_OFFSET = 5  # after the length and the kind
#: A worker that stops reading its link (stuck) is replaced rather than buffered for ever.
MAX_PENDING_BYTES = 64 << 20
#: More restarts than this within RESTART_WINDOW seconds: something is wrong; stop everything.
MAX_RESTARTS = 5
RESTART_WINDOW = 30.0
BACKLOG = 2048


@dataclass
class Worker:
    slot: int
    pid: int
    link: socket.socket
    ready: bool = False
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)


def listening_sockets(address: str, count: int) -> list[socket.socket]:
    """``count`` listening sockets on ``address``: with several, one each, sharing the port
    through SO_REUSEPORT (one shared socket where the platform lacks it).

    The address is bound without SO_REUSEPORT first, so that a server already listening there,
    another pbk's workers included, is an error rather than a silent split of its connections.
    """
    host, port = parse_address(address)
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    reuse_port = getattr(socket, "SO_REUSEPORT", None) if count > 1 else None
    sockets: list[socket.socket] = []

    def bind(sharing: bool) -> socket.socket:
        sock = socket.socket(family, kind, proto)
        sockets.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sharing:
            sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)  # type: ignore[arg-type]
        sock.bind(sockaddr)
        return sock

    try:
        probe = bind(sharing=False)
        if reuse_port is None:
            probe.listen(BACKLOG)
            return [probe] * count
        sockaddr = probe.getsockname()  # port 0: every worker on the port the probe got
        probe.close()
        sockets.clear()
        for _ in range(count):
            bind(sharing=True).listen(BACKLOG)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(f"cannot listen on {address}: the address is already in use") from exc
        if exc.errno == errno.EACCES:
            raise OSError(f"cannot listen on {address}: permission denied (a port below 1024 needs "
                          "root or CAP_NET_BIND_SERVICE)") from exc
        raise
    return sockets


class Supervisor:
    """Forks, relays for and replaces the workers; ``run()`` returns the exit code."""

    def __init__(self, app: Any, count: int, run_worker: Callable[..., bool]) -> None:
        if not 1 < count <= MAX_WORKERS:
            raise ValueError(f"--workers must be between 1 and {MAX_WORKERS}")
        self.app = app
        self.count = count
        self.run_worker = run_worker
        self.workers: dict[int, Worker] = {}  # by slot
        self.restarts: list[float] = []
        self.stopping = False
        self.failed = False
        self.serving = False  # the first worker answered: the others have been started
        self.announced = False  # the banner was printed (once, not at every restart)
        self.restarting = False  # a worker asked for a restart: every worker is stopping
        self.deadline: float | None = None  # stopping workers are killed past it
        #: pbk_prepare_data_dir asked to be called again if the first worker cannot start.
        self.unproven = False

    def run(self) -> int:
        config = self.app.config
        self.sockets = listening_sockets(config.https or config.http, self.count)
        # With HTTPS, each worker also serves the HTTP listener that redirects to it.
        self.redirect_sockets = listening_sockets(config.http, self.count) if config.https else []
        self.epochs = shared_epochs()
        self.selector = selectors.DefaultSelector()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        gc.freeze()  # the imported modules stay shared with the workers instead of being copied
        try:
            self.unproven = self.app.prepare_data_dir()
            self._spawn(0)
            while self.workers:
                for key, events in self.selector.select(0.2):
                    worker = key.data
                    if events & selectors.EVENT_READ:
                        self._receive(worker)
                    if events & selectors.EVENT_WRITE and worker.slot in self.workers:
                        self._flush(worker)
                self._reap()
                if (self.stopping or self.restarting) and self.deadline is None:
                    self.deadline = time.monotonic() + GRACEFUL_SHUTDOWN_SECONDS + 5.0
                    self._signal_all(signal.SIGTERM)
                elif self.deadline is not None and time.monotonic() > self.deadline:
                    self._signal_all(signal.SIGKILL)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in {*self.sockets, *self.redirect_sockets}:
                sock.close()
            self.selector.close()
        return 1 if self.failed else 0

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _signal_all(self, sig: int) -> None:
        for worker in self.workers.values():
            try:
                os.kill(worker.pid, sig)
            except ProcessLookupError:
                pass

    # ------------------------------------------------------------------ processes

    def _spawn(self, slot: int) -> None:
        ours, theirs = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            ours.close()
            os._exit(self._become_worker(slot, theirs))
        theirs.close()
        ours.setblocking(False)
        worker = Worker(slot, pid, ours)
        self.workers[slot] = worker
        self.selector.register(ours, selectors.EVENT_READ, worker)

    def _become_worker(self, slot: int, link: socket.socket) -> int:
        code = 1
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            self.selector.close()
            for other in self.workers.values():
                other.link.close()
            redirect_sock = self.redirect_sockets[slot] if self.redirect_sockets else None
            for sock in {*self.sockets, *self.redirect_sockets} - {self.sockets[slot], redirect_sock}:
                sock.close()
            self.app.cluster.join(slot, self.count, link, self.epochs)
            code = 0 if self.run_worker(self.app, self.sockets[slot], worker=True, redirect_sock=redirect_sock) else 1
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except PluginError as exc:  # what the operator can fix (a database out of reach): one line
            if self.app.config.dev:
                traceback.print_exc()
            print(f"Error: {exc}", file=sys.stderr)
        except BaseException:  # noqa: BLE001 - a worker's last word: whatever ended it
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = next((w for w in self.workers.values() if w.pid == pid), None)
            if worker is None:
                continue
            self._drop(worker)
            if self.stopping:
                continue
            if self.restarting:
                if not self.workers:
                    self._start_again()
                continue
            code = os.waitstatus_to_exitcode(status)
            if not self.serving:
                # The first worker could not start (migrations, settings, plugins): it said why.
                if not self._put_previous_data_back():
                    self.failed = self.stopping = True
                continue
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW] + [now]
            if len(self.restarts) > MAX_RESTARTS:
                log.error("workers keep exiting (%d restarts in %ds); stopping", len(self.restarts), RESTART_WINDOW)
                self.failed = self.stopping = True
                continue
            log.warning("worker %d (pid %d) exited with %s; starting another", worker.slot, pid, code)
            self._spawn(worker.slot)

    def _start_again(self) -> None:
        """Every worker stopped for a restart: prepare the data dir, start them as at first."""
        self.restarting = self.serving = False
        self.deadline = None
        try:
            self.unproven = self.app.prepare_data_dir()
        except Exception:
            log.exception("preparing the data dir for the restart failed; stopping")
            self.failed = self.stopping = True
            return
        self._spawn(0)

    def _put_previous_data_back(self) -> bool:
        """The first worker could not start on what ``pbk_prepare_data_dir`` prepared (a
        restored backup): have it put the previous data back and start once more on that."""
        if not self.unproven:
            return False
        self.unproven = False
        try:
            if not self.app.prepare_data_dir(after_failed_start=True):
                return False
        except Exception:
            log.exception("putting the previous data back failed; stopping")
            return False
        log.error("the first worker could not start on the prepared data dir; starting again on the previous data")
        self._spawn(0)
        return True

    def _drop(self, worker: Worker) -> None:
        if self.workers.get(worker.slot) is worker:
            del self.workers[worker.slot]
        try:
            self.selector.unregister(worker.link)
        except (KeyError, ValueError):
            pass
        worker.link.close()

    # ------------------------------------------------------------------ the relay

    def _receive(self, worker: Worker) -> None:
        try:
            data = worker.link.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.selector.unregister(worker.link)  # it is exiting; _reap() cleans up
            return
        worker.inbox += data
        while len(worker.inbox) >= 4:
            (length,) = struct.unpack_from("!I", worker.inbox)
            if len(worker.inbox) < 4 + length:
                break
            message = bytearray(worker.inbox[: 4 + length])
            del worker.inbox[: 4 + length]
            self._route(worker, message)

    def _route(self, source: Worker, message: bytearray) -> None:
        kind = message[4]
        if kind == READY:
            self._ready(source)
            return
        if kind == RESTART:
            if not self.stopping and not self.restarting:
                log.warning("worker %d asked for a restart; restarting every worker", source.slot)
                self.restarting = True
            return
        (destination,) = PEER.unpack_from(message, PEER_OFFSET)
        PEER.pack_into(message, PEER_OFFSET, source.slot)
        if kind == BROADCAST:
            for worker in list(self.workers.values()):
                if worker is not source:
                    self._send(worker, message)
            return
        target = self.workers.get(destination)
        if target is not None:
            self._send(target, message)
        elif kind == CALL:
            _, _, _, call_id, _ = HEADER.unpack_from(message)
            self._send(source, frame(UNREACHABLE, destination, call_id, "", b""))

    def _ready(self, worker: Worker) -> None:
        worker.ready = True
        if not self.serving and not self.stopping:
            self.serving = True
            self.unproven = False
            if not self.announced:
                self.announced = True
                click.echo(start_banner(self.app, self.count))
            for slot in range(1, self.count):
                self._spawn(slot)

    def _send(self, worker: Worker, message: bytes | bytearray) -> None:
        if len(worker.outbox) + len(message) > MAX_PENDING_BYTES:
            log.error("worker %d stopped reading its link; replacing it", worker.slot)
            os.kill(worker.pid, signal.SIGKILL)
            return
        was_empty = not worker.outbox
        worker.outbox += message
        if was_empty:
            self._flush(worker)

    def _flush(self, worker: Worker) -> None:
        try:
            sent = worker.link.send(worker.outbox)
        except BlockingIOError:
            sent = 0
        except OSError:
            worker.outbox.clear()  # it is gone; _reap() cleans up
            sent = 0
        del worker.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if worker.outbox else 0)
        try:
            self.selector.modify(worker.link, events, worker)
        except (KeyError, ValueError):
            pass
