r"""Play one batch of episodes with the recurrent actor-critic, and the A2C loss.

One network step per trial. On the episodic task the DND (:mod:`twostep.core.memory`)
stores, for every uncued trial ``k``, key = that trial's context and value = the
cell state after trial ``k``'s outcome has been input (computed at step ``k+1``,
before any reinstatement), so memory holds what happened, not only what was about
to be chosen. On cued trials the cue's context queries memory, and the epLSTM
reinstates the retrieved cell state through its gate.

A2C (Mnih et al. 2016), for trials :math:`t = 0..T-1` of one episode with
rewards :math:`r_t`, values :math:`V_t` and no bootstrap past the last trial::

    R_t = r_t + γ R_{t+1},   R_T = 0                    discounted return
    A_t = R_t - V_t                                     advantage (held constant)
    L   = Σ_t [ -log π(a_t) A_t + β_v ½ (R_t - V_t)² - β_e H(π_t) ]

averaged over the batch and summed over seeds (each seed has its own weights,
so the sum keeps their gradients apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from twostep.core.build import build_memory
from twostep.core.config import ExperimentConfig
from twostep.core.models import RecurrentActorCritic, sample_actions
from twostep.core.seeding import draw_uniform
from twostep.core.tasks import TrialOutcome, TwoStepTask
from twostep.errors import TwostepError


@dataclass
class Rollout:
    """One batch of episodes. Tensors are ``[S, B, T]``; outcomes one per trial.

    ``observation``, ``hidden``, ``reinstatement_gate`` and ``retrieved_trial`` are
    recorded only when asked (``record_internals``): the network's input before each
    trial ``[S, B, T, obs]``; hidden ``[S, B, T, H]``; gate activity (mean over units)
    ``[S, B, T]``; the uncued trial whose memory was read ``[S, B, T]`` (-1 where
    nothing was read).
    """

    log_prob: torch.Tensor
    entropy: torch.Tensor
    value: torch.Tensor
    reward: torch.Tensor
    outcomes: list[TrialOutcome]
    internals: dict[str, torch.Tensor] = field(default_factory=dict)


def play(model: RecurrentActorCritic, task: TwoStepTask, config: ExperimentConfig,
         generators: list[torch.Generator], batch_size: int,
         record_internals: bool = False) -> Rollout:
    """Run ``batch_size`` episodes per seed; keep the graph if grad is enabled.

    The task says which key to read memory with before each step and which key to
    store each step's cell state under (:meth:`~twostep.core.tasks.TwoStepTask.read_key`,
    :meth:`~twostep.core.tasks.TwoStepTask.write_key`); this loop only follows it.
    """
    S, B, T = model.n_seeds, batch_size, task.trials
    device = model.weight.device
    observation = task.reset((S, B), generators)
    if observation.shape[-1] != model.input_size:
        raise TwostepError(f"the task's observation is {observation.shape[-1]} wide, "
                           f"the network takes {model.input_size}")
    action_noise = draw_uniform(generators, (S, B), T).to(device)
    hidden, cell = model.initial_state(B)
    memory = build_memory(config, task, (S, B), model.hidden_size, device)

    log_probs, entropies, values, rewards, outcomes = [], [], [], [], []
    observations, hiddens, gates, retrieved = [], [], [], []
    for t in range(T):
        if record_internals:
            observations.append(observation)
        reinstated = None
        read_index = None
        query = task.read_key(t) if memory is not None else None
        if query is not None:
            retrieval_result = memory.read(query)
            reinstated = retrieval_result.value
            read_index = retrieval_result.index
        step = model.cell_step(observation, hidden, cell, reinstated)
        hidden, cell = step.hidden, step.cell
        key = task.write_key(t) if memory is not None else None
        if key is not None:
            memory.write(key, step.cell_before_reinstatement)
        logits, value = model.heads(hidden)
        choice = sample_actions(logits.detach(), action_noise[..., t])
        log_pi = torch.log_softmax(logits, dim=-1)
        log_probs.append(log_pi.gather(-1, choice.unsqueeze(-1)).squeeze(-1))
        entropies.append(-(log_pi.exp() * log_pi).sum(-1))
        values.append(value)
        outcome, observation = task.step(choice)
        rewards.append(outcome.reward)
        outcomes.append(outcome)
        if record_internals:
            hiddens.append(hidden.detach())
            if step.reinstatement_gate is not None:
                gates.append(step.reinstatement_gate.detach().mean(-1))
            retrieved.append(read_index if read_index is not None
                             else torch.full((S, B), -1, dtype=torch.long, device=device))

    internals = {}
    if record_internals:
        internals["observation"] = torch.stack(observations, dim=2)
        internals["hidden"] = torch.stack(hiddens, dim=2)
        internals["retrieved_trial"] = torch.stack(retrieved, dim=-1)
        if gates:
            internals["reinstatement_gate"] = torch.stack(gates, dim=-1)
    return Rollout(torch.stack(log_probs, -1), torch.stack(entropies, -1), torch.stack(values, -1),
                   torch.stack(rewards, -1), outcomes, internals)


def discounted_returns(reward: torch.Tensor, gamma: float) -> torch.Tensor:
    """:math:`R_t = r_t + γ R_{t+1}`, :math:`R_T = 0`, along the last dimension.

    The recursion, one step per trial: every row is computed on its own, so a seed's
    returns (and gradients) do not depend on which other seeds share the batch (one
    matrix product over all rows rounds differently with the number of rows).
    """
    returns = torch.empty_like(reward)
    running = torch.zeros_like(reward[..., 0])
    for t in range(reward.shape[-1] - 1, -1, -1):
        running = torch.add(reward[..., t], running, alpha=gamma, out=returns[..., t])
    return returns


@dataclass
class Losses:
    """Per-seed loss terms ``[S]`` (summed over trials, averaged over episodes)."""

    total: torch.Tensor
    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor


def a2c_loss(rollout: Rollout, config: ExperimentConfig) -> Losses:
    train = config.train
    returns = discounted_returns(rollout.reward, train.gamma)
    advantage = (returns - rollout.value).detach()
    policy = -(rollout.log_prob * advantage).sum(-1).mean(-1)
    value = (0.5 * (returns - rollout.value) ** 2).sum(-1).mean(-1)
    entropy = rollout.entropy.sum(-1).mean(-1)
    total = policy + train.value_weight * value - train.entropy_weight * entropy
    return Losses(total, policy, value, entropy)
