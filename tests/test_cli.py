"""The command line end to end, on tiny budgets, and its one-line errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from twostep.interfaces.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "twostep", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_train_evaluate_analyze_end_to_end(tmp_path, tiny_yaml, capsys):
    run_dir = tmp_path / "run"
    assert main(["train", str(tiny_yaml), "--out", str(run_dir), "--device", "cpu"]) == 0
    assert (run_dir / "checkpoint.pt").is_file()
    assert main(["evaluate", str(run_dir)]) == 0
    trials = pd.read_csv(run_dir / "trials.csv")
    assert len(trials) == 2 * 5 * 100  # seeds x test episodes x trials
    capsys.readouterr()
    assert main(["analyze", str(run_dir / "trials.csv"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert isinstance(summary, dict)


def test_train_resume_continues_a_stopped_run(tmp_path, tiny_yaml):
    from twostep.core.config import load_experiment
    from twostep.runs.checkpoints import read_checkpoint
    from twostep.runs.store import train_run

    run_dir = tmp_path / "run"
    train_run(load_experiment(tiny_yaml), run_dir, device="cpu", progress=False, stop_after=1)
    assert read_checkpoint(run_dir)["update"] == 1  # interrupted after 1 of 6 updates
    assert main(["train", str(tiny_yaml), "--out", str(run_dir), "--resume"]) == 0
    assert read_checkpoint(run_dir)["update"] == 6
    assert len(pd.read_csv(run_dir / "metrics.csv")) == 6 * 2


# ---------------------------------------------------------------- one run folder scheme
def test_train_writes_the_run_cache_that_reproduce_then_loads_without_training(
        tmp_path, tiny_yaml, capsys, monkeypatch):
    from twostep.core.config import load_experiment
    from twostep.runs import store
    from twostep.runs.checkpoints import is_finished

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWOSTEP_RUNS", raising=False)
    assert main(["train", str(tiny_yaml), "--device", "cpu"]) == 0
    run_dir = store.run_dir_for(load_experiment(tiny_yaml))
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("tiny-")
    assert is_finished(run_dir)
    assert f"trained 2 seed(s) x 24 episodes (6 updates) in {run_dir}" in capsys.readouterr().out
    checkpoint = (run_dir / "checkpoint.pt").stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(store, "train_run", no_training)
    assert main(["train", str(tiny_yaml), "--device", "cpu"]) == 0
    assert f"already trained 2 seed(s) x 24 episodes (6 updates) in {run_dir}" in \
        capsys.readouterr().out
    assert main(["reproduce", "--experiments", str(tiny_yaml), "--out", "results",
                 "--device", "cpu"]) == 0
    assert (run_dir / "checkpoint.pt").stat().st_mtime_ns == checkpoint
    assert [p.name for p in (tmp_path / "runs").iterdir() if p.is_dir()] == [run_dir.name]
    assert (tmp_path / "results" / "summary.csv").is_file()


def test_twostep_runs_moves_the_run_cache_for_train_and_for_the_book(tmp_path, tiny_yaml,
                                                                     monkeypatch):
    from twostep.interfaces import book
    from twostep.runs.store import runs_root

    notebooks = tmp_path / "book" / "notebooks"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    monkeypatch.delenv("TWOSTEP_RUNS", raising=False)
    assert book.runs_dir() == tmp_path / "book" / "runs"  # the book's root, above notebooks/
    assert runs_root() == notebooks / "runs"
    monkeypatch.setenv("TWOSTEP_RUNS", str(tmp_path / "cache"))
    assert book.runs_dir() == runs_root() == tmp_path / "cache"
    assert runs_root(tmp_path / "given") == tmp_path / "given"
    assert main(["train", str(tiny_yaml), "--device", "cpu"]) == 0
    assert [p.name.split("-")[0] for p in (tmp_path / "cache").iterdir() if p.is_dir()] == ["tiny"]


def test_set_changes_the_trained_config_and_seeds_is_its_shorthand(tmp_path, tiny_yaml):
    from twostep.core.config import load_experiment

    run_dir = tmp_path / "run"
    assert main(["train", str(tiny_yaml), "--out", str(run_dir), "--device", "cpu",
                 "--set", "model.hidden_size=8", "--set", "train.lr=5e-3", "--seeds", "1"]) == 0
    trained = load_experiment(run_dir / "config.yaml")
    assert (trained.model.hidden_size, trained.train.lr, trained.train.seeds) == (8, 0.005, 1)
    assert pd.read_csv(run_dir / "metrics.csv")["seed"].nunique() == 1


@pytest.mark.parametrize("command", [["train", "wang2018"], ["reproduce", "--out", "results"]])
def test_a_bad_set_is_one_line_and_exit_2_before_any_work(tmp_path, command):
    result = run_cli(*command, "--set", "train.sedes=2", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --set train.sedes=2: unknown field 'train.sedes'"
    assert not (tmp_path / "runs").exists()


def test_simulate_writes_a_trial_table(tmp_path):
    out = tmp_path / "random.csv"
    assert main(["simulate", "wang2018", "--agent", "random", "--episodes", "4", "--out",
                 str(out)]) == 0
    assert len(pd.read_csv(out)) == 400


def test_fit_writes_one_row_per_seed_and_prints_json(tmp_path, capsys):
    trials = tmp_path / "trials.csv"
    assert main(["simulate", "wang2018", "--agent", "model-free", "--episodes", "20",
                 "--seeds", "2", "--out", str(trials)]) == 0
    out = tmp_path / "fits.csv"
    assert main(["fit", str(trials), "--model", "mf", "--out", str(out)]) == 0
    fits = pd.read_csv(out)
    assert list(fits["seed"]) == [0, 1] and (fits["model"] == "mf").all()
    assert {"alpha", "alpha_se", "lam", "beta", "perseveration", "w", "w_se",
            "log_likelihood", "n_trials", "bic"} <= set(fits.columns)
    assert (fits["w"] == 0).all() and (fits["n_trials"] == 2000).all()
    capsys.readouterr()
    assert main(["fit", str(trials), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["seed"], row["model"], row["trials"]) for row in rows] == [
        (0, "hybrid", "all"), (1, "hybrid", "all")]


def test_fit_will_not_write_over_the_table_it_fits(tmp_path):
    trials = tmp_path / "trials.csv"
    assert main(["simulate", "wang2018", "--agent", "random", "--episodes", "2", "--out",
                 str(trials)]) == 0
    before = trials.read_bytes()
    result = run_cli("fit", trials, "--out", trials, cwd=tmp_path)
    assert result.returncode == 2
    assert "is the trial table being fitted" in result.stderr
    assert trials.read_bytes() == before


@pytest.mark.parametrize("args, fragment", [
    (["train", "no-such-experiment"], "unknown experiment"),
    (["evaluate", "no/such/run"], "no checkpoint"),
    (["analyze", "no/such/trials.csv"], "no trial table"),
    (["fit", "no/such/trials.csv"], "no trial table"),
])
def test_bad_input_prints_one_line_and_exits_2(args, fragment, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:")
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_impossible_probability_in_a_config_file_is_rejected(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ntask: {common_prob: 1.2}\n")
    result = run_cli("train", path, cwd=tmp_path)
    assert result.returncode == 2
    assert "task.common_prob" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_checkpoint_is_rejected(tmp_path, tiny_yaml):
    run_dir = tmp_path / "run"
    assert main(["train", str(tiny_yaml), "--out", str(run_dir)]) == 0
    (run_dir / "checkpoint.pt").write_bytes(b"\x00garbage")
    result = run_cli("evaluate", run_dir, cwd=tmp_path)
    assert result.returncode == 2
    assert "corrupt checkpoint" in result.stderr


def test_csv_missing_columns_is_rejected(tmp_path):
    path = tmp_path / "partial.csv"
    pd.DataFrame({"seed": [0], "choice": [1]}).to_csv(path, index=False)
    result = run_cli("analyze", path, cwd=tmp_path)
    assert result.returncode == 2
    assert "missing column" in result.stderr


def test_non_positive_seed_count_is_rejected(tmp_path):
    result = run_cli("train", "wang2018", "--seeds", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "must be positive" in result.stderr
