"""Panels along training, and the shipped table of the paper-protocol runs continued to
30,000 episodes, checked against a seed retrained here."""

import pandas as pd
import pytest

from twostep.analysis.published import PAPER_PROTOCOL_SOURCES
from twostep.core.config import load_experiment
from twostep.runs.along import CONTINUED, EPISODES, continued_sources, panels_along_training
from twostep.runs.store import train_run


def test_the_continued_runs_are_the_paper_protocol_runs_with_more_episodes_only():
    for short, long in CONTINUED.items():
        a, b = (load_experiment(name).model_dump() for name in (short, long))
        assert (a["train"].pop("episodes"), b["train"].pop("episodes")) == (10_000, 30_000)
        assert (a["task"], a["model"], a["train"]) == (b["task"], b["model"], b["train"])
        assert b["train"]["snapshot_every"] == 1000


@pytest.mark.parametrize("name", ["wang2018-paper-protocol-30k"])
def test_a_seed_retrained_alone_gives_bitwise_its_rows_of_the_shipped_table(tmp_path, name):
    """Seeds train independently, so seed 3000 trained alone for 1,000 updates is the run's
    seed 3000 at its first snapshot; tested with the same episodes, its stays must be the
    shipped ones exactly."""
    from twostep.runs.along import shipped_table

    table, provenance = shipped_table()
    assert provenance["test_episodes_per_seed"] == EPISODES
    config = load_experiment(name).with_changes(
        train={"seeds": 1, "first_seed": 3000, "episodes": 1000})
    train_run(config, tmp_path / "run", device="cpu", progress=False)
    sources = [s for s in continued_sources() if s.experiment == name]
    ours = panels_along_training(tmp_path / "run", sources, updates=[1000], progress=False)
    shipped = table[(table["experiment"] == name) & (table["update"] == 1000)
                    & (table["seed"] == 3000)].reset_index(drop=True)
    columns = ["panel", "retrieval", "condition", "stay_probability", "n"]
    pd.testing.assert_frame_equal(ours[columns], shipped[columns], check_dtype=False)


def test_the_shipped_paper_protocol_table_comes_from_the_bundled_configs_as_they_are():
    """Each shipped run's folder name carries the hash of what its training depended on, so
    a config changed after its results were shipped no longer matches them."""
    from twostep.runs.along import shipped_paper_protocol
    from twostep.runs.store import run_dir_for

    shipped = shipped_paper_protocol()
    runs = shipped["provenance"]["runs"]
    assert set(runs) == {s.experiment for s in PAPER_PROTOCOL_SOURCES}
    for name, run in runs.items():
        config = load_experiment(name)
        assert run["run"] == run_dir_for(config).name
        assert run["training_seconds"] > 0
        assert shipped["provenance"]["test_episodes_per_seed"] == config.train.eval_episodes
        seeds = shipped["stays"].query("experiment == @name")["seed"]
        assert sorted(seeds.unique()) == list(range(3000, 3008))
        curve = shipped["curves"].query("experiment == @name")
        assert curve.groupby("seed")["episodes"].max().eq(config.train.episodes).all()


def test_every_paper_protocol_bar_is_listed_from_the_shipped_table_with_its_flags():
    from twostep.runs.along import paper_protocol_rows

    rows = paper_protocol_rows()
    assert len(rows) == 4 * len(PAPER_PROTOCOL_SOURCES)
    assert rows["seeds"].eq(8).all() and rows["protocol"].eq("paper").all()
    assert not rows["headline"].any()
    shown = (rows["mean"] - rows["published"]).round(2).abs()
    assert (rows["within_error_bar"] == (shown <= rows["published_error"] + 1e-9)).all()


def test_the_paper_protocol_rows_are_the_mean_of_the_seeds_and_a_missing_panel_is_refused():
    from twostep.errors import TwostepError
    from twostep.runs.along import paper_protocol_rows, shipped_paper_protocol

    stays = shipped_paper_protocol()["stays"]
    rows = paper_protocol_rows(stays)
    wang = stays.query("experiment == 'wang2018-paper-protocol'")
    expected = wang.groupby("condition")["stay_probability"].mean()
    got = rows.query("experiment == 'wang2018-paper-protocol'").set_index("condition")["mean"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    with pytest.raises(TwostepError, match="no rows"):
        paper_protocol_rows(stays.query("reading != 'lesion'"))


def test_the_readme_shows_the_shipped_paper_protocol_bars():
    """The README's table of paper-protocol bars is typed; it must say what the shipped
    tables say, rounded as shown."""
    from pathlib import Path

    from twostep.analysis.protocols import settled
    from twostep.analysis.stats import CONDITION_SHORT
    from twostep.runs.along import paper_protocol_rows, shipped_table

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    rows = paper_protocol_rows().set_index(["panel", "reading", "condition"])
    ends = settled(shipped_table()[0]).set_index(["panel", "reading", "condition"])
    names = {("all_vs_previous", "unfitted"): "Wang 2018, all trials vs t−1",
             ("cued_vs_recalled", "unfitted"): "Ritter 2018, cued vs the recalled trial",
             ("cued_vs_previous", "one agent"): "Ritter 2018, cued vs t−1 (one agent)"}
    for (panel, reading), name in names.items():
        for condition, short in CONDITION_SHORT.items():
            row, end = rows.loc[(panel, reading, condition)], ends.loc[(panel, reading, condition)]
            line = (f"| {name} | {short} | {row['published']:.2f} ± "
                    f"{row['published_error']:.2f} | {row['mean']:.2f} | {end['settled']:.2f} |")
            assert line in readme, line
