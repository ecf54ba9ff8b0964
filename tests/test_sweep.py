"""Sweeps (twostep.runs.sweep): the sweep file is checked point by point before anything runs,
each point is a cached run, the table has one row per point and seed, and a second sweep trains
nothing. The engine itself (Dask workers, one of them killed) is tested in test_sweep_engine.py."""

import pandas as pd
import pytest
from helpers import TINY_TRAIN

from twostep.analysis.signature import SIGNATURE_COLUMNS
from twostep.core.fit import fitted_w
from twostep.errors import TwostepError
from twostep.interfaces.cli import main
from twostep.runs.store import evaluate_or_load, run_dir_for, train_or_load
from twostep.runs.sweep import (
    SIGNATURE_FILE,
    bundled_sweeps,
    load_sweep,
    run_sweep,
    signature_or_load,
    write_results,
)

TINY_SET = "\n".join(f"  train.{key}: {value}" for key, value in TINY_TRAIN.items())


def write_sweep(folder, body: str, tiny: bool = True) -> str:
    path = folder / "sweep.yaml"
    path.write_text("experiment: wang2018\n" + body + (f"\nset:\n{TINY_SET}\n" if tiny else ""))
    return str(path)


def test_grid_makes_every_combination_and_points_add_to_it(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "grid:\n  task.common_prob: [0.7, 0.8]\n"
                                   "  task.reversal_prob: [0.025, 0.05]\n"
                                   "points:\n  - {model.hidden_size: 12}"))
    assert [p.changes for p in sweep.points] == [
        {"task.common_prob": 0.7, "task.reversal_prob": 0.025},
        {"task.common_prob": 0.7, "task.reversal_prob": 0.05},
        {"task.common_prob": 0.8, "task.reversal_prob": 0.025},
        {"task.common_prob": 0.8, "task.reversal_prob": 0.05},
        {"model.hidden_size": 12},
    ]
    assert sweep.fields == ("task.common_prob", "task.reversal_prob", "model.hidden_size")
    assert sweep.points[1].config.task.reversal_prob == 0.05
    assert sweep.points[4].config.model.hidden_size == 12
    assert all(p.config.train.seeds == TINY_TRAIN["seeds"] for p in sweep.points)


@pytest.mark.parametrize(("body", "message"), [
    ("grid:\n  task.common_probability: [0.7]", "grid: task.common_probability: unknown field"),
    ("grid:\n  tasks.common_prob: [0.7]", "grid: tasks.common_prob: unknown section 'tasks'"),
    ("grid:\n  task.common_prob: [0.7, 1.5]",
     "point 1 (task.common_prob=1.5): task.common_prob: Input should be less than or equal to 1"),
    ("grid:\n  model.hidden_size: ['12']", "point 0 (model.hidden_size=12): model.hidden_size: "
     "Input should be a valid integer"),
    ("points:\n  - {model.cell: gru}", "point 0 (model.cell=gru): model.cell: Input should be"),
    ("grid: {}", "grid: empty"),
    ("grid:\n  task.common_prob: []", "grid: task.common_prob: expected a non-empty list"),
    ("points: []", "no points"),
    ("grid:\n  task.common_prob: [0.7, 0.7]", "point 1 (task.common_prob=0.7) is the same run as point 0"),
    ("gird:\n  task.common_prob: [0.7]", "gird: unknown key"),
])
def test_a_bad_sweep_file_is_one_line_naming_the_point_and_the_field(tmp_path, body, message):
    path = write_sweep(tmp_path, body)
    with pytest.raises(TwostepError, match=None) as caught:
        load_sweep(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_command_line_refuses_a_bad_sweep_with_one_line_and_status_2(tmp_path, capsys):
    path = write_sweep(tmp_path, "grid:\n  task.common_prob: [0.7, 1.5]")
    assert main(["sweep", path, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "point 1 (task.common_prob=1.5): task.common_prob" in err
    assert not (tmp_path / "out").exists()
    assert main(["sweep", "no-such-sweep"]) == 2
    assert main(["sweep", "smoke", "--set", "train.seedz=2"]) == 2
    assert "unknown field 'train.seedz'" in capsys.readouterr().err


def test_set_changes_every_point_after_the_files_own_set(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "grid:\n  task.common_prob: [0.7, 0.8]"),
                       ["train.seeds=3"])
    assert [p.config.train.seeds for p in sweep.points] == [3, 3]
    assert sweep.points[0].config.train.episodes == TINY_TRAIN["episodes"]


def test_bundled_sweeps_are_valid():
    assert {"smoke", "task-family"} <= set(bundled_sweeps())
    for name in bundled_sweeps():
        assert load_sweep(name).points


def test_a_second_sweep_trains_nothing_and_gives_the_same_table(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "grid:\n  task.common_prob: [0.7, 0.8]"))
    first = run_sweep(sweep, root=tmp_path / "runs", workers=2, progress=False)
    assert first.trained == {0, 1}
    table = first.table
    assert len(table) == 2 * TINY_TRAIN["seeds"]
    assert list(table.columns[:4]) == ["point", "task.common_prob", "run", "config_hash"]
    assert [c for c in table.columns[4:] if c != "w"] == ["seed", *SIGNATURE_COLUMNS]
    assert table.groupby("point")["seed"].apply(list).tolist() == [[0, 1], [0, 1]]
    for point in sweep.points:
        run_dir = tmp_path / "runs" / run_dir_for(point.config, ".").name
        assert (run_dir / SIGNATURE_FILE).is_file()
    checkpoints = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/checkpoint.pt")}

    again = run_sweep(sweep, root=tmp_path / "runs", engine="tcp://127.0.0.1:9", progress=False)
    assert again.trained == set()  # and no engine was needed: the address above answers nothing
    pd.testing.assert_frame_equal(again.table, table, check_exact=True)
    assert {p: p.stat().st_mtime_ns for p in checkpoints} == checkpoints

    results = write_results(sweep, again, tmp_path / "out", "python -m twostep sweep sweep.yaml")
    pd.testing.assert_frame_equal(pd.read_csv(results), table)
    provenance = (tmp_path / "out" / "provenance.yaml").read_text()
    assert f"config_hash: {table['config_hash'].iloc[0]}" in provenance


def test_the_signature_carries_the_hybrid_models_w_per_seed(tmp_path, tiny_wang):
    run_dir, _ = train_or_load(tiny_wang, tmp_path, device="cpu", progress=False)
    table = signature_or_load(run_dir)
    assert table["w"].tolist() == fitted_w(evaluate_or_load(run_dir)).tolist()
