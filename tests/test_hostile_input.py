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
    status, _, err = cli(capsys, "evaluate", run_copy, "--episodes", "5")
    assert status == 130
    assert err.strip() == f"interrupted: nothing was written; {table} is as it was"
    assert "checkpoint" not in err
    assert table.read_bytes() == before
    assert sorted(p.name for p in run_copy.iterdir()) == sorted(
        ["checkpoint.pt", "config.yaml", "metrics.csv", "trials.csv", MANIFEST])


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
    real_read = type(unreadable).read_bytes

    def refuse(self):
        if self.name == "locked.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(type(unreadable), "read_bytes", refuse)
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
