"""The measuring loop shared by the main run and the scale run.

For each scenario, every server gets the same request spec: a pre-flight request that must
answer 2xx, a warm-up, then ``rounds`` measurements, the servers' order rotating each round so
drift cancels out in the paired ratios. Before each measurement every server must be idle.
A measurement with more than ``MAX_ERROR_SHARE`` of failed requests (non-2xx/3xx, timeouts) is
kept in the JSON but marked invalid: it never enters a median, and the run exits non-zero.
"""

from __future__ import annotations

import abc
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self

import httpx

from .loadgen import LoadResult, RequestSpec
from .postgres import BenchDatabase, WriteLockWatch
from .scenarios import LoadScenario
from .servers import Running

MAX_ERROR_SHARE = 0.01
#: rows per second of a delete run at least (see RowPool)
MIN_DELETE_RATE = 10_000


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Sampler(abc.ABC):
    """Calls ``sample()`` every ``interval`` seconds on a thread while a load runs, and once
    more at the end."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @abc.abstractmethod
    def sample(self) -> None:
        """Take one reading."""

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class RssSampler(Sampler):
    """Peak RSS (process + children) of a server while a load runs."""

    def __init__(self, running: Running, interval: float = 0.2) -> None:
        super().__init__(interval)
        self.running, self.peak = running, 0

    def sample(self) -> None:
        self.peak = max(self.peak, self.running.rss_kib())


class LockSampler(Sampler):
    """While a load runs on pbk-pg: the share of samples in which app.db's advisory write lock
    was held, and the mean number of writers waiting for it. With the load's request count, the
    share gives the lock's hold time per request, whose inverse bounds any number of nodes'
    writes."""

    def __init__(self, database: BenchDatabase, interval: float = 0.01) -> None:
        super().__init__(interval)
        self.watch = WriteLockWatch(database)
        self.samples = self.held = self.waiting = 0

    def sample(self) -> None:
        held, waiting = self.watch.sample()
        self.samples += 1
        self.held += 1 if held else 0
        self.waiting += waiting

    @property
    def held_share(self) -> float | None:
        return self.held / self.samples if self.samples else None

    @property
    def mean_waiting(self) -> float | None:
        return self.waiting / self.samples if self.samples else None

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.watch.close()


def settle(running: Sequence[Running], quiet_share: float = 0.1, limit: float = 20.0) -> float:
    """Wait until every server is idle (together under ``quiet_share`` of a core over half a
    second), so no server's leftover work (PocketBase writes its request log in the background
    after a load) runs during the next one's measurement; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(r.cpu_seconds() for r in running)
        time.sleep(0.5)
        if sum(r.cpu_seconds() for r in running) - before < quiet_share * 0.5:
            break
    return time.monotonic() - started


@dataclass
class RowPool:
    """The rows the ``delete`` scenario consumes, one per request, never reused: before each
    run, fresh ``trash`` rows; after it, what is left of them is removed, so every run starts
    from the same table. Every server gets as many rows per second of run: three times the best
    rate any server has deleted at so far, at least ``MIN_DELETE_RATE``."""

    next_id: int = 0
    best_rate: float = 0.0

    def run(self, running: Running, spec: RequestSpec, seconds: float, connections: int,
            go: Callable[[RequestSpec], LoadResult], *, learn: bool = True) -> LoadResult:
        count = int(max(MIN_DELETE_RATE, 3 * self.best_rate) * max(1.0, seconds)) + 4 * connections
        first, self.next_id = self.next_id, self.next_id + count
        running.refill_trash(first, count)
        try:
            result = go(replace(spec, first_id=first))
        finally:
            running.clear_trash_from(first)
        if learn:
            self.best_rate = max(self.best_rate, result.throughput)
        return result


def preflight(url: str, what: str, spec: RequestSpec) -> dict[str, Any]:
    """One request first: a benchmark of error answers measures nothing."""
    response = httpx.request(spec.method, url + spec.path(0), headers=spec.headers,
                             content=spec.content(0), timeout=60.0)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{what}: {spec.method} {spec.path(0)} answered "
                           f"{response.status_code}: {response.text[:300]}")
    return {"status": response.status_code, "bytes": len(response.content)}


@dataclass
class Loop:
    """One set of started servers and the scenarios to run on them."""

    running: dict[str, Running]
    run_load: Callable[..., LoadResult]
    threads: int = 1
    pool: RowPool = field(default_factory=RowPool)
    invalid: list[str] = field(default_factory=list)

    def once(self, server: str, scenario: LoadScenario, spec: RequestSpec, seconds: float) -> LoadResult:
        running = self.running[server]

        def go(actual: RequestSpec) -> LoadResult:
            waited = settle(list(self.running.values()))
            if waited > 1.0:
                log(f"waited {waited:.1f} s for the servers to go idle")
            return costed(running, lambda: self.run_load(running.url, actual, connections=scenario.connections,
                                                         seconds=seconds, threads=self.threads),
                          watch_lock=scenario.kind == "write")

        if spec.id_path is not None:
            return self.pool.run(running, spec, seconds, scenario.connections, go)
        return go(spec)

    def check(self, scenarios: Sequence[LoadScenario], specs: dict[tuple[str, str], RequestSpec]) -> dict[str, Any]:
        """Pre-flight every scenario on every server; log where the answers differ in status."""
        answers: dict[str, Any] = {}
        for scenario in scenarios:
            for server, running in self.running.items():
                spec = specs[scenario.name, server]
                what = f"{scenario.name} on {server}"
                if spec.id_path is not None:
                    self.pool.run(running, spec, 0, 1, lambda s, u=running.url, w=what: _single(u, w, s),
                                  learn=False)
                    continue
                answers.setdefault(scenario.name, {})[server] = preflight(running.url, what, spec)
            statuses = {a["status"] for a in answers.get(scenario.name, {}).values()}
            if len(statuses) > 1:
                log(f"note: {scenario.name} answers differ in status: {answers[scenario.name]}")
        return answers

    def measure(self, scenarios: Sequence[LoadScenario], specs: dict[tuple[str, str], RequestSpec], *,
                rounds: int, seconds: float, warmup: float, label: str = "") -> dict[str, dict[str, list]]:
        names = list(self.running)
        self.check(scenarios, specs)
        if warmup > 0:
            for scenario in scenarios:
                for name in names:
                    self.once(name, scenario, specs[scenario.name, name], warmup)
            log(f"{label}warmed up")
        results: dict[str, dict[str, list]] = {s.name: {n: [] for n in names} for s in scenarios}
        for round_index in range(rounds):
            order = names[round_index % len(names):] + names[:round_index % len(names)]
            for scenario in scenarios:
                for name in order:
                    with RssSampler(self.running[name]) as sampler:
                        load = self.once(name, scenario, specs[scenario.name, name], seconds)
                    invalid = load.requests == 0 or load.errors > MAX_ERROR_SHARE * load.requests
                    results[scenario.name][name].append({
                        "throughput": load.throughput, "p50_ms": load.p50_ms, "p99_ms": load.p99_ms,
                        "requests": load.requests, "errors": load.errors, "seconds": load.seconds,
                        "rss_mib": sampler.peak / 1024, "client_cpu_s": load.client_cpu_seconds,
                        "invalid": invalid, "error_kinds": load.error_kinds, **load.cost,
                    })
                    if invalid:
                        self.invalid.append(f"{label}{scenario.name} on {name}, round {round_index + 1}: "
                                            f"{load.errors} errors in {load.requests} requests "
                                            f"({load.error_kinds or 'not split'})")
                    log(f"{label}round {round_index + 1}/{rounds} {scenario.name:<18} {name:<10} "
                        f"{load.throughput:9.1f}/s p50 {load.p50_ms:7.2f} ms p99 {load.p99_ms:7.2f} ms "
                        f"errors {load.errors}{'  INVALID' if invalid else ''}")
        return results


def costed(running: Running, load: Callable[[], LoadResult], *, watch_lock: bool) -> LoadResult:
    """``load()`` with what it cost, from its start until the server is idle again (so work
    left after the last answer, such as request logs written in the background, counts): the
    CPU of the server's process tree and, on PostgreSQL, of the backends serving its database
    (and, apart, of the database server's shared background processes), the database
    connections it holds, and for writes how often app.db's advisory write lock was held."""
    database = running.database
    server_before = running.server_cpu_seconds()
    database_before = database.cpu() if database else None
    watching = LockSampler(database) if database and watch_lock else contextlib.nullcontext()
    with watching:
        result = load()
    settle([running])
    cost: dict[str, float | None] = {"server_cpu_s": running.server_cpu_seconds() - server_before}
    if database and database_before:
        cost["db_cpu_s"], cost["db_shared_cpu_s"] = database_before.since()
        cost["db_connections"] = database.connections()
    if isinstance(watching, LockSampler):
        cost["write_lock_held"], cost["write_lock_waiting"] = watching.held_share, watching.mean_waiting
    return replace(result, cost=cost)


def _single(url: str, what: str, spec: RequestSpec) -> LoadResult:
    preflight(url, what, spec)
    return LoadResult(requests=1, seconds=1.0, errors=0, p50_ms=0.0, p99_ms=0.0, client_cpu_seconds=0.0)
