"""Shared fixtures: tiny experiments that train in a second or two."""

import os

# One BLAS thread: the statistics fits are small, and extra threads stall on shared cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from twostep.core.config import load_experiment  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def tiny_wang():
    """The wang2018 experiment shrunk to 2 seeds x 6 updates of 4 episodes."""
    return load_experiment("wang2018").with_changes(train=dict(
        seeds=2, episodes=24, batch_size=4, checkpoint_every=2, eval_episodes=5))
