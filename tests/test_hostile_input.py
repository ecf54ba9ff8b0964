"""Hostile input and concurrent use: every failure one line, nothing the user wrote lost.

Most cases call :func:`twostep.interfaces.cli.main` in this process (fast); subprocesses only
where the behaviour needs a second process: locks, signals, Ctrl-C during imports.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from helpers import tiny, write_tiny_yaml

from twostep.core.config import load_experiment
from twostep.errors import TwostepError
from twostep.files.locks import folder_lock
from twostep.files.owned import MANIFEST
from twostep.interfaces.cli import main
from twostep.runs.store import train_run


def cli(capsys, *args):
    """Run a command in this process: (exit status, stdout, stderr)."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def messages(err):
    """stderr's lines, less progress bars."""
    lines = err.replace("\r", "\n").splitlines()
    return [line for line in lines if line.strip() and "update/s" not in line]


def assert_one_line_error(status, err, fragment, expected_status=2):
    assert status == expected_status, err
    lines = messages(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert fragment in lines[0], err
    assert "Traceback" not in err


def spawn(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "twostep", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished tiny run with its trial table; tests copy it before changing anything."""
    folder = tmp_path_factory.mktemp("trained")
    path = write_tiny_yaml(folder)
    run_dir = folder / "run"
    train_run(load_experiment(path), run_dir, device="cpu", progress=False)
    assert main(["evaluate", str(run_dir)]) == 0
    return run_dir


@pytest.fixture
def run_copy(trained_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained_run, copy)
    return copy


# ---------------------------------------------------------------- run names and folders
@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "", ".hidden", "a/b", "..",
                                  "a b", "x" * 101])
def test_a_run_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, capsys, monkeypatch,
                                                                 name):
    (tmp_path / "bad.yaml").write_text(f"name: {name!r}\n")
    monkeypatch.chdir(tmp_path)
    status, _, err = cli(capsys, "train", "bad.yaml")
    assert_one_line_error(status, err, "name: must be a plain folder name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]  # nothing created


def test_a_second_process_is_refused_while_a_run_folder_is_locked(tmp_path, tiny_yaml, run_copy):
    with folder_lock(run_copy):  # this process holds it; the commands below are others
        trainer = spawn("train", tiny_yaml, "--out", run_copy, "--resume", cwd=tmp_path)
        evaluator = spawn("evaluate", run_copy, cwd=tmp_path)
        results = [p.communicate(timeout=120) + (p.returncode,) for p in (trainer, evaluator)]
    for _, err, status in results:
        assert status == 2
        assert err.strip().startswith("error: ") and "in use by another twostep process" in err
        assert len(err.strip().splitlines()) == 1


def test_two_concurrent_trainings_into_one_folder_exactly_one_proceeds(tmp_path):
    write_tiny_yaml(tmp_path, "a.yaml", episodes=40)
    write_tiny_yaml(tmp_path, "b.yaml", episodes=48)
    first = spawn("train", "a.yaml", "--out", "shared", cwd=tmp_path)
    second = spawn("train", "b.yaml", "--out", "shared", cwd=tmp_path)
    results = [p.communicate(timeout=180) + (p.returncode,) for p in (first, second)]
    statuses = sorted(status for _, _, status in results)
    assert statuses == [0, 2], results
    winner = 0 if results[0][2] == 0 else 1
    refused = results[1 - winner][1]
    assert "in use by another twostep process" in refused or "already holds a run" in refused
    kept = load_experiment(tmp_path / "shared" / "config.yaml")
    assert kept.train.episodes == (40, 48)[winner]


# ---------------------------------------------------------------- atomic writes, interrupts
def test_an_interrupted_evaluate_leaves_the_earlier_table_intact(run_copy, capsys, monkeypatch):
    table = run_copy / "trials.csv"
    before = table.read_bytes()

    def write_half_then_interrupt(self, path, *args, **kwargs):
        with open(path, "w") as file:
            file.write("seed,episode,tri")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", write_half_then_interrupt)
    status, _, err = cli(capsys, "evaluate", run_copy)
    assert status == 130
    assert err.strip() == f"interrupted: nothing was written; {table} is as it was"
    assert "checkpoint" not in err
    assert table.read_bytes() == before
    assert sorted(p.name for p in run_copy.iterdir()) == sorted(
        ["checkpoint.pt", "config.yaml", "metrics.csv", "trials.csv", MANIFEST, ".twostep-lock"])


def test_interrupted_training_says_how_to_resume(tmp_path, tiny_yaml, capsys, monkeypatch):
    import twostep.core.train as train_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "update_step", interrupt)
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run")
    assert status == 130
    assert messages(err) == [
        f"interrupted: the last checkpoint in {tmp_path / 'run'} is kept; continue with --resume"]


def _wait_until_loading(process, library, timeout=60.0):
    """Wait until the child process has mapped ``library`` (it is importing it)."""
    maps = f"/proc/{process.pid}/maps"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(maps) as file:
                if library in file.read():
                    return
        except FileNotFoundError:
            break
        time.sleep(0.005)
    pytest.fail(f"the child never loaded {library}")


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc")
@pytest.mark.parametrize("extra_delay", [0.2])
def test_ctrl_c_while_torch_imports_prints_no_traceback(tmp_path, tiny_yaml, extra_delay):
    process = spawn("train", tiny_yaml, "--out", tmp_path / "run", cwd=tmp_path)
    _wait_until_loading(process, "libtorch")
    time.sleep(extra_delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err
    assert process.returncode == 130, err
    assert messages(err)[-1].startswith("interrupted: ")


# ---------------------------------------------------------------- ownership
def test_a_users_config_file_in_the_output_folder_is_never_overwritten(tmp_path, capsys):
    folder = tmp_path / "myexp"
    folder.mkdir()
    user_text = "# my notes on this experiment\n" + tiny(name="tiny").to_yaml()
    (folder / "config.yaml").write_text(user_text)
    status, _, err = cli(capsys, "train", folder / "config.yaml", "--out", folder)
    assert_one_line_error(status, err, "was not written by twostep; move it away or choose "
                          "another --out")
    assert (folder / "config.yaml").read_text() == user_text
    assert not (folder / "checkpoint.pt").exists()


def test_a_users_file_at_simulate_out_is_kept_but_our_own_is_replaced(tmp_path, capsys):
    mine = tmp_path / "mine.csv"
    mine.write_text("precious\n")
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", "2",
                         "--out", mine)
    assert_one_line_error(status, err, "was not written by twostep")
    assert mine.read_text() == "precious\n"
    ours = tmp_path / "ours.csv"
    for episodes in (2, 3):
        status, _, _ = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes",
                           episodes, "--out", ours)
        assert status == 0
    assert len(pd.read_csv(ours)) == 300


# ---------------------------------------------------------------- --out for every command
def _out_cases(tmp_path, run_copy, tiny_yaml):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    a_folder = tmp_path / "a_folder"
    a_folder.mkdir()
    unwritable = "/proc/no-such/folder/out.csv"  # /proc refuses new files, even to root
    return [
        (["train", tiny_yaml, "--out", a_file], "is a file"),
        (["train", tiny_yaml, "--out", unwritable], "No such file"),
        (["evaluate", run_copy, "--out", a_folder], "is a folder"),
        (["evaluate", run_copy, "--out", a_file / "x.csv"], "is a file, not a folder"),
        (["evaluate", run_copy, "--out", unwritable], "No such file"),
        (["simulate", "wang2018", "--agent", "random", "--out", a_folder], "is a folder"),
        (["simulate", "wang2018", "--agent", "random", "--out", unwritable], "No such file"),
        (["reproduce", "--out", a_file, "--experiments", tiny_yaml], "is a file"),
        (["reproduce", "--out", "/proc/no-such", "--experiments", tiny_yaml], "No such file"),
    ]


def test_an_output_path_that_is_a_file_a_folder_or_unwritable_is_one_line(
        tmp_path, run_copy, tiny_yaml, capsys):
    for args, fragment in _out_cases(tmp_path, run_copy, tiny_yaml):
        status, _, err = cli(capsys, *args)
        assert_one_line_error(status, err, fragment)
    assert (tmp_path / "a_file").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_one_line(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--out",
                         folder / "t.csv")
    assert_one_line_error(status, err, "cannot write")


# ---------------------------------------------------------------- config files
@pytest.mark.parametrize("text, fragment", [
    ("name: x\ntask: {trials: true}\n", "task.trials: Input should be a valid integer"),
    ("name: x\ntrain: {seeds: '3'}\n", "train.seeds: Input should be a valid integer"),
    ("name: x\ntrain: {seeds: 2.5}\n", "train.seeds"),
    ("name: x\nmodel: {cue_input: 1}\n", "model.cue_input: Input should be a valid boolean"),
    ("name: x\nname: y\n", "key 'name' appears twice (lines 1 and 2)"),
    ("name: x\ntrain: {lr: .inf}\n", "train.lr: Input should be a finite number"),
    ("name: x\ntrain: {gamma: .nan}\n", "train.gamma"),
    ("name: x\nmodel: {hidden_size: 10000000}\n", "model.hidden_size: Input should be less"),
    ("name: x\ntask: {trials: 100000000}\n", "task.trials: Input should be less"),
    ("name: x\ntrain: {first_seed: 9223372036854775807}\n", "train.first_seed"),
    ("name: x\nmodel: {cell: eplstm, knn_temperature: 1.0e-300}\n", "model.knn_temperature"),
])
def test_config_values_are_checked_strictly(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TwostepError) as info:
        load_experiment(path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_scientific_notation_without_a_dot_reads_as_a_number(tmp_path):
    path = tmp_path / "sci.yaml"
    path.write_text("name: x\ntrain: {lr: 1e-3, rmsprop_eps: 1E-5}\n")
    config = load_experiment(path)
    assert (config.train.lr, config.train.rmsprop_eps) == (1e-3, 1e-5)


def test_a_config_that_is_not_utf8_or_unreadable_is_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\n".encode("latin-1"))
    status, _, err = cli(capsys, "train", path)
    assert_one_line_error(status, err, "not UTF-8 text (byte 0xe9")
    unreadable = tmp_path / "locked.yaml"
    unreadable.write_text(tiny(name="tiny").to_yaml())
    import twostep.files.read as read_module

    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("locked.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(read_module.os, "open", refuse)
    status, _, err = cli(capsys, "train", unreadable)
    assert_one_line_error(status, err, "cannot read")


def test_sizes_too_large_for_this_machine_name_the_field_and_the_limit(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\nmodel: {hidden_size: 65536}\n"
                    "train: {seeds: 100000, batch_size: 10000000}\n")
    status, _, err = cli(capsys, "train", path, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "train.batch_size=10,000,000 is too large")
    assert "GiB free; at most about" in err
    assert not (tmp_path / "run").exists()
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes",
                         10**13, "--out", tmp_path / "t.csv")
    assert_one_line_error(status, err, "--episodes=10,000,000,000,000 is too large")


def test_the_meta_device_is_refused(tiny_yaml, tmp_path, capsys):
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run", "--device",
                         "meta")
    assert_one_line_error(status, err, "device 'meta' is not supported")


# ---------------------------------------------------------------- training that goes wrong
def test_a_learning_rate_that_trains_to_nan_stops_with_one_line(tmp_path, capsys):
    path = write_tiny_yaml(tmp_path, "wild.yaml", lr=1e30, max_grad_norm=None, rmsprop_eps=1e-30)
    status, _, err = cli(capsys, "train", path, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "training diverged at update")
    assert "lower train.lr" in err


def test_an_enormous_budget_announces_its_time_and_resumes(tmp_path, capsys, monkeypatch):
    import twostep.core.train as train_module

    monkeypatch.setattr(train_module, "SLOW_BUDGET_SECONDS", 0.0)  # "enormous" on any machine
    path = write_tiny_yaml(tmp_path, "long.yaml", episodes=10**15)
    config = load_experiment(path)
    train_run(config, tmp_path / "run", device="cpu", stop_after=1)  # as if interrupted
    err = capsys.readouterr().err
    assert "estimated training time:" in err and "years" in err
    assert "continue with --resume" in err
    metrics = train_run(config, tmp_path / "run", resume=True, device="cpu", stop_after=2,
                        progress=False)
    assert metrics["update"].max() == 2


def test_a_checkpoint_with_crafted_fields_is_one_line(run_copy, capsys):
    path = run_copy / "checkpoint.pt"
    payload = torch.load(path, weights_only=True)
    for field, value in [("update", "many"), ("generators", ["x"]), ("metrics", 3),
                         ("model", {"weight": "not a tensor"})]:
        torch.save({**payload, field: value}, path)
        status, _, err = cli(capsys, "evaluate", run_copy)
        assert_one_line_error(status, err, "damaged checkpoint")
    torch.save({**payload, "config": {**payload["config"], "name": "../x"}}, path)
    status, _, err = cli(capsys, "evaluate", run_copy)
    assert_one_line_error(status, err, "name: must be a plain folder name")


# ---------------------------------------------------------------- trial tables
def _edited(trained_run, tmp_path, column, value, row=5):
    frame = pd.read_csv(trained_run / "trials.csv")
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    path = tmp_path / f"edited-{column}.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("column, value, fragment", [
    ("seed", "abc", "column seed, line 7: 'abc' is not a number"),
    ("reward", "one", "column reward, line 7: 'one' is not a number"),
    ("choice", 2, "column choice, line 7: '2' is not 0 or 1"),
    ("reward", -1, "column reward, line 7: '-1' is not 0 or 1"),
    ("common", "yes", "column common, line 7: 'yes' is not a number"),
    ("common", 0.5, "column common, line 7: '0.5' is not a whole number"),
    ("episode", -3, "column episode, line 7: '-3' is not a whole number from 0"),
    ("trial", 1.5, "column trial, line 7: '1.5' is not a whole number"),
    ("state", "", "column state, line 7: nan is missing"),
])
def test_analyze_checks_every_value_of_a_trial_table(trained_run, tmp_path, capsys, column,
                                                     value, fragment):
    status, _, err = cli(capsys, "analyze", _edited(trained_run, tmp_path, column, value))
    assert_one_line_error(status, err, fragment)


def test_analyze_refuses_a_truncated_table(trained_run, tmp_path, capsys):
    text = (trained_run / "trials.csv").read_text()
    cut_mid_line = tmp_path / "mid.csv"
    cut_mid_line.write_text(text[: len(text) // 2])
    status, _, err = cli(capsys, "analyze", cut_mid_line)
    assert_one_line_error(status, err, "is missing (a short or truncated line?)")
    lines = text.splitlines(keepends=True)
    cut_at_line = tmp_path / "lines.csv"
    cut_at_line.write_text("".join(lines[: len(lines) // 2]))
    status, _, err = cli(capsys, "analyze", cut_at_line)
    assert_one_line_error(status, err, "the table looks truncated")


@pytest.mark.parametrize("column, value", [("choice", 2), ("state", ""), ("trial", 1.5),
                                           ("seed", "abc")])
def test_fit_refuses_a_bad_table_with_the_same_line_as_analyze(trained_run, tmp_path, capsys,
                                                               column, value):
    path = _edited(trained_run, tmp_path, column, value)
    analyzed = cli(capsys, "analyze", path)
    fitted = cli(capsys, "fit", path)
    assert_one_line_error(fitted[0], fitted[2], f"column {column}, line 7")
    assert fitted[0] == analyzed[0] and fitted[2] == analyzed[2]


def test_fit_refuses_a_truncated_table_and_a_missing_column(trained_run, tmp_path, capsys):
    lines = (trained_run / "trials.csv").read_text().splitlines(keepends=True)
    cut = tmp_path / "lines.csv"
    cut.write_text("".join(lines[: len(lines) // 2]))
    assert_one_line_error(*cli(capsys, "fit", cut)[::2], "the table looks truncated")
    partial = tmp_path / "partial.csv"
    pd.read_csv(trained_run / "trials.csv").drop(columns="reward").to_csv(partial, index=False)
    assert_one_line_error(*cli(capsys, "fit", partial)[::2], "missing column(s) reward")


def test_analyze_stops_a_ten_megabyte_line_at_once(tmp_path, capsys):
    path = tmp_path / "long-line.csv"
    path.write_text("seed,episode,trial,choice,state,common,reward,good_state\n"
                    + "0," * 5_000_000 + "\n")
    started = time.perf_counter()
    status, _, err = cli(capsys, "analyze", path)
    assert time.perf_counter() - started < 2.0
    assert_one_line_error(status, err, "line 2 is longer than 4,096 bytes")


# ---------------------------------------------------------------- the one handler
def test_an_unexpected_failure_is_one_line_unless_debug_is_asked_for(capsys, monkeypatch):
    import twostep.interfaces.cli as cli_module

    def broken(args):
        raise ValueError("something the code did not expect")

    monkeypatch.setattr(cli_module, "cmd_bench", broken)
    status, _, err = cli(capsys, "bench")
    assert_one_line_error(status, err, "unexpected ValueError: something the code did not "
                          "expect (a bug; rerun with --debug", expected_status=1)
    for args in (["--debug", "bench"], ["bench", "--debug"]):
        status, _, err = cli(capsys, *args)
        assert status == 1 and "Traceback" in err and err.strip().splitlines()[-1].startswith(
            "error: unexpected ValueError")


def test_running_out_of_memory_is_one_line(capsys, monkeypatch):
    import twostep.interfaces.cli as cli_module

    def allocate(args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not "
                           "enough memory: you tried to allocate 1099511627776 bytes.")

    monkeypatch.setattr(cli_module, "cmd_bench", allocate)
    status, _, err = cli(capsys, "bench")
    assert_one_line_error(status, err, "not enough memory; use smaller sizes")


# ================================================================ third round
# The eight examples of the third round, each as a test, then the classes they stand for.
def _digests(folder):
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def _no_temporaries(folder):
    return [p.name for p in folder.rglob("*") if ".tmp" in p.name]


def _spawn_limited(*args, cwd, memory=3 * 2**30):
    """A command in a child process whose address space is capped (a runaway read fails
    instead of taking the machine)."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "twostep", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=cap)


def _finish(process, timeout=120):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"hung for {timeout} s: {err[-500:]}")
    return process.returncode, out, err


# ---------------------------------------------------------------- 1. a run's files as --out
@pytest.mark.parametrize("name", ["checkpoint.pt", "config.yaml", "metrics.csv",
                                  ".twostep-files"])
def test_example_1_evaluate_never_writes_over_the_runs_own_files(run_copy, capsys, name):
    before = _digests(run_copy)
    status, _, err = cli(capsys, "evaluate", run_copy, "--out", run_copy / name)
    assert_one_line_error(status, err, "run folder")
    assert _digests(run_copy) == before


def test_an_out_inside_another_run_or_its_snapshots_is_refused(run_copy, trained_run, tmp_path,
                                                               capsys, tiny_yaml):
    other = tmp_path / "other"
    shutil.copytree(trained_run, other)
    before = _digests(other)
    for args in (["evaluate", run_copy, "--out", other / "trials.csv"],
                 ["simulate", "wang2018", "--agent", "random", "--out", other / "sim.csv"],
                 ["reproduce", "--experiments", tiny_yaml, "--out", other],
                 ["train", tiny_yaml, "--out", other / "snapshots"]):
        status, _, err = cli(capsys, *args)
        assert_one_line_error(status, err, "run folder")
    assert _digests(other) == before


# ---------------------------------------------------------------- 2. user files overwritten
def test_example_2_a_users_table_in_a_run_folder_is_kept(run_copy, capsys):
    mine = run_copy / "trials-mine.csv"
    mine.write_text("seed,episode\nmy own numbers\n")
    status, _, err = cli(capsys, "evaluate", run_copy, "--out", mine)
    assert status == 2 and "Traceback" not in err
    assert mine.read_text() == "seed,episode\nmy own numbers\n"


def test_example_2_a_failed_write_does_not_vouch_for_a_later_user_file(tmp_path, capsys,
                                                                       monkeypatch):
    out = tmp_path / "sim.csv"
    real = pd.DataFrame.to_csv

    def disk_full(self, path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", 2,
                         "--out", out)
    assert_one_line_error(status, err, "the disk is full")
    monkeypatch.setattr(pd.DataFrame, "to_csv", real)
    out.write_text("the user's, written afterwards\n")
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", 2,
                         "--out", out)
    assert_one_line_error(status, err, "not written by twostep")
    assert out.read_text() == "the user's, written afterwards\n"


def test_example_2_a_name_with_a_newline_is_one_name(tmp_path, capsys):
    status, out, _ = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", 2,
                         "--out", tmp_path / "a\nb.csv")
    assert status == 0
    assert len(out.strip().splitlines()) == 1  # the name is shown escaped, on one line
    for part in ("a", "b.csv"):
        (tmp_path / part).write_text("the user's\n")
        status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes",
                             2, "--out", tmp_path / part)
        assert_one_line_error(status, err, "not written by twostep")
        assert (tmp_path / part).read_text() == "the user's\n"


def test_example_2_parallel_writers_into_one_folder_lose_no_entry(tmp_path):
    code = ("import sys\nfrom twostep.interfaces.cli import main\n"
            "for i in range(12):\n"
            "    assert main(['simulate', 'wang2018', '--agent', 'random', '--episodes', '1',\n"
            "                 '--out', f'{sys.argv[1]}-{i}.csv']) == 0\n")
    for _ in range(2):  # the second round replaces the tool's own files: none may be refused
        processes = [subprocess.Popen([sys.executable, "-c", code, f"w{k}"], cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True) for k in range(4)]
        results = [_finish(p) for p in processes]
        assert [status for status, _, _ in results] == [0] * 4, [err for *_, err in results]


# ---------------------------------------------------------------- 3. locks and folder names
def test_example_3_two_trainings_through_a_symlink_and_its_target_do_not_both_win(tmp_path):
    write_tiny_yaml(tmp_path, "a.yaml", episodes=400)
    write_tiny_yaml(tmp_path, "b.yaml", episodes=480)
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to("target")
    first = spawn("train", "a.yaml", "--out", "target", cwd=tmp_path)
    second = spawn("train", "b.yaml", "--out", "link", cwd=tmp_path)
    results = [_finish(p, 300) for p in (first, second)]
    statuses = [status for status, _, _ in results]
    assert sorted(statuses) == [0, 2], results
    winner = statuses.index(0)
    kept = load_experiment(tmp_path / "target" / "config.yaml")
    assert kept.train.episodes == (400, 480)[winner]
    metrics = pd.read_csv(tmp_path / "target" / "metrics.csv")
    assert metrics["update"].max() == kept.train.updates


def test_example_3_evaluation_through_another_name_is_refused_while_training(run_copy, tmp_path):
    (tmp_path / "link").symlink_to(run_copy)
    (tmp_path / "sub").mkdir()
    names = [tmp_path / "link", f"{run_copy}/", tmp_path / "sub" / ".." / "run", "run",
             f"{run_copy}//"]
    with folder_lock(run_copy):  # "training": this process holds the run folder
        processes = [spawn("evaluate", name, cwd=tmp_path) for name in names]
        results = [_finish(p) for p in processes]
    for status, _, err in results:
        assert status == 2, err
        assert "in use by another twostep process" in err


def test_locks_leave_no_file_beside_the_run_folder(tmp_path, tiny_yaml, capsys):
    status, _, _ = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run")
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.yaml"]


# ---------------------------------------------------------------- 4. YAML number forms
@pytest.mark.parametrize("value, form", [("012", "octal"), ("1:40", "sexagesimal"),
                                         ("0x10", "hexadecimal"), ("0b1010", "binary"),
                                         ("1_000", "underscore"), ("0o12", "octal"),
                                         ("!!int 012", "octal"), ("+0012", "octal")])
def test_example_4_integers_are_decimal_only(tmp_path, capsys, value, form):
    path = tmp_path / "n.yaml"
    path.write_text(f"name: n\ntask: {{trials: {value}}}\n")
    status, _, err = cli(capsys, "train", path, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "task.trials")
    assert form in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("setting", ["task.trials=012", "task.trials=1:40", "train.lr=1_0.5",
                                     "train.episodes=0x20"])
def test_example_4_set_values_are_decimal_only_too(tmp_path, capsys, tiny_yaml, setting):
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run", "--set", setting)
    assert_one_line_error(status, err, setting.split("=")[0])
    assert not (tmp_path / "run").exists()


def test_decimal_numbers_still_read_as_before(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: ok\ntask: {trials: 12}\ntrain: {lr: 1.0e-3, rmsprop_eps: 1e-5, "
                    "seeds: +3, first_seed: 0, gamma: .9}\n")
    config = load_experiment(path)
    assert (config.task.trials, config.train.lr, config.train.seeds, config.train.gamma) == (
        12, 1e-3, 3, 0.9)


# ---------------------------------------------------------------- 5. tables that contradict themselves
@pytest.fixture(scope="module")
def episodic_table(tmp_path_factory):
    from helpers import episodic_table

    path = tmp_path_factory.mktemp("tables") / "episodic.csv"
    episodic_table().to_csv(path, index=False)
    return path


def _changed(path, tmp_path, edit):
    frame = pd.read_csv(path)
    edit(frame)
    out = tmp_path / "edited.csv"
    frame.to_csv(out, index=False)
    return out


def _first_cued(frame):
    return int(frame.index[frame.cued == 1][0])


def _recall_itself(frame):
    row = _first_cued(frame)
    frame.loc[row, "cue_trial"] = frame.loc[row, "trial"]


def _recall_the_future(frame):
    row = _first_cued(frame)
    frame.loc[row, "cue_trial"] = frame.loc[row, "trial"] + 1


@pytest.mark.parametrize("edit, fragment", [(_recall_itself, "recalls itself"),
                                            (_recall_the_future, "a later trial")])
def test_example_5_cued_trials_that_recall_themselves_or_the_future_are_refused(
        episodic_table, tmp_path, capsys, edit, fragment):
    status, _, err = cli(capsys, "analyze", _changed(episodic_table, tmp_path, edit))
    assert_one_line_error(status, err, fragment)
    line = _first_cued(pd.read_csv(episodic_table)) + 2
    assert f"line {line}" in err


def _set(column, row, value):
    """An edit: ``column`` of ``row`` (a number, or a function of the frame) set to ``value``
    (a number, or a function of the frame and the row)."""
    def edit(frame):
        at = row(frame) if callable(row) else row
        frame.loc[at, column] = value(frame, at) if callable(value) else value
    return edit


def _drop(column):
    return lambda frame: frame.drop(columns=column, inplace=True)


@pytest.mark.parametrize("edit, fragment", [
    (_set("trial", 3, 2), "trial 2 appears twice"),
    (_set("trial", 3, 9), "no trial 3"),
    (_set("common", 4, lambda f, at: 1 - f.loc[at, "common"]), "common"),
    (_set("cued", 4, 1), "cue_trial"),
    (_set("cue_trial", 4, 0), "uncued"),
    (_set("cue_trial", lambda f: _first_cued(f) + 1, lambda f, at: f.loc[at, "trial"] - 1),
     "a cued trial"),
    (_set("cue_trial", _first_cued, 500), "a later trial"),
    (_drop("cue_trial"), "cue_trial"),
])
def test_trial_tables_are_checked_for_consistency_naming_the_line(
        episodic_table, tmp_path, capsys, edit, fragment):
    status, _, err = cli(capsys, "analyze", _changed(episodic_table, tmp_path, edit))
    assert_one_line_error(status, err, fragment)
    assert "line" in err or "column" in err


def test_consistency_checks_of_thirty_thousand_trials_take_well_under_a_second(tmp_path):
    from helpers import episodic_table

    from twostep.trials.read import check_consistency, read_trial_table

    path = tmp_path / "big.csv"
    episodic_table(seeds=2, episodes=150, trials=100).to_csv(path, index=False)
    started = time.perf_counter()
    table = read_trial_table(path)
    assert len(table) == 30_000
    assert time.perf_counter() - started < 3.0  # reading and every check, on a busy machine
    started = time.perf_counter()
    check_consistency(path, table)
    assert time.perf_counter() - started < 0.25


# ---------------------------------------------------------------- 6. OS-level failures
def test_example_6_a_full_disk_during_training_is_one_line(tmp_path, tiny_yaml, capsys,
                                                           monkeypatch):
    from collections import namedtuple

    calls = []
    real_save = torch.save

    def save(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 2:  # the disk fills up after the first checkpoint
            with open(path, "wb") as file:
                file.write(b"PK\x03\x04 half")
            raise RuntimeError("[enforce fail at inline_container.cc:603] . PytorchStreamWriter "
                               "failed writing file data/3: file write failed")
        return real_save(obj, path, *args, **kwargs)

    Stat = namedtuple("Stat", "f_bsize f_frsize f_blocks f_bfree f_bavail f_files f_ffree "
                      "f_favail f_flag f_namemax")
    real_statvfs = os.statvfs

    def statvfs(path):
        return Stat(*[*real_statvfs(path)[:3], 0, 0, *real_statvfs(path)[5:]])

    monkeypatch.setattr(torch, "save", save)
    monkeypatch.setattr(os, "statvfs", statvfs)
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "disk is full")
    assert _no_temporaries(tmp_path) == []
    monkeypatch.undo()
    status, _, _ = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run", "--resume")
    assert status == 0  # the last checkpoint was kept and continues


def test_example_6_a_run_folder_deleted_mid_run_is_one_line(tmp_path, tiny_yaml, capsys,
                                                           monkeypatch):
    from twostep.runs import checkpoints, store

    real = checkpoints.save_checkpoint
    calls = []

    def save_then_vanish(state, config, run_dir):
        calls.append(state.update)
        if len(calls) == 2:
            shutil.rmtree(run_dir)
        return real(state, config, run_dir)

    monkeypatch.setattr(store, "save_checkpoint", save_then_vanish)
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "no longer exists")


def test_a_read_only_file_system_mid_run_is_one_line(tmp_path, tiny_yaml, capsys, monkeypatch):
    from twostep.runs import checkpoints, store

    real = checkpoints.save_checkpoint
    calls = []

    def save_read_only(state, config, run_dir):
        calls.append(state.update)
        if len(calls) == 2:
            raise OSError(30, "Read-only file system", str(run_dir / "checkpoint.pt"))
        return real(state, config, run_dir)

    monkeypatch.setattr(store, "save_checkpoint", save_read_only)
    status, _, err = cli(capsys, "train", tiny_yaml, "--out", tmp_path / "run")
    assert_one_line_error(status, err, "read-only")


def test_a_missing_optional_package_is_one_line_saying_what_to_install(capsys, monkeypatch):
    import twostep.interfaces.cli as cli_module

    def needs_gymnasium(args):
        raise ModuleNotFoundError("No module named 'gymnasium'", name="gymnasium")

    monkeypatch.setattr(cli_module, "cmd_bench", needs_gymnasium)
    status, _, err = cli(capsys, "bench")
    assert_one_line_error(status, err, "pip install")
    assert "twostep[gym]" in err


def test_a_zstandard_table_without_zstandard_is_one_line(trained_run, tmp_path, capsys):
    try:
        import zstandard  # noqa: F401
        pytest.skip("zstandard is installed")
    except ImportError:
        pass
    path = tmp_path / "t.csv.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 20)
    status, _, err = cli(capsys, "analyze", path)
    assert_one_line_error(status, err, "zstandard")


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (needs root and mount; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_during_training_is_one_line(small_disk, tmp_path):
    config = tmp_path / "big.yaml"
    config.write_text(tiny(name="big", episodes=80, checkpoint_every=1).with_changes(
        model={"hidden_size": 128}).to_yaml())
    (small_disk / "filler").write_bytes(b"\0" * (2**20 + 2**19))
    status, _, err = _finish(spawn("train", config, "--out", small_disk / "run", cwd=tmp_path),
                             300)
    assert status == 2, err
    assert messages(err)[-1].startswith("error: ") and "disk is full" in err
    assert _no_temporaries(small_disk) == []


# ---------------------------------------------------------------- 7. bounded reads
@pytest.mark.parametrize("kind", ["character device", "fifo", "folder", "symlink loop"])
def test_example_7_a_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    if kind == "character device":
        path = "/dev/zero"
    elif kind == "fifo":
        path = tmp_path / "c.yaml"
        os.mkfifo(path)
    elif kind == "folder":
        path = tmp_path / "c.yaml"
        path.mkdir()
    else:
        path = tmp_path / "c.yaml"
        path.symlink_to(tmp_path / "d.yaml")
        (tmp_path / "d.yaml").symlink_to(path)
    status, _, err = _finish(_spawn_limited("train", path, cwd=tmp_path), 60)
    assert status == 2, err
    assert messages(err) and messages(err)[-1].startswith("error: ")
    assert len(messages(err)) == 1
    assert {"character device": "not a regular file", "fifo": "not a regular file",
            "folder": "is a folder", "symlink loop": "symbolic links"}[kind] in err


def test_example_7_line_and_size_limits_apply_after_decompression(trained_run, tmp_path,
                                                                  capsys, monkeypatch):
    import gzip

    import twostep.trials.read as read_module

    long_line = tmp_path / "long.csv.gz"
    with gzip.open(long_line, "wt") as file:
        file.write("seed,episode,trial,choice,state,common,reward,good_state\n" + "0," * 50_000
                   + "\n")
    status, _, err = cli(capsys, "analyze", long_line)
    assert_one_line_error(status, err, "line 2 is longer than 4,096 bytes")
    big = tmp_path / "big.csv.gz"
    with gzip.open(big, "wb") as file:
        file.write((trained_run / "trials.csv").read_bytes())
    assert cli(capsys, "analyze", big)[0] == 0  # a compressed table is fine
    monkeypatch.setattr(read_module, "MAX_FILE_BYTES", 10_000)  # far above its gzip size
    status, _, err = cli(capsys, "analyze", big)
    assert_one_line_error(status, err, "larger than a trial table may be")


@pytest.mark.parametrize("kind", ["fifo", "folder", "character device"])
def test_a_trial_table_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = {"fifo": tmp_path / "t.csv", "folder": tmp_path / "t.csv",
            "character device": "/dev/zero"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    status, _, err = _finish(_spawn_limited("analyze", path, cwd=tmp_path), 60)
    assert status == 2, err
    assert "not a regular file" in err or "is a folder" in err


def test_example_7_a_small_deflated_checkpoint_is_refused_before_it_is_unpacked(
        run_copy, tmp_path):
    import zipfile

    path = run_copy / "checkpoint.pt"
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", compresslevel=1) as archive:
        for info, data in entries:
            if info.filename.endswith("/data/0"):
                bomb = zipfile.ZipInfo(info.filename)
                bomb.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(bomb, "w", force_zip64=True) as out:
                    chunk = bytes(2**24)
                    for _ in range(96):  # 1.5 GiB of zeros, about 1.5 MB deflated
                        out.write(chunk)
            else:
                archive.writestr(info, data)
        archive.comment = b""
    for info in zipfile.ZipFile(path).infolist():
        assert info.compress_size < 2**22
    code = ("import resource, sys\nfrom twostep.interfaces.cli import main\n"
            "status = main(['evaluate', sys.argv[1]])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, status)\n")
    result = subprocess.run([sys.executable, "-c", code, str(run_copy)], capture_output=True,
                            text=True, timeout=300)
    peak_mib, status = map(int, result.stdout.split()[-2:])
    assert peak_mib < 1000, f"{peak_mib} MiB at peak"
    assert status == 2, result.stderr
    assert "checkpoint" in result.stderr and "unpack" in result.stderr


def test_a_checkpoint_that_is_not_a_regular_file_is_refused_at_once(run_copy, tmp_path):
    (run_copy / "checkpoint.pt").unlink()
    os.mkfifo(run_copy / "checkpoint.pt")
    status, _, err = _finish(spawn("evaluate", run_copy, cwd=tmp_path), 60)
    assert status == 2 and "not a regular file" in err


def test_a_finished_runs_metrics_that_are_a_fifo_do_not_hang_the_cache(tmp_path, monkeypatch):
    from twostep.runs.store import train_or_load

    config = tiny(name="fifo")
    run_dir, _ = train_or_load(config, tmp_path, device="cpu", progress=False)
    (run_dir / "metrics.csv").unlink()
    os.mkfifo(run_dir / "metrics.csv")
    code = ("import sys\nfrom helpers import tiny\nfrom twostep.runs.store import train_or_load\n"
            "train_or_load(tiny(name='fifo'), sys.argv[1], device='cpu', progress=False)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(__file__),
                                                       os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env=env,
                               stderr=subprocess.PIPE, text=True)
    status, _, err = _finish(process, 60)
    assert status != 0 and "not a regular file" in err


# ---------------------------------------------------------------- 8. SIGTERM
def _wait_for(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail("timed out waiting")


def test_example_8_sigterm_is_an_interruption_that_keeps_the_checkpoint(tmp_path):
    path = write_tiny_yaml(tmp_path, "long.yaml", episodes=10**6)
    run_dir = tmp_path / "run"
    process = spawn("train", path, "--out", run_dir, cwd=tmp_path)
    _wait_for(lambda: (run_dir / "checkpoint.pt").exists())
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    status, _, err = _finish(process)
    assert status == 143, err
    assert messages(err)[-1] == (f"interrupted: the last checkpoint in {run_dir} is kept; "
                                 "continue with --resume")
    assert "Traceback" not in err
    assert _no_temporaries(tmp_path) == []
    from twostep.runs.checkpoints import read_checkpoint

    assert read_checkpoint(run_dir)["update"] >= 2


def test_sigterm_stops_reproduces_workers_and_leaves_no_temporary_file(tmp_path):
    paths = []
    for label, experiment in (("a", "wang2018"), ("b", "ritter2018-incremental")):
        paths.append(tmp_path / f"{label}.yaml")
        paths[-1].write_text(tiny(experiment, name=f"long-{label}", episodes=10**6).to_yaml())
    env = {**os.environ, "TWOSTEP_RUNS": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "twostep", "reproduce", "--experiments",
                                *map(str, paths), "--out", "results", "--processes", "2"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for(lambda: len(list((tmp_path / "runs").glob("*/checkpoint.pt"))) == 2, 180)
    process.send_signal(signal.SIGTERM)  # the caller only, as `kill` or `timeout` would
    status, _, err = _finish(process)
    assert status == 143, err[-2000:]
    assert messages(err)[-1].startswith("interrupted:") and "Traceback" not in err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("a worker outlived the terminated caller")
    assert _no_temporaries(tmp_path) == []


# ---------------------------------------------------------------- cases of our own
def test_a_checkpoint_whose_config_differs_from_config_yaml_is_refused(run_copy, capsys):
    path = run_copy / "config.yaml"
    path.write_text(path.read_text().replace("hidden_size: 48", "hidden_size: 64"))
    status, _, err = cli(capsys, "evaluate", run_copy)
    assert_one_line_error(status, err, "config.yaml")


@pytest.mark.parametrize("options, name", [(["--episodes", "3"], "trials-episodes-3.csv")])
def test_an_evaluation_with_other_options_does_not_replace_the_runs_table(run_copy, capsys,
                                                                          options, name):
    from twostep.runs.store import evaluate_or_load

    before = (run_copy / "trials.csv").read_bytes()
    status, out, _ = cli(capsys, "evaluate", run_copy, *options)
    assert status == 0 and name in out
    assert (run_copy / "trials.csv").read_bytes() == before
    assert evaluate_or_load(run_copy).episode.nunique() == 5  # the cache: the default protocol


def test_a_name_that_is_not_utf8_is_printed_without_a_crash(tmp_path, capsys):
    out = os.fsdecode(bytes(tmp_path) + b"/t\xff.csv")
    status, printed, err = cli(capsys, "simulate", "wang2018", "--agent", "random",
                               "--episodes", 2, "--out", out)
    assert status == 0, err
    assert "\\xff" in printed
