"""A second route to Wang et al. 2018: sb3-contrib's ``RecurrentPPO`` on ``twostep/TwoStep-v0``.

A different learning algorithm (PPO, Schulman et al. 2017, with an LSTM policy) from another
codebase (sb3-contrib, built on Stable-Baselines3), trained through the Gymnasium interface
only: nothing here touches the package's own networks or trainer. Its test episodes are
recorded with :class:`~twostep.interfaces.envs.TrialRecorder`, so every analysis of the book
applies to them (the Gymnasium appendix).

Training one seed (:func:`train`) takes minutes on one core, so the book reads the test
trials of the seeds it shows from :data:`SHIPPED_TRIALS`, written by
``python scripts/recurrent_ppo.py write`` with the provenance beside it
(:data:`SHIPPED_PROVENANCE`); ``python scripts/recurrent_ppo.py check`` retrains one seed
and checks that it plays exactly the shipped rows (training on the CPU with a fixed seed is
bitwise repeatable).

Needs the optional ``sb3-contrib`` (in the ``book`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium
import numpy as np
import pandas as pd
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3.common.vec_env import DummyVecEnv

from twostep.interfaces.envs import TrialRecorder, TwoStepVectorEnv

ENV_ID = "twostep/TwoStep-v0"
"""The environment every seed trains on (registered by :mod:`twostep.interfaces.envs`)."""
ENV_CONFIG = "wang2018"
"""The experiment whose task ``twostep/TwoStep-v0`` plays (:data:`ENV_ID`)."""

N_ENVS = 16
"""Copies of the environment that training steps together (Stable-Baselines3's own
vectorisation, :class:`~stable_baselines3.common.vec_env.DummyVecEnv`)."""

STEPS = 300_000
"""Training budget per seed, in environment steps (= trials): 3,000 episodes."""

SETTINGS: dict = {
    "n_steps": 128,
    "batch_size": 512,
    "n_epochs": 4,
    "learning_rate": 1e-3,
    "gamma": 0.9,
    "ent_coef": 0.0,
    "policy_kwargs": {"lstm_hidden_size": 48},
}
"""``RecurrentPPO`` arguments that differ from sb3-contrib's defaults: the package's 48 units
and discount (0.9), a step size of 1e-3, no entropy bonus, and larger minibatches with fewer
epochs than the defaults (each minibatch replays the LSTM over whole sequences, step by step,
so the defaults' many small minibatches are slow)."""

TEST_EPISODES = 300
"""Test episodes per seed, weights frozen, choices sampled from the policy."""

TEST_SEED = 1
"""Seed of the test episodes' task (the same episodes for every trained seed)."""

HERE = Path(__file__).resolve().parent
SHIPPED_TRIALS = HERE / "recurrent_ppo_trials.csv.gz"
"""The test trials of the seeds the book shows: one trial table, ``seed`` = training seed."""

SHIPPED_PROVENANCE = HERE / "recurrent_ppo_trials.json"
"""How :data:`SHIPPED_TRIALS` was made: the command, the versions, the settings, the seeds,
and the training time of each seed."""


def make_agent(seed: int) -> RecurrentPPO:
    """An untrained agent on :data:`N_ENVS` copies of the environment, seeded with ``seed``."""
    envs = DummyVecEnv([lambda: gymnasium.make(ENV_ID) for _ in range(N_ENVS)])
    envs.seed(seed)
    return RecurrentPPO("MlpLstmPolicy", envs, seed=seed, device="cpu", **SETTINGS)


def train(seed: int, steps: int = STEPS) -> RecurrentPPO:
    """Train one seed for ``steps`` environment steps."""
    return make_agent(seed).learn(steps)


def play(agent: RecurrentPPO, seed: int, episodes: int = TEST_EPISODES,
         test_seed: int = TEST_SEED) -> pd.DataFrame:
    """The trial table of ``episodes`` test episodes, labelled ``seed``.

    All episodes step together through :class:`~twostep.interfaces.envs.TwoStepVectorEnv`;
    the LSTM state starts at zero in each episode (``episode_start``) and is carried from
    trial to trial; choices are sampled (``deterministic=False``), after
    ``torch.manual_seed(seed)``, so the table is a function of the weights and the seeds.
    """
    torch.manual_seed(seed)
    envs, recorder = TwoStepVectorEnv(episodes, ENV_CONFIG), TrialRecorder(seed=seed)
    observations, _ = envs.reset(seed=test_seed)
    state, episode_start = None, np.ones(episodes, dtype=bool)
    terminated = np.zeros(episodes, dtype=bool)
    while not terminated.all():
        choices, state = agent.predict(observations, state=state, episode_start=episode_start,
                                       deterministic=False)
        episode_start[:] = False
        observations, _, terminated, _, info = envs.step(choices)
        recorder.record(info)
    return recorder.frame()


def shipped_trials() -> pd.DataFrame:
    """The shipped test trials (:data:`SHIPPED_TRIALS`)."""
    return pd.read_csv(SHIPPED_TRIALS)


def shipped_provenance() -> dict:
    """How the shipped trials were made (:data:`SHIPPED_PROVENANCE`)."""
    return json.loads(SHIPPED_PROVENANCE.read_text())
