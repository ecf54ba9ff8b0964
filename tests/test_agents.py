"""Reference agents show their textbook signatures on the Wang 2018 two-step task.

Statistical tests use 400 000 trials per agent (4 seeds x 1000 episodes x 100 trials):
each stay probability then rests on >= 40 000 trials, so its standard error is < 0.003
and the stated tolerances are > 10 standard errors wide.
"""

from __future__ import annotations

import pandas as pd
import pytest

from twostep.analysis.published import IDEAL_OBSERVER_WANG, IDEAL_OBSERVER_WANG_REWARD
from twostep.analysis.stats import (
    corrected_regression,
    daw_regression,
    lagged_regression,
    model_indices,
    reward_per_episode,
    stay_probabilities,
    summarize_stay,
)
from twostep.core.agents import AGENTS, ModelBasedAgent, simulate
from twostep.core.config import TaskConfig
from twostep.errors import TwostepError
from twostep.trials.columns import TRIAL_COLUMNS

WANG = TaskConfig()


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: simulate(name, WANG, episodes=1000, seeds=4)
            for name in ("random", "model-free", "model-based", "ideal")}


def mean_stay(table: pd.DataFrame) -> dict[str, float]:
    return summarize_stay(stay_probabilities(table)).set_index("condition")["mean"].to_dict()


def pooled(fits: pd.DataFrame) -> pd.DataFrame:
    return fits[fits["seed"] == "pooled"].set_index("term")


def test_random_agent_stays_half_the_time_in_every_condition(tables):
    for condition, stay in mean_stay(tables["random"]).items():
        assert stay == pytest.approx(0.5, abs=0.03), condition


def test_model_free_agent_stays_more_after_reward_whatever_the_transition(tables):
    stay = mean_stay(tables["model-free"])
    assert stay["rewarded_common"] > stay["unrewarded_common"] + 0.2
    assert stay["rewarded_uncommon"] > stay["unrewarded_uncommon"] + 0.1


def test_corrected_regression_removes_the_model_free_agents_spurious_interaction(tables):
    raw = pooled(daw_regression(tables["model-free"]))
    corrected = pooled(corrected_regression(tables["model-free"]))
    # Akam 2015: the raw one-back regression shows a reward x transition interaction...
    assert raw.loc["reward:transition", "estimate"] > 0.3
    assert raw.loc["reward:transition", "p_value"] < 1e-6
    # ...that the "correct" predictor takes over, leaving the reward effect intact.
    interaction = corrected.loc["reward:transition", "estimate"]
    assert abs(interaction) < 0.1
    assert abs(interaction) < 0.2 * raw.loc["reward:transition", "estimate"]
    assert corrected.loc["correct", "estimate"] > 0.3
    assert corrected.loc["reward", "estimate"] > 0.5


def test_model_based_agent_shows_the_reward_by_transition_interaction(tables):
    stay = mean_stay(tables["model-based"])
    assert stay["rewarded_common"] > stay["rewarded_uncommon"] + 0.3
    assert stay["unrewarded_uncommon"] > stay["unrewarded_common"] + 0.3
    fits = pooled(daw_regression(tables["model-based"]))
    assert fits.loc["reward:transition", "estimate"] > 0.8
    assert abs(fits.loc["reward", "estimate"]) < 0.1


def test_ideal_observer_earns_70_7_per_100_trials_and_matches_its_stay_pattern(tables):
    rewards = reward_per_episode(tables["ideal"])
    per_100_trials = rewards.loc[rewards["trials"] == "all", "reward_per_100_trials"].mean()
    assert per_100_trials == pytest.approx(IDEAL_OBSERVER_WANG_REWARD, abs=1.5)
    stay = mean_stay(tables["ideal"])
    for condition, published in IDEAL_OBSERVER_WANG.items():
        assert stay[condition] == pytest.approx(published, abs=0.03), condition


def test_lagged_regression_separates_model_based_from_model_free(tables):
    def indices(table: pd.DataFrame) -> pd.DataFrame:  # seed 0 alone: 100 000 trials
        return model_indices(lagged_regression(table[table["seed"] == 0])).set_index("seed")

    based, free = indices(tables["model-based"]), indices(tables["model-free"])
    mb_of_based, mf_of_based = based.loc["pooled", ["mb_index", "mf_index"]]
    mb_of_free, mf_of_free = free.loc["pooled", ["mb_index", "mf_index"]]
    assert mb_of_based > 3 and abs(mf_of_based) < 0.2 * mb_of_based
    assert mf_of_free > 3 and abs(mb_of_free) < 0.2 * mf_of_free


def test_model_based_agent_learning_its_transitions_still_plans():
    table = simulate("model-based", WANG, episodes=500, learn_transitions=True)
    fits = pooled(daw_regression(table))
    assert fits.loc["reward:transition", "estimate"] > 0.5


def test_hybrid_agent_mixes_both_signatures():
    fits = pooled(daw_regression(simulate("hybrid", WANG, episodes=1000, w=0.5)))
    assert fits.loc["reward", "estimate"] > 0.2
    assert fits.loc["reward:transition", "estimate"] > 0.5


def test_simulate_returns_one_row_per_trial_with_the_trial_columns():
    table = simulate("random", TaskConfig(trials=20), episodes=7, seeds=3, first_seed=5,
                     batch_size=3)
    assert list(table.columns) == TRIAL_COLUMNS
    assert len(table) == 3 * 7 * 20
    assert sorted(table["seed"].unique()) == [5, 6, 7]
    assert sorted(table["episode"].unique()) == list(range(7))


def test_a_seed_plays_the_same_episodes_alone_or_beside_other_seeds():
    alone = simulate("model-free", WANG, episodes=20, seeds=1, first_seed=1)
    together = simulate("model-free", WANG, episodes=20, seeds=2, first_seed=0)
    beside = together[together["seed"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, beside)
    again = simulate("model-free", WANG, episodes=20, seeds=1, first_seed=1)
    pd.testing.assert_frame_equal(alone, again)


def test_every_named_agent_runs():
    for name in AGENTS:
        assert len(simulate(name, TaskConfig(trials=10), episodes=2)) == 20


def test_unknown_agent_name_raises():
    with pytest.raises(TwostepError, match="unknown agent"):
        simulate("oracle", WANG, episodes=1)


def test_unknown_agent_parameter_raises():
    with pytest.raises(TwostepError, match="does not take"):
        simulate("random", WANG, episodes=1, alpha=0.1)


def test_out_of_range_parameter_raises():
    with pytest.raises(TwostepError, match="alpha"):
        ModelBasedAgent(alpha=1.5)


def test_agents_refuse_the_episodic_task_with_a_clear_message():
    episodic = TaskConfig(kind="episodic-two-step", common_prob=0.9, reversal_prob=0.1)
    with pytest.raises(TwostepError, match="two-step task only"):
        simulate("ideal", episodic, episodes=1)
