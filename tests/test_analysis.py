"""Analyses on hand-made trial tables whose answers are counted by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from twostep.analysis.published import WANG2018_STAY
from twostep.analysis.report import analyze, format_analysis
from twostep.analysis.stats import (
    CONDITIONS,
    CORRECTED_TERMS,
    DAW_TERMS,
    corrected_regression,
    daw_regression,
    lagged_design,
    lagged_regression,
    model_indices,
    previous_trial,
    recalled_trial,
    reward_per_episode,
    stay_probabilities,
    summarize_stay,
)
from twostep.errors import TwostepError


def trial_table(choice, common, reward, episode=None, seed=0, **extra) -> pd.DataFrame:
    """A one-seed log; ``episode`` defaults to one episode; state follows the transition."""
    choice, common = np.asarray(choice), np.asarray(common)
    episode = np.zeros(len(choice), dtype=int) if episode is None else np.asarray(episode)
    trial = pd.Series(episode).groupby(episode).cumcount().to_numpy()
    table = pd.DataFrame({
        "seed": seed, "episode": episode, "trial": trial, "choice": choice,
        "state": np.where(common == 1, choice, 1 - choice), "common": common,
        "reward": np.asarray(reward), "good_state": 0,
    })
    for name, values in extra.items():
        table[name] = values
    return table


# Two episodes of six trials. Reference (t-1) conditions and stays, by hand:
#   episode 0: t1 ref RC stay, t2 ref RU switch, t3 ref UC stay, t4 ref UU switch, t5 ref RC stay
#   episode 1: t1 ref UU stay, t2 ref UC switch, t3 ref RU stay, t4 ref RC stay, t5 ref UC switch
TWELVE = trial_table(
    choice=[0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1],
    common=[1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0],
    reward=[1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 1],
    episode=[0] * 6 + [1] * 6,
)
HAND_COUNTED = {  # condition: (stays, trials)
    "rewarded_common": (3, 3),
    "rewarded_uncommon": (1, 2),
    "unrewarded_common": (1, 3),
    "unrewarded_uncommon": (1, 2),
}


def test_stay_probabilities_match_a_hand_count_of_a_twelve_trial_log():
    table = stay_probabilities(TWELVE).set_index("condition")
    for condition, (stays, trials) in HAND_COUNTED.items():
        assert table.loc[condition, "n"] == trials
        assert table.loc[condition, "stay_probability"] == pytest.approx(stays / trials)
    assert list(table.index) == list(CONDITIONS)


def test_stays_are_never_paired_across_episodes():
    pairs = previous_trial(TWELVE)
    assert len(pairs) == 10  # 12 trials minus the first trial of each of 2 episodes
    assert (pairs["trial"] >= 1).all()
    assert (pairs["prev_trial"] == pairs["trial"] - 1).all()
    # trial 0 of episode 1 (choice 1) would "stay" with the last trial of episode 0 (choice 0)
    # only if paired across the boundary; it must not be scored at all.
    assert not ((pairs["episode"] == 1) & (pairs["trial"] == 0)).any()


def test_stays_are_never_paired_across_seeds_and_row_order_does_not_matter():
    two_seeds = pd.concat([TWELVE, TWELVE.assign(seed=1)], ignore_index=True)
    shuffled = two_seeds.sample(frac=1.0, random_state=0)
    table = stay_probabilities(shuffled)
    assert len(table) == 8
    for seed in (0, 1):
        rows = table[table["seed"] == seed].set_index("condition")
        for condition, (stays, trials) in HAND_COUNTED.items():
            assert rows.loc[condition, "stay_probability"] == pytest.approx(stays / trials)


def episodic_table() -> pd.DataFrame:
    """One episode of 8 trials: 0-3 uncued, 4-7 cued with recalled trials 2, 0, 3, 1."""
    return trial_table(
        choice=[0, 1, 1, 0, 1, 0, 1, 1],
        common=[1, 1, 0, 1, 1, 0, 1, 1],
        reward=[1, 0, 1, 0, 0, 1, 1, 0],
        cued=[0, 0, 0, 0, 1, 1, 1, 1],
        cue_trial=[-1, -1, -1, -1, 2, 0, 3, 1],
    )


def test_cue_reference_compares_with_the_recalled_trial_not_trial_t_minus_1():
    pairs = recalled_trial(episodic_table())
    assert list(pairs["trial"]) == [4, 5, 6, 7]
    assert list(pairs["prev_trial"]) == [2, 0, 3, 1]
    # choices 1,0,1,1 against recalled choices 1,0,0,1
    assert list(pairs["stay"]) == [1, 1, 0, 1]
    # trial 6 recalls trial 3 (unrewarded, common): conditions come from the recalled trial
    table = stay_probabilities(episodic_table(), reference="cue").set_index("condition")
    assert table.loc["rewarded_uncommon", "stay_probability"] == 1.0  # trial 4 recalls 2
    assert table.loc["rewarded_common", "stay_probability"] == 1.0    # trial 5 recalls 0
    assert table.loc["unrewarded_common", "stay_probability"] == 0.5  # trials 6, 7 recall 3, 1
    assert table["n"].sum() == 4


def test_trial_selection_scores_only_uncued_or_only_cued_trials():
    table = episodic_table()
    assert set(previous_trial(table, trials="uncued")["trial"]) == {1, 2, 3}
    assert set(previous_trial(table, trials="cued")["trial"]) == {4, 5, 6, 7}
    assert stay_probabilities(table, trials="cued")["n"].sum() == 4


def test_summarize_stay_gives_the_mean_and_standard_error_over_seeds():
    per_seed = pd.DataFrame({
        "seed": [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        "condition": list(CONDITIONS) * 3,
        "stay_probability": [1.0, 0.6, 0.5, 0.9, 0.8, 0.7, 0.5, 0.9, 0.9, 0.8, np.nan, 0.9],
        "n": [10] * 12,
    })
    summary = summarize_stay(per_seed).set_index("condition")
    assert summary.loc["rewarded_common", "mean"] == pytest.approx(0.9)
    assert summary.loc["rewarded_common", "sem"] == pytest.approx(0.1 / np.sqrt(3))
    assert summary.loc["unrewarded_common", "seeds"] == 2
    assert summary.loc["unrewarded_uncommon", "sem"] == pytest.approx(0.0)
    one_seed = summarize_stay(per_seed[per_seed["seed"] == 0])
    assert one_seed["sem"].isna().all()


def synthetic_stays(coefficients: dict[str, float], episodes: int = 4000, trials: int = 50,
                    seed: int = 0) -> pd.DataFrame:
    """Episodes whose stays follow a known one-back logistic model (random outcomes)."""
    rng = np.random.default_rng(seed)
    common = (rng.random((episodes, trials)) < 0.7).astype(int)
    reward = (rng.random((episodes, trials)) < 0.5).astype(int)
    choice = np.zeros((episodes, trials), dtype=int)
    choice[:, 0] = rng.integers(0, 2, episodes)
    r, tr = 2 * reward - 1, 2 * common - 1
    for t in range(1, trials):
        logit = (coefficients["intercept"] + coefficients["reward"] * r[:, t - 1]
                 + coefficients["transition"] * tr[:, t - 1]
                 + coefficients["reward:transition"] * r[:, t - 1] * tr[:, t - 1])
        stay = rng.random(episodes) < 1 / (1 + np.exp(-logit))
        choice[:, t] = np.where(stay, choice[:, t - 1], 1 - choice[:, t - 1])
    return trial_table(choice.ravel(), common.ravel(), reward.ravel(),
                       episode=np.repeat(np.arange(episodes), trials))


def test_daw_regression_recovers_known_coefficients_within_three_standard_errors():
    truth = {"intercept": 0.4, "reward": 0.8, "transition": -0.3, "reward:transition": 0.6}
    fits = daw_regression(synthetic_stays(truth))
    pooled = fits[fits["seed"] == "pooled"].set_index("term")
    assert list(pooled.index) == list(DAW_TERMS)
    for term, value in truth.items():
        assert abs(pooled.loc[term, "estimate"] - value) < 3 * pooled.loc[term, "se"]
    assert (pooled["p_value"] < 1e-6).all()
    assert set(fits["seed"]) == {"pooled", 0}


def test_regression_stays_finite_when_an_agent_always_stays_after_some_outcomes():
    separated = {"intercept": 30.0, "reward": 0.0, "transition": 0.0, "reward:transition": 28.0}
    fits = daw_regression(synthetic_stays(separated, episodes=500))
    stays = stay_probabilities(synthetic_stays(separated, episodes=500)).set_index("condition")
    assert stays.loc["rewarded_common", "stay_probability"] == 1.0
    values = fits[["estimate", "se", "p_value"]].to_numpy()
    assert np.isfinite(values).all()
    pooled = fits[fits["seed"] == "pooled"].set_index("term")
    assert 2 < pooled.loc["reward:transition", "estimate"] < 20


def test_corrected_regression_adds_the_correct_predictor_read_on_the_reference_trial():
    table = TWELVE.copy()
    table["good_state"] = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    fits = corrected_regression(table)
    assert list(fits.loc[fits["seed"] == "pooled", "term"]) == list(CORRECTED_TERMS)
    assert np.isfinite(fits["estimate"]).all()
    with pytest.raises(TwostepError, match="good_state_of"):
        corrected_regression(table, good_state_of="next")


def test_lagged_design_codes_each_past_choice_by_its_trial_type():
    design = lagged_design(TWELVE, lags=2).iloc[:6]  # episode 0
    # trial 2: lag 1 is trial 1 (choice 0, rewarded uncommon), lag 2 is trial 0 (choice 0, RC)
    assert design.loc[2, "rewarded_uncommon@1"] == -1
    assert design.loc[2, "rewarded_common@2"] == -1
    assert design.loc[2, ["rewarded_common@1", "unrewarded_common@1"]].tolist() == [0, 0]
    # trial 3: lag 1 is trial 2 (choice 1, unrewarded common)
    assert design.loc[3, "unrewarded_common@1"] == 1
    # trial 0 has no past: every predictor is 0
    assert (design.loc[0].drop(["seed", "choice"]) == 0).all()
    # episode 1's first trial does not see episode 0
    assert (lagged_design(TWELVE, lags=2).iloc[6].drop(["seed", "choice"]) == 0).all()


def test_model_indices_sum_lagged_weights_with_the_published_signs():
    coefs = pd.DataFrame({
        "seed": ["pooled"] * 8,
        "term": list(CONDITIONS) * 2,
        "lag": [1] * 4 + [2] * 4,
        "estimate": [1.0, 0.1, -0.2, 0.5, 0.4, 0.0, -0.1, 0.3],
    })
    indices = model_indices(coefs).set_index("seed")
    # MB = RC - UC + UU - RU; MF = RC - UC - UU + RU (RC, RU, UC, UU order in CONDITIONS)
    assert indices.loc["pooled", "mb_index"] == pytest.approx(1.4 + 0.3 + 0.8 - 0.1)
    assert indices.loc["pooled", "mf_index"] == pytest.approx(1.4 + 0.3 - 0.8 + 0.1)


def test_lagged_regression_returns_one_weight_per_lag_and_type_for_each_fit():
    fits = lagged_regression(synthetic_stays(
        {"intercept": 0.0, "reward": 1.0, "transition": 0.0, "reward:transition": 0.0},
        episodes=300), lags=3)
    pooled = fits[fits["seed"] == "pooled"]
    assert len(pooled) == 1 + 3 * 4
    assert pooled["lag"].isna().sum() == 1
    assert set(pooled["lag"].dropna()) == {1, 2, 3}


def test_reward_per_episode_averages_episode_totals_and_splits_cued_trials():
    table = episodic_table()
    second = table.assign(episode=1, reward=0)
    rewards = reward_per_episode(pd.concat([table, second], ignore_index=True)).set_index("trials")
    assert rewards.loc["all", "reward_per_episode"] == pytest.approx(4 / 2)
    assert rewards.loc["uncued", "reward_per_episode"] == pytest.approx(2 / 2)
    assert rewards.loc["cued", "reward_per_episode"] == pytest.approx(2 / 2)
    assert rewards.loc["all", "reward_per_100_trials"] == pytest.approx(100 * 4 / 16)
    assert rewards.loc["all", "episodes"] == 2


@pytest.mark.parametrize("call", [
    lambda t: stay_probabilities(t.drop(columns=["reward"])),
    lambda t: stay_probabilities(t, reference="next"),
    lambda t: stay_probabilities(t, reference="cue"),
    lambda t: stay_probabilities(t, trials="cued"),
    lambda t: stay_probabilities(t.iloc[:0]),
    lambda t: stay_probabilities(pd.concat([t, t])),
    lambda t: corrected_regression(t.drop(columns=["good_state"])),
    lambda t: lagged_regression(t, lags=0),
])
def test_bad_input_raises_a_one_line_twostep_error(call):
    with pytest.raises(TwostepError) as error:
        call(TWELVE)
    assert "\n" not in str(error.value)


def test_cue_reference_without_cued_trials_raises():
    uncued = episodic_table().assign(cued=0, cue_trial=-1)
    with pytest.raises(TwostepError, match="no cued trials"):
        stay_probabilities(uncued, reference="cue")


def test_analyze_is_json_serialisable_and_the_report_sets_wang_2018_beside_ours():
    table = synthetic_stays(
        {"intercept": 0.5, "reward": 0.2, "transition": 0.0, "reward:transition": 1.0},
        episodes=200, trials=40)
    table = pd.concat([table, table.assign(seed=1)], ignore_index=True)
    summary = analyze(table)
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text)["table"]["seeds"] == [0, 1]
    assert list(summary["panels"]) == ["all_vs_previous"]
    report = format_analysis(summary)
    assert "Wang 2018" in report
    assert f"{WANG2018_STAY['rewarded_uncommon']:.2f}" in report
    assert "MB index" in report
    assert "published" not in format_analysis(summary, published={})


def test_analyze_reports_three_panels_for_episodic_tables():
    rng = np.random.default_rng(1)
    table = synthetic_stays(
        {"intercept": 0.5, "reward": 0.2, "transition": 0.0, "reward:transition": 1.0},
        episodes=200, trials=40)
    table["cued"] = (table["trial"] >= 20).astype(int)
    table["cue_trial"] = np.where(table["cued"] == 1, rng.integers(0, 20, len(table)), -1)
    summary = analyze(table)
    json.dumps(summary, allow_nan=False)
    assert list(summary["panels"]) == ["uncued_vs_previous", "cued_vs_previous",
                                       "cued_vs_recalled"]
    assert set(summary["reward"]) == {"all", "uncued", "cued"}
    report = format_analysis(summary)
    assert "Ritter 2018, episodic" in report
    assert "cued trials vs the recalled trial" in report
