"""The weight a memory read gives the recalled trial: 1 for exact 1-NN on unique contexts,
a share that grows as the k-NN softmax cools, and nothing on uncued trials."""

from __future__ import annotations

import torch

from twostep.core.config import load_experiment
from twostep.core.recall import weight_on_recalled_trial
from twostep.core.tasks import EpisodicTwoStepTask


def _task(episodes: int = 64) -> EpisodicTwoStepTask:
    task = EpisodicTwoStepTask(load_experiment("ritter2018-episodic").task)
    task.reset((2, episodes), [torch.Generator().manual_seed(s) for s in (0, 1)])
    return task


def test_exact_nearest_neighbour_recalls_the_right_trial_whole_on_every_cued_trial():
    task = _task()
    weight = weight_on_recalled_trial(task, "1nn")
    assert weight.shape == (2, 64, task.trials)
    assert torch.isnan(weight[..., :task.uncued_trials]).all()
    assert torch.equal(weight[..., task.uncued_trials:], torch.ones(2, 64, task.trials - task.uncued_trials))


def test_a_softer_kernel_gives_the_right_trial_less_of_the_read():
    task = _task()
    cued = slice(task.uncued_trials, None)
    shares = [weight_on_recalled_trial(task, "knn", k=5, temperature=tau)[..., cued].mean().item()
              for tau in (0.05, 0.25, 0.5)]
    assert 1 >= shares[0] > shares[1] > shares[2] >= 0.2  # 0.2: a uniform blend of five
