"""From a config to the objects that run it: the task, the networks and the memory.

The one place that reads :class:`~twostep.core.config.ExperimentConfig` to choose and
size the task (:mod:`twostep.core.tasks`), the recurrent actor-critic
(:mod:`twostep.core.models`) and the DND (:mod:`twostep.core.memory`), which know nothing
of each other; :mod:`twostep.core.rollout` plays them together.
"""

from __future__ import annotations

import torch

from twostep.core.config import ExperimentConfig
from twostep.core.memory import DND
from twostep.core.models import RecurrentActorCritic
from twostep.core.tasks import TwoStepTask, make_task


def task_for(config: ExperimentConfig, device: torch.device | str = "cpu") -> TwoStepTask:
    """The experiment's task, showing the cue's context bits only if ``model.cue_input``."""
    return make_task(config.task, device, show_cue=config.model.cue_input)


def build_model(config: ExperimentConfig, task: TwoStepTask, seeds: list[int]) -> RecurrentActorCritic:
    """The experiment's networks, one per seed, sized for ``task``'s observation."""
    return RecurrentActorCritic(
        input_size=task.observation_size,
        hidden_size=config.model.hidden_size,
        n_actions=task.n_actions,
        seeds=seeds,
        reinstatement=config.model.cell == "eplstm",
    )


def build_memory(config: ExperimentConfig, task: TwoStepTask, batch_shape: tuple[int, ...],
                 value_size: int, device: torch.device | str = "cpu") -> DND | None:
    """One empty DND per episode when the task has a memory schedule and the model
    retrieves; else None."""
    if task.memory_capacity == 0 or config.model.retrieval == "off":
        return None
    return DND(batch_shape, capacity=task.memory_capacity, key_size=task.key_size,
               value_size=value_size, retrieval=config.model.retrieval, k=config.model.knn_k,
               temperature=config.model.knn_temperature, device=device,
               detach_values=config.model.detach_stored_values)
