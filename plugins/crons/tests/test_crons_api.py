"""``GET /api/crons`` and ``POST /api/crons/{id}`` beside the real PocketBase 0.40.6: the same
jobs registered on both (pb_hooks' ``cronAdd`` there, a plugin here) list in the same order
and shape, guests, users, unknown ids and a run get the same answers, and the cleanup jobs
leave the same ``_otps`` and ``_mfas`` rows of the same aged rows."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pbk_crons.system_jobs import pocketbase_datetime
from pbk_sdk.testing import pocketbase_superuser, start_pocketbase, superuser_token
from pbk_sdk.testing.postgres import database_for, engine_under_test
from pbk_sdk.testing.servers import start_live_server

PLUGINS = ["records", "auth", "crons"]
EMAIL, PASSWORD = "root@example.com", "1234567890"
USER = {"email": "ada@example.com", "password": "1234567890", "passwordConfirm": "1234567890"}
#: Own jobs added out of order, with ids that sort differently by case.
JOBS = [("zeta", "*/5 * * * *"), ("Alpha", "@daily"), ("beta", "0 3 * * 1-5"), ("alpha", "@hourly")]

PB_HOOKS = "\n".join(f'cronAdd("{job_id}", "{expression}", () => {{}});' for job_id, expression in JOBS)
# The logs plugin is another distribution: this stands in for it, with the id it registers.
PBK_PLUGIN = f"""
from pbk_sdk import hookimpl

async def nothing():
    pass

@hookimpl
def pbk_register_cron_jobs(app):
    jobs = {{job_id: (expression, nothing) for job_id, expression in {JOBS!r}}}
    return {{**jobs, "__pbLogsCleanup__": ("0 */6 * * *", nothing)}}
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[httpx.Client, dict[str, str]]]]:
    """Each program's client and its superuser's headers, both started fresh."""
    base = tmp_path_factory.mktemp("crons-programs")
    (base / "pb_hooks").mkdir()
    (base / "pb_hooks" / "crons.pb.js").write_text(PB_HOOKS)
    (base / "plugins").mkdir()
    (base / "plugins" / "same_jobs.py").write_text(PBK_PLUGIN)
    pocketbase_superuser(base / "pb_real", EMAIL, PASSWORD)
    real = start_pocketbase(base / "pb_real", ["--hooksDir", str(base / "pb_hooks")])
    flags = ["--plugins", ",".join(PLUGINS), "--pluginsDir", str(base / "plugins")]
    if engine_under_test() == "postgresql":  # the module's database, also inside the tests
        DATABASES[base / "pb_data"] = database_for(base / "pb_data")
        flags += ["--db", DATABASES[base / "pb_data"]]
    done = subprocess.run([sys.executable, "-m", "pbk", *flags, "--dir", str(base / "pb_data"),
                           "superuser", "upsert", EMAIL, PASSWORD],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = start_live_server(base / "pb_data", flags)
    out = {}
    try:
        for name, server in (("pocketbase", real), ("pbk", ours)):
            client = httpx.Client(base_url=server.url, timeout=30)
            out[name] = (client, {"Authorization": superuser_token(server.url, EMAIL, PASSWORD)}, server.data_dir)
        yield out
    finally:
        for client, *_ in out.values():
            client.close()
        ours.stop()
        real.stop()


def answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json() if response.content else None


def both(servers: dict[str, Any], method: str, path: str, who: str = "superuser") -> list[tuple[int, Any]]:
    answers = []
    for client, superuser, _ in servers.values():
        headers = superuser if who == "superuser" else {}
        if who == "user":
            client.post("/api/collections/users/records", json=USER)
            signed_in = client.post("/api/collections/users/auth-with-password",
                                    json={"identity": USER["email"], "password": USER["password"]})
            headers = {"Authorization": signed_in.json()["token"]}
        answers.append(answer(client.request(method, path, headers=headers)))
    return answers


@pytest.mark.slow
def test_the_list_has_the_binarys_order_and_shape(servers: dict[str, Any]) -> None:
    real, ours = both(servers, "GET", "/api/crons")
    assert real[0] == 200
    assert [job["id"] for job in real[1]] == [
        "Alpha", "alpha", "beta", "zeta", "__pbDBOptimize__", "__pbMFACleanup__", "__pbOTPCleanup__",
        "__pbLogsCleanup__"]
    assert ours == real


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "who"), [
    ("GET", "/api/crons", "guest"),
    ("GET", "/api/crons", "user"),
    ("POST", "/api/crons/zeta", "guest"),
    ("POST", "/api/crons/zeta", "user"),
    ("POST", "/api/crons/nope", "user"),
    ("POST", "/api/crons/nope", "superuser"),
    ("POST", "/api/crons/__pbNope__", "superuser"),
    ("POST", "/api/crons/zeta", "superuser"),
    ("POST", "/api/crons/__pbMFACleanup__", "superuser"),
])
def test_refusals_and_runs_answer_as_the_binary(servers: dict[str, Any], method: str, path: str, who: str) -> None:
    real, ours = both(servers, method, path, who)
    assert ours == real


#: Row ages in seconds around the users collection's defaults (otp 180 s, mfa 600 s).
AGES = {"_otps": (100_000, 200, 160, 5), "_mfas": (100_000, 700, 500, 5)}


#: pbk's data dir and its PostgreSQL database, under ``PBK_TEST_DB=postgresql``.
DATABASES: dict[Path, str] = {}


@contextlib.contextmanager
def database(data_dir: Path) -> Iterator[Any]:
    """The live server's database: pbk's PostgreSQL one under ``PBK_TEST_DB=postgresql``, else
    the data dir's ``data.db`` (PocketBase's always)."""
    if data_dir in DATABASES:
        from pbk_postgres import PgConnection

        conn = PgConnection.connect(DATABASES[data_dir])
        try:
            yield conn
        finally:
            conn.close()
        return
    with contextlib.closing(sqlite3.connect(data_dir / "data.db", timeout=10)) as conn, conn:
        yield conn


def insert_aged_rows(data_dir: Path, table: str) -> None:
    """Rows of the users collection, written into the live server's database as its schema is."""
    now = datetime.now(UTC)
    with database(data_dir) as conn:
        for seconds in AGES[table]:
            stamp = pocketbase_datetime(now - timedelta(seconds=seconds))
            conn.execute(f'INSERT INTO "{table}" (id, "collectionRef", "recordRef", created, updated) '
                         "VALUES (?, '_pb_users_auth_', 'someone', ?, ?)", (f"age{seconds}", stamp, stamp))


def remaining(data_dir: Path, table: str, expected: int) -> list[str]:
    """The ids left once ``expected`` rows are (a job runs in the background)."""
    deadline = time.monotonic() + 10
    while True:
        with database(data_dir) as conn:
            ids = sorted(row[0] for row in conn.execute(f'SELECT id FROM "{table}"'))
        if len(ids) <= expected or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(("job", "table"), [("__pbOTPCleanup__", "_otps"), ("__pbMFACleanup__", "_mfas")])
def test_the_cleanups_keep_the_rows_the_binary_keeps(servers: dict[str, Any], job: str, table: str) -> None:
    left = []
    for client, superuser, data_dir in servers.values():
        insert_aged_rows(data_dir, table)
        assert client.post(f"/api/crons/{job}", headers=superuser).status_code == 204
        left.append(remaining(data_dir, table, expected=2))
    assert left[0] == sorted(["age160" if table == "_otps" else "age500", "age5"])
    assert left[1] == left[0]
