r"""The hybrid model of Daw et al. (2011) on the two-step task: one set of equations, two uses.

The reference agents (:mod:`twostep.core.agents`) *simulate* with these functions, one
trial at a time; :func:`trial_logits` *scores* recorded choices with the same functions,
replaying the values over every episode of every subject at once; the fits
(:mod:`twostep.core.fit`) maximise that likelihood.

**Adapted to this task.** Each trial has one choice :math:`c_t \in \{0, 1\}`; the second
stage is a state :math:`s_t` with a reward :math:`r_t` and no choice, so the
second-stage values are one per state, :math:`Q_2(s)`. Daw et al. had a learning rate
and an inverse temperature per stage; with no second-stage choice, one of each is left.

**Model-free values**, SARSA(:math:`\lambda`) over the two stages. After trial :math:`t`,

.. math::
    \delta_1 = Q_2(s_t) - Q_{MF}(c_t), \qquad \delta_2 = r_t - Q_2(s_t),

    Q_{MF}(c_t) \leftarrow Q_{MF}(c_t) + \alpha(\delta_1 + \lambda \delta_2), \qquad
    Q_2(s_t) \leftarrow Q_2(s_t) + \alpha \delta_2 .

With :math:`\lambda = 1`, :math:`Q_{MF}(c)` simply tracks the rewards that followed
:math:`c`, whatever the transition.

**Model-based values** plan one step ahead with the transition matrix,
:math:`Q_{MB}(a) = \sum_s P(s \mid a)\, Q_2(s)`: the task's true one
(:math:`P(s = a \mid a) = p_{common}`, as Daw et al. assumed their subjects knew it) or,
learned, the episode's transition counts so far plus one pseudo-count per cell (a
uniform Beta(1, 1) prior).

**Choice.** A softmax over the two actions of the mixed values
:math:`Q = w\, Q_{MB} + (1 - w)\, Q_{MF}`, with perseveration :math:`\kappa` (Daw's
:math:`p`) for repeating the previous choice,

.. math::
    P(c_t = 1) = \sigma\big(\beta [Q(1) - Q(0)] + \kappa\, (2 c_{t-1} - 1)\big),

with no perseveration term on an episode's first trial. Values start at 0.5 every
episode. :math:`\alpha, \lambda, w \in [0, 1]`, :math:`\beta \ge 0`, :math:`\kappa` real.

Values are indexed by action (or state) *first*, ``[2, *batch]``, so each action's
values are one contiguous block; parameters are numbers or tensors broadcasting with
``[*batch]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

PARAMETERS: tuple[str, ...] = ("alpha", "lam", "beta", "perseveration", "w")
"""The parameters, in the order of the last dimension of a parameter tensor, named as
:class:`~twostep.core.agents.HybridAgent` takes them."""

INITIAL_VALUE = 0.5
"""Every value at the start of an episode."""


def initial_values(batch_shape: tuple[int, ...], dtype: torch.dtype = torch.float64,
                   device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """:math:`Q_{MF}` and :math:`Q_2` at an episode's start, each ``[2, *batch]``."""
    full = torch.full((2, *batch_shape), INITIAL_VALUE, dtype=dtype, device=device)
    return full, full.clone()


def sarsa_lambda_update(q_model_free: torch.Tensor, q_stage2: torch.Tensor,
                        choice: torch.Tensor, state: torch.Tensor, reward: torch.Tensor,
                        alpha, lam) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One trial's SARSA(:math:`\lambda`) update; returns new tensors (nothing in place).

    Args:
        q_model_free, q_stage2: :math:`Q_{MF}`, :math:`Q_2` before the trial, ``[2, *batch]``.
        choice, state: one-hot :math:`c_t`, :math:`s_t`, ``[2, *batch]`` (float).
        reward: :math:`r_t`, ``[*batch]``.
    """
    q_chosen = (q_model_free * choice).sum(0)
    q_reached = (q_stage2 * state).sum(0)
    stage1_error = q_reached - q_chosen  # delta_1
    stage2_error = reward - q_reached  # delta_2
    q_model_free = q_model_free + choice * (alpha * (stage1_error + lam * stage2_error))
    q_stage2 = q_stage2 + state * (alpha * stage2_error)
    return q_model_free, q_stage2


def known_transitions(common_prob, dtype: torch.dtype = torch.float64,
                      device: torch.device | str | None = None) -> torch.Tensor:
    """:math:`P(s \\mid a)`, ``[action, state]``: action ``k`` leads to state ``k`` with
    probability ``common_prob``. A tensor ``common_prob`` ``[*batch]`` gives
    ``[action, state, *batch]``."""
    common = torch.as_tensor(common_prob, dtype=dtype, device=device)
    eye = torch.eye(2, dtype=dtype, device=device).view(2, 2, *[1] * common.dim())
    return common * eye + (1 - common) * (1 - eye)


def count_transitions(choice: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """Transitions seen on one trial, ``[action, state, *batch]``, from one-hot ``choice``
    and ``state`` ``[2, *batch]``."""
    return choice.unsqueeze(1) * state.unsqueeze(0)


def learned_transitions(counts: torch.Tensor) -> torch.Tensor:
    """:math:`P(s \\mid a)` from transition counts ``[action, state, *batch]`` that include
    the one pseudo-count per cell."""
    return counts / counts.sum(1, keepdim=True)


def model_based_values(transitions: torch.Tensor, q_stage2: torch.Tensor) -> torch.Tensor:
    """:math:`Q_{MB}(a) = \\sum_s P(s \\mid a)\\, Q_2(s)`, ``[2, *batch]``, from
    ``transitions`` ``[action, state]`` or ``[action, state, *batch]`` and ``q_stage2``
    ``[2, *batch]``."""
    return torch.stack([transitions[a, 0] * q_stage2[0] + transitions[a, 1] * q_stage2[1]
                        for a in range(2)])


def choice_logit(q_model_free: torch.Tensor, q_model_based: torch.Tensor, previous_sign,
                 beta, perseveration, w) -> torch.Tensor:
    """:math:`\\operatorname{logit} P(c_t = 1) = \\beta [Q(1) - Q(0)] + \\kappa (2 c_{t-1} - 1)`
    with :math:`Q = w Q_{MB} + (1 - w) Q_{MF}`, ``[*batch]``.

    Args:
        q_model_free, q_model_based: ``[2, *batch]``.
        previous_sign: :math:`2 c_{t-1} - 1`, ``[*batch]``; 0 on an episode's first trial.
    """
    q1 = w * q_model_based[1] + (1 - w) * q_model_free[1]
    q0 = w * q_model_based[0] + (1 - w) * q_model_free[0]
    return beta * (q1 - q0) + perseveration * previous_sign


@dataclass
class RecordedTrials:
    """Recorded trials of N subjects' E episodes of T trials, time first, as the value
    recursion reads them (:func:`record`).

    ``choice``, ``state``: one-hot ``[T, 2, N, E]``; ``reward``, ``previous_sign``
    (:math:`2 c_{t-1} - 1`, 0 on trial 0) ``[T, N, E]``; ``transitions``: the
    :math:`P(s \\mid a)` the planner uses before each trial, ``[action, state, T, N, E]``
    when learned, ``[action, state, 1, N, 1]`` when known.
    """

    choice: torch.Tensor
    state: torch.Tensor
    reward: torch.Tensor
    previous_sign: torch.Tensor
    transitions: torch.Tensor

    def subjects(self, index: torch.Tensor) -> RecordedTrials:
        """The trials of the subjects ``index`` only."""
        return RecordedTrials(self.choice[:, :, index], self.state[:, :, index],
                              self.reward[:, index], self.previous_sign[:, index],
                              self.transitions[:, :, :, index])


def record(choice: torch.Tensor, state: torch.Tensor, reward: torch.Tensor, common_prob=0.8,
           learn_transitions: bool = False, dtype: torch.dtype = torch.float64
           ) -> RecordedTrials:
    """:class:`RecordedTrials` from 0/1 tensors ``[N, E, T]``; ``common_prob`` a number or
    one per subject ``[N]``."""
    choice = choice.long().permute(2, 0, 1)  # [T, N, E]
    state = state.long().permute(2, 0, 1)
    choice_onehot = torch.stack([1 - choice, choice], dim=1).to(dtype).contiguous()
    state_onehot = torch.stack([1 - state, state], dim=1).to(dtype).contiguous()
    previous_sign = torch.cat([torch.zeros_like(choice[:1]), 2 * choice[:-1] - 1]).to(dtype)
    if learn_transitions:
        counts = count_transitions(choice_onehot.transpose(0, 1), state_onehot.transpose(0, 1))
        before = torch.cumsum(counts, dim=2) - counts + 1  # seen before each trial, + prior
        transitions = learned_transitions(before)
    else:
        N = choice.shape[1]
        common = torch.as_tensor(common_prob, dtype=dtype).expand(N)
        transitions = known_transitions(common, dtype, choice.device).view(2, 2, 1, N, 1)
    return RecordedTrials(choice_onehot, state_onehot,
                          reward.permute(2, 0, 1).to(dtype).contiguous(),
                          previous_sign.contiguous(), transitions)


def replay_values(trials: RecordedTrials, alpha, lam) -> tuple[torch.Tensor, torch.Tensor]:
    """:math:`Q_{MF}` and :math:`Q_2` before every recorded trial, each ``[2, T, N, E]``
    (``alpha``, ``lam``: numbers or ``[N, 1]``). The one loop over trials."""
    T, _, N, E = trials.choice.shape
    q_model_free, q_stage2 = initial_values((N, E), trials.reward.dtype, trials.reward.device)
    free_before, stage2_before = [], []
    for t in range(T):
        free_before.append(q_model_free)
        stage2_before.append(q_stage2)
        q_model_free, q_stage2 = sarsa_lambda_update(
            q_model_free, q_stage2, trials.choice[t], trials.state[t], trials.reward[t],
            alpha, lam)
    return torch.stack(free_before, dim=1), torch.stack(stage2_before, dim=1)


def trial_logits(params: torch.Tensor, trials: RecordedTrials) -> torch.Tensor:
    """:math:`\\operatorname{logit} P(c_t = 1)` before every recorded trial, ``[T, N, E]``.

    ``params``: ``[N, 5]``, each subject's parameters in the order of :data:`PARAMETERS`.
    """
    alpha, lam, beta, perseveration, w = params.unsqueeze(-1).unbind(-2)  # each [N, 1]
    q_model_free, q_stage2 = replay_values(trials, alpha, lam)
    q_model_based = model_based_values(trials.transitions, q_stage2)
    return choice_logit(q_model_free, q_model_based, trials.previous_sign, beta,
                        perseveration, w)


def choice_log_likelihood(params: torch.Tensor, trials: RecordedTrials) -> torch.Tensor:
    """:math:`\\log P(c_t)` of every recorded choice under ``params`` ``[N, 5]``,
    ``[T, N, E]``."""
    sign = (2 * trials.choice[:, 1] - 1)  # +1 for choice 1, -1 for choice 0
    return F.logsigmoid(sign * trial_logits(params, trials))
