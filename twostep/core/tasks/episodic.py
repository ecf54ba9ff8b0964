"""The episodic two-step task (Ritter et al. 2018), batched.

The same trials as :class:`~twostep.core.tasks.two_step.TwoStepTask` (the bundled
experiment uses common 0.9, reward 0.9 / 0.1, reversal 0.1), split in two phases:

* **uncued** trials ``0 .. U-1`` (``U = config.uncued_trials``, 50 of 100): each
  trial ``t`` is tagged with a random binary *context* ``c_t`` of ``context_bits``
  bits. The agent sees a null cue (all zeros), and stores the context with what
  happened on that trial (the key of its episodic memory).
* **cued** trials ``U .. T-1``: trial ``t`` shows the context of one earlier uncued
  trial ``k_t`` as its cue. The first half of the cued phase cues the first half
  of the uncued phase (trials 50–74 cue trials 0–24), the second half the second
  (75–99 cue 25–49). By default (``cue_sampling="once"``, our choice) each trial
  of a half is cued exactly once, in a random order; the public reference
  implementation draws cues with replacement (a trial may be cued twice or never),
  which ``cue_sampling="replacement"`` reproduces.

Reinstatement rule on a cued trial ``t`` recalling trial ``k = k_t``, where
``s_t`` is the second-stage state reached and ``r_t`` the reward::

    r_t = r_k                      if s_t == s_k   (the past reward, exactly)
    r_t ~ Bernoulli(p(s_t, good_t)) otherwise        (a fresh draw, as on any trial)

so the cue tells an agent with episodic memory which first-stage choice paid off
(or did not) the last time this context was seen.

Contexts are distinct within an episode and never all zeros (the null cue, for
which cosine similarity is undefined): the ``U`` contexts are integers drawn
without replacement from ``1 .. 2**context_bits - 1`` (Floyd's algorithm: one
uniform per context, whatever the number of bits) and put in a random order,
then written out as bits (least significant first). All of an episode's
randomness is drawn at :meth:`~TwoStepTask.reset` through :func:`draw_uniform`, so per-seed
streams do not depend on the other seeds of a batch.

Observation before trial ``t`` (``observation_size = 7 + context_bits``)::

    [previous state one-hot (2), previous choice one-hot (2), previous reward (1),
     t / trials (1), cued flag of trial t (1), cue of trial t (context_bits)]

The first six columns are exactly :class:`TwoStepTask`'s; the cue columns are
zeros on uncued trials (and after the last trial).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch

from twostep.core.config import TaskConfig
from twostep.core.seeding import GeneratorLike, draw_uniform
from twostep.core.tasks.two_step import TrialOutcome, TwoStepTask
from twostep.errors import TwostepError


@dataclass
class EpisodicTrialOutcome(TrialOutcome):
    """A trial of the episodic task: :class:`TrialOutcome`'s fields, then ``cued``
    (0/1) and ``cue_trial`` (the uncued trial whose context is the cue, -1 when none),
    each ``[*batch]``."""

    cued: torch.Tensor
    cue_trial: torch.Tensor


def _sample_without_replacement(uniform: torch.Tensor, n_values: int) -> torch.Tensor:
    """Distinct integers from ``1 .. n_values``, one per uniform, in Floyd's order.

    ``uniform``: ``[*batch, k]`` in [0, 1), ``k <= n_values``. Returns ``[*batch, k]``
    long. Floyd's algorithm: for ``j = n-k+1 .. n`` pick ``x`` uniform in ``1 .. j``;
    take ``x`` unless already taken, else take ``j``. Every ``k``-subset is equally
    likely; the order within it is not uniform, so callers shuffle it.
    """
    k = uniform.shape[-1]
    chosen = torch.zeros(uniform.shape, dtype=torch.long)
    for i in range(k):
        j = n_values - k + 1 + i
        pick = 1 + torch.floor(uniform[..., i].double() * j).long().clamp_(max=j - 1)
        taken = (chosen[..., :i] == pick.unsqueeze(-1)).any(dim=-1)
        chosen[..., i] = torch.where(taken, torch.full_like(pick, j), pick)
    return chosen


class EpisodicTwoStepTask(TwoStepTask):
    """B episodes of the episodic two-step task, stepped together.

    After :meth:`reset` (all ``[*batch, ...]``, on ``self.device``):

    * ``contexts``: ``[*batch, uncued_trials, context_bits]`` float 0/1, the context
      of each uncued trial;
    * ``cue_trials``: ``[*batch, trials]`` long, the uncued trial each trial cues
      (-1 on uncued trials);
    * ``cues``: ``[*batch, trials, context_bits]``, the cue shown on each trial;
    * ``choices``, ``states``, ``rewards``: ``[*batch, trials]``, what happened on
      the trials played so far (-1 on trials not yet played).

    >>> task = EpisodicTwoStepTask(TaskConfig(kind="episodic-two-step"))
    >>> obs = task.reset((4,), torch.Generator().manual_seed(0))
    >>> outcome, obs = task.step(torch.zeros(4, dtype=torch.long))
    """

    def __init__(self, config: TaskConfig, device: torch.device | str = "cpu",
                 show_cue: bool = True):
        if config.kind != "episodic-two-step":
            raise TwostepError(f"EpisodicTwoStepTask needs task kind 'episodic-two-step', "
                               f"not '{config.kind}'")
        super().__init__(config, device)
        self.context_bits = config.context_bits
        self.uncued_trials = config.uncued_trials
        self.show_cue = show_cue
        self.memory_capacity = self.uncued_trials
        self.key_size = self.context_bits

    @property
    def observation_size(self) -> int:
        """Vanilla input (6) + cued flag (1) + cue context (``context_bits``, only if
        ``show_cue``: without it the agent sees that a trial is cued, not which context)."""
        return super().observation_size + 1 + (self.context_bits if self.show_cue else 0)

    # ------------------------------------------------------------------ episode
    def _draw_extra(self, generator: GeneratorLike) -> None:
        """Draw the contexts and the cue order of every episode (on the CPU)."""
        n_uncued = self.uncued_trials
        quarter = n_uncued // 2
        uniform = draw_uniform(generator, self.batch_shape, 3, n_uncued)
        values = _sample_without_replacement(uniform[..., 0, :], 2**self.context_bits - 1)
        values = values.gather(-1, torch.argsort(uniform[..., 1, :], dim=-1))
        bits = torch.arange(self.context_bits)
        contexts = ((values.unsqueeze(-1) >> bits) & 1).float()

        # Trials U .. U+q-1 cue 0 .. q-1 and U+q .. T-1 cue q .. U-1: each exactly once in
        # a random order, or (cue_sampling "replacement") each cue drawn uniformly.
        if self.config.cue_sampling == "replacement":
            first = torch.floor(uniform[..., 2, :quarter] * quarter).long().clamp_(max=quarter - 1)
            rest = n_uncued - quarter
            second = quarter + torch.floor(uniform[..., 2, quarter:] * rest).long().clamp_(
                max=rest - 1)
        else:
            first = torch.argsort(uniform[..., 2, :quarter], dim=-1)
            second = quarter + torch.argsort(uniform[..., 2, quarter:], dim=-1)
        uncued = torch.full((*self.batch_shape, n_uncued), -1, dtype=torch.long)
        cue_trials = torch.cat([uncued, first, second], dim=-1)

        cues = torch.zeros(*self.batch_shape, self.trials, self.context_bits)
        recalled = cue_trials[..., n_uncued:, None].expand(*self.batch_shape, -1,
                                                           self.context_bits)
        cues[..., n_uncued:, :] = contexts.gather(-2, recalled)

        self.contexts = contexts.to(self.device)
        self.cue_trials = cue_trials.to(self.device)
        self._cued = (cue_trials >= 0).long().to(self.device)
        self.cues = cues.to(self.device)
        self.choices = torch.full((*self.batch_shape, self.trials), -1, dtype=torch.long,
                                  device=self.device)
        self.states = torch.full_like(self.choices, -1)
        self.rewards = torch.full((*self.batch_shape, self.trials), -1.0, device=self.device)

    def step(self, choice: torch.Tensor) -> tuple[EpisodicTrialOutcome, torch.Tensor]:
        """Play one trial: ``choice`` ``[*batch]`` -> outcome (with ``cued``, ``cue_trial``),
        next observation."""
        t = self.trial
        outcome, observation = super().step(choice)
        self.choices[..., t] = outcome.choice
        self.states[..., t] = outcome.state
        self.rewards[..., t] = outcome.reward
        episodic = EpisodicTrialOutcome(*(getattr(outcome, f.name) for f in fields(outcome)),
                                        cued=self._cued[..., t], cue_trial=self.cue_trials[..., t])
        return episodic, observation

    def _reward(self, state: torch.Tensor, chosen: torch.Tensor, t: int) -> torch.Tensor:
        """Fresh draw on uncued trials; on cued ones the recalled trial's reward when
        the same second-stage state is reached again."""
        fresh = super()._reward(state, chosen, t)
        if t < self.uncued_trials:
            return fresh
        recalled = self.cue_trials[..., t : t + 1]
        same_state = state == self.states.gather(-1, recalled).squeeze(-1)
        return torch.where(same_state, self.rewards.gather(-1, recalled).squeeze(-1), fresh)

    def _observation(self, previous: TrialOutcome | None) -> torch.Tensor:
        """Vanilla columns, then the cued flag and cue of trial ``self.trial``."""
        obs = super()._observation(previous)
        if self.uncued_trials <= self.trial < self.trials:
            obs[..., 6] = 1.0
            if self.show_cue:
                obs[..., 7:] = self.cues[..., self.trial, :]
        return obs

    # ------------------------------------------------------------------ memory schedule
    def read_key(self, step: int) -> torch.Tensor | None:
        """The cue of a cued trial queries memory before the step that chooses on it."""
        return self.cue(step) if self.is_cued(step) else None

    def write_key(self, step: int) -> torch.Tensor | None:
        """Step ``t`` (``1 <= t <= U``) has just taken in uncued trial ``t-1``'s outcome:
        its cell state is stored under trial ``t-1``'s context."""
        return self.context_of(step - 1) if 1 <= step <= self.uncued_trials else None

    # ------------------------------------------------------------------ helpers
    def is_cued(self, trial: int) -> bool:
        """Whether trial ``trial`` is cued (the same for every episode)."""
        self._check_trial(trial)
        return trial >= self.uncued_trials

    def context_of(self, trial: int) -> torch.Tensor:
        """``[*batch, context_bits]``: the context of uncued trial ``trial`` (a memory key)."""
        if self.is_cued(trial):
            raise TwostepError(f"trial {trial} is cued: only uncued trials "
                               f"(0..{self.uncued_trials - 1}) have a context")
        return self.contexts[..., trial, :]

    def cue(self, trial: int) -> torch.Tensor:
        """``[*batch, context_bits]``: the cue shown on trial ``trial`` (zeros if uncued)."""
        self._check_trial(trial)
        return self.cues[..., trial, :]

    def _check_trial(self, trial: int) -> None:
        if not 0 <= trial < self.trials:
            raise TwostepError(f"trial {trial} is outside 0..{self.trials - 1}")


__all__ = ["EpisodicTrialOutcome", "EpisodicTwoStepTask"]
