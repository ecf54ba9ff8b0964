"""Many episodes of a two-step task as one :class:`gymnasium.vector.VectorEnv`.

The ``num_envs`` sub-environments are the batch of the package's task: one ``step``
plays one trial of every episode as one tensor operation, exactly as training does.
Spaces are :class:`~twostep.interfaces.envs.single.TwoStepEnv`'s, batched:
``observation_space`` ``Box(0, 1, (num_envs, obs), float32)``, ``action_space``
``MultiDiscrete([2] * num_envs)``; rewards, ``terminated`` and ``truncated`` are
``[num_envs]`` arrays. ``info`` holds the trial table's columns as ``[num_envs]``
int arrays, each with Gymnasium's ``_name`` mask (all true on a trial step; the masks
of one step are one shared array).

Autoreset (``metadata["autoreset_mode"]``): *next step*, Gymnasium's default. Every
episode has ``trials`` trials, so all sub-environments terminate on the same step;
the ``step`` after that ignores its actions, starts the next episodes and returns
their first observations with reward 0, ``terminated`` false and an empty ``info``.

Seeding: ``reset(seed=s)`` plays the episodes of
``task.reset((num_envs,), torch.Generator().manual_seed(s))``, the package's batched
task driven directly (with ``num_envs=1``, the same trials as ``TwoStepEnv``
reset with ``s``); later resets and autoresets draw the next episodes from that
generator. ``reset(seed=[s0, s1, ...])`` gives each sub-environment its own
generator instead, so sub-environment ``i`` plays the trials of ``TwoStepEnv``
reset with ``seeds[i]``, whatever the others do (at a cost: one draw per
sub-environment at every reset).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from twostep.core.seeding import generators
from twostep.core.tasks import make_task
from twostep.errors import TwostepError
from twostep.interfaces.envs.single import ConfigLike, observation_space, seed_from, task_config
from twostep.trials.columns import EPISODIC_COLUMNS, TRIAL_COLUMNS


class TwoStepVectorEnv(VectorEnv):
    """``num_envs`` episodes of the two-step task (or its episodic variant), stepped together."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, config: ConfigLike = "wang2018",
                 render_mode: str | None = None):
        if num_envs < 1:
            raise TwostepError(f"num_envs must be positive, got {num_envs}")
        self.num_envs = num_envs
        self.config = task_config(config)
        self.task = make_task(self.config)
        self.episodic = self.config.kind == "episodic-two-step"
        self.single_observation_space = observation_space(self.task)
        self.single_action_space = spaces.Discrete(self.task.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = render_mode
        self._generator: torch.Generator | list[torch.Generator] | None = None
        self._started = False
        self._autoreset = False
        # the trial table's columns, "trial" first (as in twostep.trials)
        self._columns = [c for c in TRIAL_COLUMNS if c not in ("seed", "episode")]
        self._columns += EPISODIC_COLUMNS if self.episodic else []

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict | None = None):
        if seed is None:
            super().reset()
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(seed_from(self.np_random))
        elif isinstance(seed, int):
            super().reset(seed=seed)
            self._generator = torch.Generator().manual_seed(seed)
        else:
            if len(seed) != self.num_envs:
                raise TwostepError(f"{len(seed)} seeds for {self.num_envs} environments")
            super().reset(seed=int(seed[0]))
            self._generator = generators([int(s) for s in seed], stream=0)
        observation = self.task.reset((self.num_envs,), self._generator)
        self._started, self._autoreset = True, False
        return observation.numpy(), {}

    def step(self, actions):
        if not self._started:
            raise TwostepError("call reset() before step()")
        if self._autoreset:
            observation = self.task.reset((self.num_envs,), self._generator)
            self._autoreset = False
            no = np.zeros(self.num_envs, dtype=bool)
            return observation.numpy(), np.zeros(self.num_envs), no, no.copy(), {}
        choice = np.asarray(actions).astype(np.int64)  # a copy: the caller keeps its array
        if choice.shape != (self.num_envs,) or (choice >> 1).any():
            raise TwostepError(f"actions must be {self.num_envs} choices of 0 or 1")
        outcome, observation = self.task.step(torch.from_numpy(choice))
        # Fresh arrays (the task keeps its own tensors), converted by NumPy: cheaper than torch ops.
        table = np.empty((len(self._columns), self.num_envs), dtype=np.int64)
        table[0] = self.task.trial - 1
        present = np.ones(self.num_envs, dtype=bool)
        info = {"trial": table[0], "_trial": present}
        for row, name in enumerate(self._columns[1:], start=1):
            table[row] = getattr(outcome, name).numpy()
            info[name], info[f"_{name}"] = table[row], present
        self._autoreset = self.task.trial >= self.task.trials
        terminated = np.full(self.num_envs, self._autoreset)
        reward = outcome.reward.numpy().astype(np.float64)
        return observation.numpy(), reward, terminated, np.zeros(self.num_envs, bool), info
