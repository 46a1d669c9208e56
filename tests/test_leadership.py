"""app.cluster.lead(): one holder at a time among processes and apps on a data dir, a free
role taken by the next to ask, and never believed held through a forked copy of the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pbk.cluster import Cluster

HOLD_AND_WAIT = """
import sys, time
from pathlib import Path
from pbk.cluster import Cluster
cluster = Cluster(Path(sys.argv[1]))
print(cluster.lead(), flush=True)
time.sleep(60)
"""


def test_one_holder_until_it_resigns(tmp_path: Path) -> None:
    first, second = Cluster(tmp_path), Cluster(tmp_path)
    assert first.lead()
    assert not second.lead()
    assert first.lead()  # kept, asked again
    first.resign()
    assert second.lead()
    assert not first.lead()


def test_without_a_data_dir_this_process_leads() -> None:
    assert Cluster().lead()


def test_a_killed_leader_process_frees_the_role_at_once(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_WAIT, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        here = Cluster(tmp_path)
        assert not here.lead()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert here.lead()
    finally:
        holder.kill()
        holder.wait()


def test_a_forked_child_does_not_lead_through_its_parents_lock(tmp_path: Path) -> None:
    parent = Cluster(tmp_path)
    assert parent.lead()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the inherited descriptor is the parent's lock, not its own
        os.close(reader)
        os.write(writer, b"1" if parent.lead() else b"0")
        os._exit(0)
    os.close(writer)
    answer = os.read(reader, 1)
    os.waitpid(pid, 0)
    os.close(reader)
    assert answer == b"0"
    time.sleep(0.01)
    assert parent.lead() and not Cluster(tmp_path).lead()  # the child's exit left ours alone
