import math

import pandas as pd

from twostep.runs.bench import run_bench, run_fit_bench
from twostep.runs.reproduce import reproduce


def test_reproduce_writes_figures_and_a_table_beside_the_published_values(tmp_path, tiny_yaml):
    config = tiny_yaml
    summary = reproduce(tmp_path / "results", device="cpu", experiments=[str(config)],
                        runs_root=tmp_path / "runs", progress=False)
    assert list(summary["condition"]) == ["rewarded_common", "rewarded_uncommon",
                                          "unrewarded_common", "unrewarded_uncommon"]
    assert summary["published"].tolist() == [0.99, 0.63, 0.61, 0.99]
    written = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert (written["difference"] - (written["mean"] - written["published"])).abs().max() < 1e-12
    assert (tmp_path / "results" / "tiny_all_vs_previous.png").is_file()
    # a second call loads the finished run instead of training again
    again = reproduce(tmp_path / "results", device="cpu", experiments=[str(config)],
                      runs_root=tmp_path / "runs", progress=False)
    pd.testing.assert_frame_equal(summary, again)


def test_bench_reports_each_trainer_against_the_naive_loop(capsys):
    rows = run_bench(updates=1, naive_episodes=1, experiments=("wang2018", "ritter2018-episodic"))
    assert [row["trainer"] for row in rows] == ["naive", "wang2018", "ritter2018-episodic"]
    naive = rows[0]["steps_per_s"]
    for row in rows:
        assert math.isfinite(row["steps_per_s"]) and row["steps_per_s"] > 0
        assert row["ratio"] == row["steps_per_s"] / naive  # batched / naive, as printed
    printed = capsys.readouterr().out
    for row in rows[1:]:
        assert f"{row['steps_per_s']:>14,.0f}{row['ratio']:>10.1f}" in printed


def test_the_fit_bench_times_a_fit_of_the_hybrid_model(capsys):
    row = run_fit_bench(seeds=2, episodes=3)
    assert row["trials"] == 2 * 3 * 100
    assert math.isfinite(row["seconds"]) and row["seconds"] > 0
    assert f"{row['seconds']:.1f} s" in capsys.readouterr().out


def test_the_vector_env_bench_compares_the_env_with_the_task_it_wraps():
    from twostep.interfaces.env_bench import vector_env_vs_task

    row = vector_env_vs_task("wang2018", batch=8, repeats=1)
    assert row["experiment"] == "wang2018" and row["batch"] == 8
    assert all(math.isfinite(row[k]) and row[k] > 0
               for k in ("task_steps_per_s", "env_steps_per_s"))
    assert row["ratio"] == row["env_steps_per_s"] / row["task_steps_per_s"]


def test_summary_flags_bars_within_the_published_error_bar():
    from twostep.analysis.report import format_summary, panel_table

    trials = pd.DataFrame({"seed": 0, "episode": 0, "trial": range(4), "choice": [0, 0, 1, 1],
                           "state": [0, 0, 1, 1], "common": 1, "reward": [1, 1, 0, 0],
                           "cued": 0})
    table = panel_table(trials, "toy", "uncued_vs_previous")
    assert table["published_error"].between(0.05, 0.10).all()
    expected = (table["difference"].round(2).abs() <= table["published_error"] + 1e-9)
    assert table["within_error_bar"].tolist() == expected.tolist()
    assert "within the published error bar" in format_summary(
        table.assign(agent="toy", reading="toy", headline=True))


def test_every_incremental_panel_has_all_three_readings_and_one_headline():
    from twostep.analysis.published import HEADLINE_INCREMENTAL_READING, INCREMENTAL_READINGS, PANEL_SOURCES

    for panel in ("uncued_vs_previous", "cued_vs_previous"):
        rows = [s for s in PANEL_SOURCES if s.panel == panel]
        assert sorted(s.reading for s in rows) == sorted(INCREMENTAL_READINGS)
        assert [s.reading for s in rows if s.headline] == [HEADLINE_INCREMENTAL_READING]
    recalled = {s.reading: s for s in PANEL_SOURCES if s.panel == "cued_vs_recalled"}
    assert set(recalled) == {"unfitted", "fitted"}
    assert recalled["unfitted"].headline and not recalled["fitted"].headline
    assert "fitted" in recalled["fitted"].agent


def test_every_published_panel_has_exactly_one_headline_row():
    from twostep.analysis.published import PANEL_SOURCES, PUBLISHED_FOR_PANEL

    headline_panels = [s.panel for s in PANEL_SOURCES if s.headline]
    assert sorted(headline_panels) == sorted(PUBLISHED_FOR_PANEL)
