"""The sweep's engine, for real (marked ``engine``: each test starts a local Dask cluster of 2
worker processes, about 30-45 s): a worker killed (SIGKILL) while it trains a point loses only
that point, which another worker resumes, and the table has every point exactly once; Ctrl-C
ends the command in one line with no worker left, and the same command then finishes."""

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from helpers import TINY_TRAIN

from twostep.runs.checkpoints import is_finished
from twostep.runs.cluster import local_cluster
from twostep.runs.store import run_dir_for
from twostep.runs.sweep import load_sweep, run_sweep

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.engine

# Long enough to be killed halfway: 40 updates of 16 episodes per point, a checkpoint every 5.
BUDGET = {**TINY_TRAIN, "episodes": 640, "batch_size": 16, "checkpoint_every": 5}
# Long enough not to finish in the seconds the cluster takes to stop after Ctrl-C.
LONGER = {**BUDGET, "episodes": 1600}


def kill_a_worker_mid_run(client, sweep, root, killed: list) -> None:
    """Wait until some point has a checkpoint but is not finished, then SIGKILL the worker
    process training it (found through the scheduler's view of who processes what)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not killed:
        for point in sweep.points:
            run_dir = run_dir_for(point.config, root)
            if (run_dir / "checkpoint.pt").is_file() and not is_finished(run_dir):
                key = f"twostep-sweep-{run_dir.name}"
                for address, keys in client.processing().items():
                    if key in keys:
                        pid = client.run(os.getpid, workers=[address])[address]
                        os.kill(pid, signal.SIGKILL)
                        killed.append(point.index)
                        return
        time.sleep(0.1)


def test_a_killed_worker_loses_only_its_point_which_is_retried(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("experiment: wang2018\ngrid:\n  task.common_prob: [0.6, 0.7, 0.8, 0.9]\nset:\n"
                    + "".join(f"  train.{k}: {v}\n" for k, v in BUDGET.items()))
    sweep = load_sweep(path)
    root = tmp_path / "runs"
    killed: list[int] = []
    with local_cluster(workers=2) as cluster, distributed.Client(cluster) as client:
        killer = threading.Thread(target=kill_a_worker_mid_run,
                                  args=(client, sweep, root, killed), daemon=True)
        killer.start()
        result = run_sweep(sweep, root=root, engine=client, progress=False)
        killer.join()
    assert len(killed) == 1, "no worker was caught mid-run"
    table = result.table
    assert sorted(table["point"].unique()) == [0, 1, 2, 3]
    assert table.groupby("point").size().tolist() == [BUDGET["seeds"]] * 4  # each point once
    assert not table.duplicated(["point", "seed"]).any()
    assert result.trained == {0, 1, 2, 3}
    assert all(is_finished(run_dir_for(p.config, root)) for p in sweep.points)


def group_is_gone(group: int, within: float) -> bool:
    """Whether every process of the process group ``group`` has ended within ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_ctrl_c_ends_the_sweep_in_one_line_and_the_same_command_finishes_it(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("experiment: wang2018\ngrid:\n  task.common_prob: [0.7]\nset:\n"
                    + "".join(f"  train.{k}: {v}\n" for k, v in LONGER.items()))
    command = [sys.executable, "-m", "twostep", "sweep", str(path), "--workers", "2"]
    env = {**os.environ, "TWOSTEP_RUNS": str(tmp_path / "runs")}

    def restore_ctrl_c():  # a shell's background job ignores SIGINT; a terminal's does not
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=restore_ctrl_c)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "runs").glob("*/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = process.communicate(timeout=120)
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    assert process.returncode == 130, err[-2000:]
    assert lines == [lines[-1]] and lines[-1].startswith("interrupted:"), err[-2000:]
    assert group_is_gone(process.pid, within=15), "a worker outlived the interrupted sweep"

    runs = [run_dir_for(point.config, tmp_path / "runs") for point in load_sweep(path).points]
    assert not all(is_finished(run_dir) for run_dir in runs), "the sweep ended before Ctrl-C"

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(is_finished(run_dir) for run_dir in runs)
    table = pd.read_csv(tmp_path / "sweeps" / "sweep" / "results.csv")
    assert table.groupby("point").size().tolist() == [LONGER["seeds"]]


def test_the_bundled_smoke_sweep_runs_from_the_command_line_with_no_setup(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TWOSTEP_RUNS"}
    done = subprocess.run([sys.executable, "-m", "twostep", "sweep", "smoke"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sweep smoke: 2 point(s) x 2 seed(s), 2 trained" in done.stdout
    table = pd.read_csv(tmp_path / "sweeps" / "smoke" / "results.csv")
    assert table.groupby("point").size().tolist() == [2, 2]
    assert len(list((tmp_path / "runs").glob("wang2018-*/checkpoint.pt"))) == 2
