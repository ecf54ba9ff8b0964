"""Hostile input against the newer writers: seed shards and their merge, ``fit --out``,
``sweep --out`` and the sweep's cached signatures. Each follows the file policy
(:mod:`twostep.files`): a run's files are never an --out (at any depth inside the run
folder), nothing the user wrote is replaced or read back as the tool's, and every failure is
one line with exit status 2, found before any work."""

import os

import pandas as pd
import pytest
import torch
from helpers import TINY_TRAIN, tiny, write_tiny_yaml

from twostep.core.config import load_experiment
from twostep.errors import TwostepError
from twostep.files.owned import MANIFEST, listed, remove_run_folder, run_folder
from twostep.interfaces.cli import main
from twostep.runs.checkpoints import read_checkpoint
from twostep.runs.parallel import shard_configs
from twostep.runs.store import merge_shards, run_dir_for, snapshot_updates, train_or_load, train_run
from twostep.runs.sweep import SIGNATURE_FILE, load_sweep


def cli(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status, err, fragment):
    lines = [line for line in err.replace("\r", "\n").splitlines()
             if line.strip() and "update/s" not in line and "%|" not in line]
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], err
    assert "Traceback" not in err


def snapshot_of(folder):
    """Every file under ``folder`` with its bytes (to prove that nothing changed)."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    run_dir = folder / "run"
    train_run(load_experiment(write_tiny_yaml(folder)), run_dir, device="cpu", progress=False)
    assert main(["evaluate", str(run_dir)]) == 0
    return run_dir


@pytest.fixture
def shards(tmp_path):
    """A run of 3 seeds trained as two seed shards inside ``RUN_DIR/shards``, not merged yet:
    (config, run_dir, shard_dirs)."""
    config = tiny("wang2018", seeds=3, snapshot_every=3)
    run_dir = run_dir_for(config, tmp_path / "runs", "cpu")
    parts = [train_or_load(shard, run_dir / "shards", device="cpu", progress=False)[0]
             for shard in shard_configs(config, 2)]
    return config, run_dir, parts


# ---------------------------------------------------------------- seed shards and their merge
def test_merged_shards_list_every_file_of_the_run_and_leave_no_shard(shards):
    config, run_dir, parts = shards
    merge_shards(config, run_dir, parts)
    assert {"config.yaml", "checkpoint.pt", "metrics.csv"} <= set(listed(run_dir))
    assert set(listed(run_dir).values()) == {"run"}
    assert set(listed(run_dir / "snapshots")) == {"update-00003.pt", "update-00006.pt"}
    assert not (run_dir / "shards").exists()
    assert read_checkpoint(run_dir)["update"] == config.train.updates


def test_a_users_file_in_the_shards_folder_is_kept_and_said(shards):
    config, run_dir, parts = shards
    notes = parts[0] / "notes.txt"
    notes.write_text("mine")
    with pytest.warns(UserWarning, match="not written by twostep"):
        merge_shards(config, run_dir, parts)
    assert notes.read_text() == "mine"
    assert not (parts[1]).exists()  # the shard without a user's file is gone whole
    assert not (parts[0] / "checkpoint.pt").exists()


def test_a_users_config_in_the_run_folder_stops_the_merge_before_any_write(shards):
    config, run_dir, parts = shards
    (run_dir / "config.yaml").write_text("my notes\n")
    before = snapshot_of(run_dir)
    with pytest.raises(TwostepError, match="not written by twostep"):
        merge_shards(config, run_dir, parts)
    assert snapshot_of(run_dir) == before


def test_shards_that_do_not_fit_together_are_one_error(shards, tmp_path):
    config, run_dir, parts = shards
    train_run(tiny("wang2018", seeds=1, episodes=16), tmp_path / "other", device="cpu",
              progress=False)
    with pytest.raises(TwostepError, match="different updates"):
        merge_shards(config, run_dir, [parts[0], tmp_path / "other"])


def test_a_users_file_named_like_a_snapshot_is_not_a_snapshot(tmp_path):
    config = tiny("wang2018", snapshot_every=3)
    run2 = tmp_path / "run2"
    train_run(config, run2, device="cpu", progress=False)
    torch.save({"x": torch.zeros(1)}, run2 / "snapshots" / "update-00099.pt")
    (run2 / "snapshots" / "update-xyz.pt").write_text("not a number")
    assert snapshot_updates(run2) == [3, 6]


def test_snapshots_of_a_folder_from_before_they_were_listed_are_still_read(tmp_path):
    config = tiny("wang2018", snapshot_every=3)
    run = tmp_path / "run"
    train_run(config, run, device="cpu", progress=False)
    (run / "snapshots" / MANIFEST).unlink()  # as the earlier version left it
    assert snapshot_updates(run) == [3, 6]


def test_remove_run_folder_never_follows_a_link(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "checkpoint.pt").write_text("precious")
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "link").symlink_to(outside, target_is_directory=True)
    left = remove_run_folder(shards)
    assert left == [shards / "link"]
    assert (outside / "checkpoint.pt").read_text() == "precious"


# ---------------------------------------------------------------- anywhere inside a run folder
@pytest.mark.parametrize("where", ["shards/x.csv", "shards/a/b/x.csv", "snapshots/sub/x.csv",
                                   "deeper/still/x.csv"])
def test_an_out_at_any_depth_inside_a_run_folder_is_refused(trained, tmp_path, capsys, where):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / where).parent.mkdir(parents=True, exist_ok=True)
    before = snapshot_of(run)
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", 2,
                         "--out", run / where)
    assert_one_line_error(status, err, "inside the run folder")
    assert snapshot_of(run) == before
    assert run_folder((run / where).parent)


def test_train_out_inside_a_run_folder_is_refused(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    yaml = write_tiny_yaml(tmp_path)
    status, _, err = cli(capsys, "train", yaml, "--out", run / "shards" / "mine")
    assert_one_line_error(status, err, "inside the run folder")
    assert not (run / "shards").exists()


# ---------------------------------------------------------------- fit --out
@pytest.mark.parametrize("name", ["checkpoint.pt", "config.yaml", "metrics.csv", "trials.csv"])
def test_fit_never_writes_over_a_runs_own_files(trained, tmp_path, capsys, name):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = snapshot_of(run)
    status, _, err = cli(capsys, "fit", run / "trials.csv", "--out", run / name)
    assert_one_line_error(status, err, "inside the run folder")
    assert snapshot_of(run) == before


def test_fit_out_that_is_the_table_through_a_hard_link_is_refused(trained, tmp_path, capsys):
    table = tmp_path / "trials.csv"
    table.write_bytes((trained / "trials.csv").read_bytes())
    status, _, err = cli(capsys, "fit", table, "--out", tmp_path / "fits.csv")
    assert status == 0, err
    os.link(tmp_path / "fits.csv", tmp_path / "same.csv")  # a second name of the tool's file
    status, _, err = cli(capsys, "fit", tmp_path / "same.csv", "--out", tmp_path / "fits.csv")
    assert status == 2 and err.startswith("error: "), err


def test_fit_out_over_a_users_file_or_a_link_is_refused_before_fitting(trained, tmp_path,
                                                                       capsys):
    mine = tmp_path / "fits.csv"
    mine.write_text("my own fits\n")
    (tmp_path / "link.csv").symlink_to(mine)
    for out in (mine, tmp_path / "link.csv"):
        status, _, err = cli(capsys, "fit", trained / "trials.csv", "--out", out)
        assert_one_line_error(status, err, "not written by twostep")
    assert mine.read_text() == "my own fits\n"


# ---------------------------------------------------------------- sweep
TINY_SET = "\n".join(f"  train.{key}: {value}" for key, value in TINY_TRAIN.items())


def sweep_file(folder, body):
    path = folder / "sweep.yaml"
    path.write_text("experiment: wang2018\n" + body + f"\nset:\n{TINY_SET}\n")
    return path


@pytest.mark.parametrize("blocker", ["results.csv", "provenance.yaml"])
def test_sweep_out_over_a_users_file_is_refused_before_any_training(tmp_path, capsys,
                                                                    monkeypatch, blocker):
    monkeypatch.setenv("TWOSTEP_RUNS", str(tmp_path / "runs"))
    out = tmp_path / "out"
    out.mkdir()
    (out / blocker).write_text("mine\n")
    path = sweep_file(tmp_path, "grid:\n  task.common_prob: [0.7, 0.8]")
    status, _, err = cli(capsys, "sweep", path, "--out", out)
    assert_one_line_error(status, err, "not written by twostep")
    assert (out / blocker).read_text() == "mine\n"
    assert not (tmp_path / "runs").exists()  # nothing trained


def test_sweep_out_inside_a_run_folder_is_refused_before_any_training(trained, tmp_path,
                                                                      capsys, monkeypatch):
    import shutil

    monkeypatch.setenv("TWOSTEP_RUNS", str(tmp_path / "runs"))
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = snapshot_of(run)
    path = sweep_file(tmp_path, "grid:\n  task.common_prob: [0.7, 0.8]")
    for out in (run, run / "results"):
        status, _, err = cli(capsys, "sweep", path, "--out", out)
        assert_one_line_error(status, err, "inside the run folder")
    assert snapshot_of(run) == before
    assert not (tmp_path / "runs").exists()


def test_a_grid_too_large_to_run_is_one_line_at_once(tmp_path, capsys):
    values = "[" + ", ".join(str(v) for v in range(1, 101)) + "]"
    body = "grid:\n" + "".join(f"  {field}: {values}\n" for field in
                                ("model.hidden_size", "train.seeds", "task.trials"))
    status, _, err = cli(capsys, "sweep", sweep_file(tmp_path, body))
    assert_one_line_error(status, err, "1,000,000 points")


@pytest.mark.parametrize("kind", ["fifo", "folder", "missing"])
def test_a_sweep_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path, capsys, kind):
    path = tmp_path / "sweep.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    status, _, err = cli(capsys, "sweep", path)
    assert_one_line_error(status, err, "sweep")


def test_a_users_signature_table_in_a_point_is_neither_read_nor_replaced(tmp_path):
    from twostep.runs.sweep import _signature_if_done, signature_or_load

    sweep = load_sweep(str(sweep_file(tmp_path, "points:\n  - {task.common_prob: 0.8}")))
    config = sweep.points[0].config
    run_dir, _ = train_or_load(config, tmp_path / "runs", device="cpu", progress=False)
    mine = run_dir / SIGNATURE_FILE
    mine.write_text("point,seed,reward\n0,0,99\n")
    assert _signature_if_done(config, tmp_path / "runs") is None  # never read as the cache
    with pytest.warns(UserWarning, match="not written by twostep"):
        table = signature_or_load(run_dir)
    assert mine.read_text() == "point,seed,reward\n0,0,99\n"
    assert not (table["reward"] == 99).any()
    assert isinstance(table, pd.DataFrame)


def test_a_snapshots_link_to_another_folder_is_refused_and_nothing_written_there(tmp_path,
                                                                                 capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "snapshots").symlink_to(elsewhere, target_is_directory=True)
    yaml = write_tiny_yaml(tmp_path, snapshot_every=3)
    status, _, err = cli(capsys, "train", yaml, "--out", run)
    assert_one_line_error(status, err, "not a folder of the run")
    assert list(elsewhere.iterdir()) == []


def test_a_cached_table_replaced_by_hand_under_the_tools_name_is_one_line(tmp_path):
    """The list vouches for a name: a user who deletes the tool's signature.csv and writes
    their own there is told so, rather than their table read as the tool's."""
    from twostep.runs.sweep import signature_or_load

    sweep = load_sweep(str(sweep_file(tmp_path, "points:\n  - {task.common_prob: 0.8}")))
    run_dir, _ = train_or_load(sweep.points[0].config, tmp_path / "runs", device="cpu",
                               progress=False)
    signature_or_load(run_dir)
    (run_dir / SIGNATURE_FILE).unlink()
    (run_dir / SIGNATURE_FILE).write_text("point,seed,reward\n0,0,99\n")
    with pytest.raises(TwostepError, match="not the table twostep kept there"):
        signature_or_load(run_dir)
    assert (run_dir / SIGNATURE_FILE).read_text() == "point,seed,reward\n0,0,99\n"


def test_the_message_names_the_run_folder_not_the_folder_inside_it(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    status, _, err = cli(capsys, "simulate", "wang2018", "--agent", "random", "--episodes", 1,
                         "--out", run / "shards" / "a" / "x.csv")
    assert_one_line_error(status, err, f"inside the run folder {run}, which")
