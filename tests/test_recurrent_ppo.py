"""sb3-contrib's RecurrentPPO on the Gymnasium environment: the shipped test trials are what
the current code makes (same settings, a valid trial table per seed), and an agent's episodes
are recorded as the package's trial table.

Retraining a shipped seed bitwise takes minutes, so CI runs it beside the book build
(``python scripts/recurrent_ppo.py check``), not here.
"""

from __future__ import annotations

import pytest

recurrent_ppo = pytest.importorskip("twostep.interfaces.envs.recurrent_ppo")

from twostep.trials.columns import TRIAL_COLUMNS  # noqa: E402
from twostep.trials.read import checked_table  # noqa: E402


def test_the_shipped_trials_were_made_with_the_current_settings():
    provenance = recurrent_ppo.shipped_provenance()
    assert provenance["settings"] == recurrent_ppo.SETTINGS
    assert provenance["steps"] == recurrent_ppo.STEPS and provenance["n_envs"] == recurrent_ppo.N_ENVS
    assert provenance["settings"]["policy_kwargs"]["lstm_hidden_size"] == 48
    assert set(provenance["versions"]) >= {"sb3-contrib", "stable-baselines3", "torch"}


def test_the_shipped_trials_are_a_trial_table_of_at_least_four_seeds():
    provenance = recurrent_ppo.shipped_provenance()
    trials = checked_table(recurrent_ppo.shipped_trials(), TRIAL_COLUMNS)
    assert sorted(trials.seed.unique()) == sorted(provenance["seeds"]) and len(provenance["seeds"]) >= 4
    episodes = trials.groupby("seed").episode.nunique()
    assert (episodes == provenance["test_episodes"]).all()
    assert (trials.groupby(["seed", "episode"]).size() == 100).all()


def test_an_agent_plays_its_test_episodes_into_a_trial_table():
    agent = recurrent_ppo.make_agent(seed=0)
    trials = checked_table(recurrent_ppo.play(agent, seed=7, episodes=3), TRIAL_COLUMNS)
    assert len(trials) == 300 and set(trials.seed) == {7}
    assert sorted(trials.episode.unique()) == [0, 1, 2]
    again = recurrent_ppo.play(agent, seed=7, episodes=3)
    assert trials.equals(checked_table(again, TRIAL_COLUMNS))  # a function of the weights and the seeds
