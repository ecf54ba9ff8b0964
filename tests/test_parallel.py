"""Training several runs at once, in worker processes."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import tiny

from twostep.errors import TwostepError
from twostep.runs.checkpoints import read_checkpoint
from twostep.runs.parallel import _Job, _next_to_start, train_or_load_many
from twostep.runs.store import run_dir_for, train_or_load


@pytest.fixture
def tiny_pair():
    """Two different tiny experiments (an incremental and an episodic one)."""
    return {"wang": tiny("wang2018"),
            "episodic": tiny("ritter2018-episodic", snapshot_every=None)}


def _group_empties(group: int, within: float) -> bool:
    """Whether every process of ``group`` is gone within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _weights(run_dir):
    return read_checkpoint(run_dir)["model"]


def test_runs_trained_in_workers_are_bitwise_the_runs_trained_alone_and_then_cached(
        tmp_path, tiny_pair):
    together = train_or_load_many(tiny_pair, tmp_path / "together", processes=2,
                                  progress=False)
    assert list(together) == list(tiny_pair)
    for label, config in tiny_pair.items():
        alone_dir, alone_metrics = train_or_load(config, tmp_path / "alone", progress=False)
        run_dir, metrics = together[label]
        for name, tensor in _weights(alone_dir).items():
            assert torch.equal(tensor, _weights(run_dir)[name]), (label, name)
        assert metrics.drop(columns="seconds").equals(alone_metrics.drop(columns="seconds"))

    stamps = {label: (run_dir / "checkpoint.pt").stat().st_mtime_ns
              for label, (run_dir, _) in together.items()}
    again = train_or_load_many(tiny_pair, tmp_path / "together", processes=2, progress=False)
    for label, (run_dir, metrics) in again.items():
        assert (run_dir / "checkpoint.pt").stat().st_mtime_ns == stamps[label]
        assert metrics.equals(together[label][1])


def test_a_failing_worker_is_reported_as_one_clear_error(tmp_path, tiny_pair):
    (tmp_path / "blocker").write_text("a file where a run folder must go")
    broken = {"wang": tiny_pair["wang"], "episodic": tiny_pair["episodic"]}
    with pytest.raises(TwostepError, match="training"):
        train_or_load_many(broken, tmp_path / "blocker", processes=2, progress=False)


def test_zero_processes_is_refused(tmp_path, tiny_pair):
    with pytest.raises(TwostepError, match="at least 1"):
        train_or_load_many(tiny_pair, tmp_path, processes=0, progress=False)


def test_a_run_another_process_is_training_is_started_last(tmp_path, tiny_pair):
    """Two notebooks executing at once train different runs instead of waiting on each other."""
    held = run_dir_for(tiny_pair["wang"], tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom twostep.files.locks import folder_lock\n"
         "with folder_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)",
         str(held)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        jobs = [_Job(label, config, tmp_path) for label, config in tiny_pair.items()]
        assert jobs[0].label == "wang"
        waiting = list(range(len(jobs)))
        assert jobs[_next_to_start(waiting, jobs)].label == "episodic"
        assert jobs[_next_to_start(waiting, jobs)].label == "wang"  # then it waits its turn
        assert _next_to_start(waiting, jobs) is None
    finally:
        holder.kill()
        holder.wait()


def test_ctrl_c_stops_every_worker_and_the_same_command_resumes(tmp_path, tiny_pair):
    """Ctrl-C in a terminal signals the whole process group: one line, exit 130, no worker
    left behind, checkpoints kept; the same command then finishes the runs."""
    paths = []
    for label, config in tiny_pair.items():
        longer = config.with_changes(name=f"tiny-{label}", train={"episodes": 800})
        paths.append(tmp_path / f"{label}.yaml")
        paths[-1].write_text(longer.to_yaml())
    command = [sys.executable, "-m", "twostep", "reproduce", "--experiments", *map(str, paths),
               "--out", "results", "--processes", "2"]
    env = {**os.environ, "TWOSTEP_RUNS": str(tmp_path / "runs")}

    def restore_ctrl_c():  # a shell's background job ignores SIGINT; a terminal's does not
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=restore_ctrl_c)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "runs").glob("*/checkpoint.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    messages = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    assert process.returncode == 130, err[-2000:]
    assert messages[-1].startswith("interrupted:") and "Traceback" not in err and "leaked" not in err
    assert _group_empties(process.pid, within=15), "a worker outlived the interrupted caller"

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "results" / "summary.csv").is_file()


@pytest.mark.parametrize("experiment", ["wang2018", "ritter2018-episodic"])
def test_one_run_split_by_seed_across_processes_is_bitwise_the_run_trained_whole(
        tmp_path, monkeypatch, experiment):
    import twostep.runs.parallel as parallel
    from twostep.runs.store import snapshot_updates

    monkeypatch.setattr(parallel, "MIN_SHARD_STEPS", 0)  # split even a tiny run
    config = tiny(experiment, seeds=5, snapshot_every=3)
    whole, _ = train_or_load(config, tmp_path / "whole", device="cpu", progress=False)
    (split, _), = train_or_load_many({"run": config}, tmp_path / "split", device="cpu",
                                     processes=2, progress=False).values()
    assert not (split / "shards").exists()
    expected, found = read_checkpoint(whole), read_checkpoint(split)
    for name, tensor in expected["model"].items():
        assert torch.equal(found["model"][name], tensor), name
    for index, state in expected["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(found["optimizer"]["state"][index][key], value), (index, key)
    assert all(torch.equal(a, b) for a, b in zip(found["generators"], expected["generators"],
                                                 strict=True))
    drop = lambda rows: [{k: v for k, v in row.items() if k != "seconds"} for row in rows]  # noqa: E731
    assert drop(found["metrics"]) == drop(expected["metrics"])
    assert snapshot_updates(split) == snapshot_updates(whole) == [3, 6]
    for update in (3, 6):
        a = torch.load(split / "snapshots" / f"update-{update:05d}.pt", weights_only=True)
        b = torch.load(whole / "snapshots" / f"update-{update:05d}.pt", weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in b)


def test_seeds_are_split_into_consecutive_nearly_equal_shards():
    from twostep.runs.parallel import shard_configs

    shards = shard_configs(tiny("wang2018", seeds=5, first_seed=10), 2)
    assert [(s.train.first_seed, s.train.seeds) for s in shards] == [(10, 3), (13, 2)]
    assert len(shard_configs(tiny("wang2018", seeds=1), 4)) == 1
