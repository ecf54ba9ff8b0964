"""One episode of a two-step task as a :class:`gymnasium.Env`.

Spaces (``obs`` = the task's ``observation_size``: 6, or ``7 + context_bits`` on the
episodic task)::

    observation_space = Box(0, 1, (obs,), float32)   exactly the package's input:
        [previous state one-hot (2), previous choice one-hot (2), previous reward (1),
         t / trials (1)] (+ [cued flag (1), cue context bits (context_bits)])
    action_space      = Discrete(2)                  the first-stage choice

``step`` returns the trial's reward (0.0 or 1.0) and an ``info`` with the trial
table's columns as Python ints: ``trial``, ``choice``, ``state``, ``common``,
``reward``, ``good_state`` and, on the episodic task, ``cued`` and ``cue_trial``.

Seeding: ``reset(seed=s)`` plays the episodes of
``task.reset((1,), torch.Generator().manual_seed(s))``, and every later ``reset()``
the next episode from the same generator, so a seeded run is the same trials as the
package's task driven directly. A first ``reset()`` without a seed draws the
generator's seed from Gymnasium's ``np_random``.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium
import numpy as np
import torch
from gymnasium import spaces

from twostep.core.config import TaskConfig, load_experiment
from twostep.core.tasks import TwoStepTask, make_task
from twostep.errors import TwostepError

ConfigLike = TaskConfig | str | Path


def task_config(config: ConfigLike) -> TaskConfig:
    """A :class:`TaskConfig` as given, or the task of a bundled experiment or YAML file."""
    if isinstance(config, TaskConfig):
        return config
    return load_experiment(config).task


def observation_space(task: TwoStepTask) -> spaces.Box:
    """Every input column is a one-hot, a 0/1 flag, a 0/1 reward or ``t / trials``."""
    return spaces.Box(0.0, 1.0, (task.observation_size,), np.float32)


def seed_from(rng: np.random.Generator) -> int:
    """A torch seed drawn from Gymnasium's ``np_random`` (for unseeded resets)."""
    return int(rng.integers(0, 2**63 - 1))


class TwoStepEnv(gymnasium.Env):
    """The two-step task (or its episodic variant) for one agent, one trial per step."""

    metadata = {"render_modes": []}

    def __init__(self, config: ConfigLike = "wang2018", render_mode: str | None = None):
        self.config = task_config(config)
        self.task = make_task(self.config)
        self.episodic = self.config.kind == "episodic-two-step"
        self.observation_space = observation_space(self.task)
        self.action_space = spaces.Discrete(self.task.n_actions)
        self.render_mode = render_mode
        self._generator: torch.Generator | None = None
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._generator = torch.Generator().manual_seed(seed)
        elif self._generator is None:
            self._generator = torch.Generator().manual_seed(seed_from(self.np_random))
        observation = self.task.reset((1,), self._generator)
        self._started = True
        return observation[0].numpy().copy(), {}

    def step(self, action):
        if not self._started:
            raise TwostepError("call reset() before step()")
        if not self.action_space.contains(action):
            raise TwostepError(f"action must be 0 or 1, got {action!r}")
        outcome, observation = self.task.step(torch.tensor([int(action)]))
        info = {"trial": self.task.trial - 1}
        info.update({name: int(value[0]) for name, value in outcome.columns().items()})
        terminated = self.task.trial >= self.task.trials
        return observation[0].numpy().copy(), float(outcome.reward[0]), terminated, False, info
