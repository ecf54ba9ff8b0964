"""The two-step task (Daw et al. 2011) as used by Wang et al. 2018, batched.

One trial: the agent makes a first-stage choice ``a`` in {0, 1}; choice ``k`` leads
to second-stage state ``k`` with probability ``common_prob`` (a *common* transition)
and to the other state otherwise (*uncommon*). One second-stage state is *good*:
it pays reward 1 with probability ``reward_prob_good``, the other with
``reward_prob_bad``. At the start of every trial the good state swaps with
probability ``reversal_prob``; each episode starts with a fresh random good state.

Every episode of the batch advances together: state is a set of tensors of shape
``[*batch]``. All randomness of an episode is drawn once, at :meth:`TwoStepTask.reset`,
from the caller's :class:`torch.Generator` (one per leading batch row when given
a list, so that seed ``s`` of a multi-seed run sees the same task whether it is
trained alone or with others). Draws happen on the CPU, so a run's episodes are
the same on every device. Since every draw is made up front, the task works out what
each of the two choices would lead to on every trial (the state reached and its
reward) when the first trial is played; :meth:`TwoStepTask.step` then only
looks the chosen one up, a few tensor
operations per trial, which matters when a network plays millions of trials.

The agent sees, before trial ``t``: the second-stage state reached on trial
``t-1`` (one-hot), its choice on ``t-1`` (one-hot), the reward of ``t-1`` and the
trial index ``t / trials`` (zeros before the first trial). Wang et al. also fed
the current observation through a separate first-stage step; one network step per
trial carries the same information and halves the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from twostep.core.config import TaskConfig
from twostep.core.seeding import GeneratorLike, draw_uniform
from twostep.errors import TwostepError


@dataclass
class TrialOutcome:
    """What happened on one trial of every episode in the batch; each field ``[*batch]``."""

    choice: torch.Tensor
    state: torch.Tensor
    common: torch.Tensor
    reward: torch.Tensor
    good_state: torch.Tensor

    def columns(self) -> dict[str, torch.Tensor]:
        """Every field, by name, in the order of the trial table's columns."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class TwoStepTask:
    """B episodes of the two-step task, stepped together.

    >>> task = TwoStepTask(TaskConfig())
    >>> obs = task.reset((4,), torch.Generator().manual_seed(0))
    >>> outcome, obs = task.step(torch.zeros(4, dtype=torch.long))
    """

    n_actions = 2
    n_states = 2

    def __init__(self, config: TaskConfig, device: torch.device | str = "cpu"):
        self.config = config
        self.device = torch.device(device)
        self.trials = config.trials
        self.trial = 0

    @property
    def observation_size(self) -> int:
        """Width of the agent's input: previous state, previous choice, previous reward, time."""
        return self.n_states + self.n_actions + 2

    # ------------------------------------------------------------------ episode
    def reset(self, batch_shape: Sequence[int], generator: GeneratorLike) -> torch.Tensor:
        """Start a fresh batch of episodes and return the first observation ``[*batch, obs]``."""
        self.batch_shape = tuple(batch_shape)
        noise = draw_uniform(generator, self.batch_shape, self.trials, 3).to(self.device)
        self._draw_extra(generator)
        self._transition_noise = noise[..., 1]
        self._reward_noise = noise[..., 2]
        self.good_state = self._good_state_sequence(noise[..., 0])
        self.trial = 0
        return self._observation(None)

    def _tabulate_outcomes(self) -> None:
        """What each choice ``k`` would lead to on every trial, ``[*batch, trials, 2]``:
        the state reached (``k`` on a common transition, else ``1 - k``) and a fresh
        reward there (1.0 when the trial's reward draw is below that state's reward
        probability). Built when the first trial is played, from the draws as they are
        then (:attr:`transition_uniform` and :attr:`reward_uniform` may be edited in place
        after :meth:`reset`, e.g. to set up a test)."""
        common = self._transition_noise < self.config.common_prob
        self._common = common.long()
        choices = torch.arange(self.n_actions, device=self.device)
        self._state_if = torch.where(common.unsqueeze(-1), choices, 1 - choices)
        p_reward = torch.where(self._state_if == self.good_state.unsqueeze(-1),
                               self.config.reward_prob_good, self.config.reward_prob_bad)
        self._reward_if = (self._reward_noise.unsqueeze(-1) < p_reward).float()

    @property
    def transition_uniform(self) -> torch.Tensor:
        """``[*batch, trials]``: the uniform draw each trial's transition compares with
        ``common_prob`` (common when below it)."""
        return self._transition_noise

    @property
    def reward_uniform(self) -> torch.Tensor:
        """``[*batch, trials]``: the uniform draw each trial's reward compares with the
        reached state's reward probability (rewarded when below it)."""
        return self._reward_noise

    def _draw_extra(self, generator: GeneratorLike) -> None:
        """Hook for subclasses that need more per-episode randomness."""

    def _good_state_sequence(self, uniform: torch.Tensor) -> torch.Tensor:
        """``[*batch, trials]`` good state of every trial, from one uniform per trial.

        Trial 0's draw picks the initial good state; each later draw below
        ``reversal_prob`` swaps it, so the good state is the parity of the swaps so far.
        """
        initial = (uniform[..., :1] < 0.5).long()
        swaps = (uniform[..., 1:] < self.config.reversal_prob).long()
        parity = torch.cumsum(torch.cat([initial, swaps], dim=-1), dim=-1) % 2
        return parity

    def step(self, choice: torch.Tensor) -> tuple[TrialOutcome, torch.Tensor]:
        """Play one trial: ``choice`` ``[*batch]`` (0 or 1) -> outcome, next observation."""
        if self.trial >= self.trials:
            raise TwostepError("the episode is over: call reset()")
        t = self.trial
        if t == 0:
            self._tabulate_outcomes()
        choice = choice.to(self.device).long()
        chosen = choice.unsqueeze(-1)
        state = self._state_if[..., t, :].gather(-1, chosen).squeeze(-1)
        reward = self._reward(state, chosen, t)
        outcome = TrialOutcome(choice=choice, state=state, common=self._common[..., t],
                               reward=reward, good_state=self.good_state[..., t])
        self.trial += 1
        return outcome, self._observation(outcome)

    def _reward(self, state: torch.Tensor, chosen: torch.Tensor, t: int) -> torch.Tensor:
        """Fresh reward draw at the state reached: 1.0 with its reward probability, else
        0.0 (tabulated at reset; ``chosen``: the choice, ``[*batch, 1]``)."""
        return self._reward_if[..., t, :].gather(-1, chosen).squeeze(-1)

    def _observation(self, previous: TrialOutcome | None) -> torch.Tensor:
        """Input before trial ``self.trial``, ``[*batch, observation_size]``: a row of
        :meth:`_input_table` picked by the previous trial's (state, choice, reward), then
        the time column."""
        if previous is None:
            obs = torch.zeros(*self.batch_shape, self.observation_size, device=self.device)
        else:
            row = (previous.state * 2 + previous.choice) * 2 + previous.reward.long()
            obs = self._input_table()[row]
        obs[..., 5] = self.trial / self.trials
        return obs

    def _input_table(self) -> torch.Tensor:
        """``[8, observation_size]``: row ``4 s + 2 c + r`` is the input after a trial that
        reached state ``s`` by choice ``c`` with reward ``r`` (one-hot state, one-hot
        choice, reward; every other column 0)."""
        table = getattr(self, "_inputs", None)
        if table is None or table.shape[-1] != self.observation_size:
            row = torch.arange(8)
            table = torch.zeros(8, self.observation_size)
            table[row, row // 4] = 1.0
            table[row, 2 + (row // 2) % 2] = 1.0
            table[:, 4] = (row % 2).float()
            self._inputs = table = table.to(self.device)
        return table

    # ------------------------------------------------------------------ memory schedule
    # Network step ``t`` takes in trial ``t-1``'s outcome and chooses on trial ``t``.
    memory_capacity = 0
    """Most entries an episode writes to episodic memory (none on this task)."""

    key_size = 0
    """Width of a memory key (none on this task)."""

    def read_key(self, step: int) -> torch.Tensor | None:
        """``[*batch, key_size]``: the query to read memory with before step ``step``, or None."""
        return None

    def write_key(self, step: int) -> torch.Tensor | None:
        """``[*batch, key_size]``: the key under which step ``step``'s cell state is stored,
        or None when that step writes nothing."""
        return None

