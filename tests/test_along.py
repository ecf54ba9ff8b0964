"""Panels along training, and the shipped table of the paper-protocol runs continued to
30,000 episodes, checked against a seed retrained here."""

import pandas as pd
import pytest

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
