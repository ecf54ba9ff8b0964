"""Shared fixtures: tiny experiments that train in a second or two."""

import pytest
import torch

from twostep.config import load_experiment

torch.set_num_threads(1)


@pytest.fixture
def tiny_wang():
    """The wang2018 experiment shrunk to 2 seeds x 6 updates of 4 episodes."""
    return load_experiment("wang2018").with_overrides(
        seeds=2, episodes=24, batch_size=4, checkpoint_every=2, eval_episodes=5)
