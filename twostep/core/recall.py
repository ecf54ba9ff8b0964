"""How much of the right memory a read brings back on the episodic task's cued trials.

On a cued trial the cue queries the episodic memory (:class:`twostep.core.memory.DND`), and
the read returns one stored cell state (1-NN) or a blend of the nearest (k-NN). The share of
the read that comes from the recalled trial's own entry depends on the contexts alone, not
on the network: storing as the value of entry ``i`` the one-hot vector ``e_i`` makes a read
return its weights themselves. The writes and reads follow the task's schedule
(``write_key``, ``read_key``), as :func:`twostep.core.rollout.play` does.
"""

from __future__ import annotations

import torch

from twostep.core.memory import DND
from twostep.core.tasks import EpisodicTwoStepTask


def weight_on_recalled_trial(task: EpisodicTwoStepTask, retrieval: str, k: int = 5,
                             temperature: float = 1.0) -> torch.Tensor:
    """The weight a read gives the recalled trial's entry on every cued trial of ``task``'s
    current episodes: ``[*batch, trials]`` on the CPU, NaN on uncued trials.

    Args:
        task: an episodic task after ``reset`` (its contexts and cues are drawn then).
        retrieval: ``"1nn"`` or ``"knn"``, as in the experiments' ``model.retrieval``.
        k, temperature: the k-NN read's neighbours and softmax temperature.
    """
    batch = tuple(task.batch_shape)
    uncued = task.uncued_trials
    memory = DND(batch, capacity=uncued, key_size=task.context_bits, value_size=uncued,
                 retrieval=retrieval, k=k, temperature=temperature, device=task.device)
    one_hot = torch.eye(uncued, device=task.device)
    weight = torch.full((*batch, task.trials), float("nan"), device=task.device)
    for t in range(task.trials):
        query = task.read_key(t)                      # the cue, on cued trials
        if query is not None:
            weights = memory.read(query).value        # [*batch, uncued]: the read's weights
            weight[..., t] = weights.gather(-1, task.cue_trials[..., t, None])[..., 0]
        key = task.write_key(t)                       # trial t-1's context, at step t
        if key is not None:
            memory.write(key, one_hot[t - 1].expand(*batch, uncued))
    return weight.cpu()
