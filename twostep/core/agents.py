r"""Reference agents that need no training: what model-free, model-based and optimal
behaviour look like on the two-step task, in the same trial tables as trained networks.

Every agent holds the state of a whole batch of episodes, ``[S, B]`` (seeds x
episodes), as tensors, and each trial does three things:

1. :meth:`Agent.choice_probability` gives :math:`P(c_t = 1)`, shape ``[S, B]``;
2. the choice is :math:`c_t = [u_t < P(c_t = 1)]` with :math:`u_t` a uniform draw
   made up front from the seed's generator (:func:`~twostep.core.seeding.draw_uniform`), so a
   run is reproducible and seed ``s`` plays the same way alone or beside others;
3. :meth:`Agent.observe` learns from the trial's :class:`~twostep.core.tasks.TrialOutcome`.

**Daw 2011 agents.** :class:`HybridAgent` is the hybrid model of Daw et al. (2011):
SARSA(:math:`\lambda`) model-free values, one-step model-based planning and their
mixture :math:`Q = w Q_{MB} + (1 - w) Q_{MF}` under a softmax with perseveration. Its
equations live in :mod:`twostep.core.hybrid`, which the fits
(:mod:`twostep.core.fit`) score choices with, so the agent and the likelihood cannot
drift apart. :class:`ModelFreeAgent` is :math:`w = 0`, :class:`ModelBasedAgent`
:math:`w = 1`. Defaults (:math:`\alpha = 0.5`, :math:`\lambda = 1`, :math:`\beta = 5`,
:math:`\kappa = 0`, :math:`w = 0.5`) are chosen so that each signature is plain in a
few thousand episodes, not fitted to anything. Each parameter is one number, or one
per seed (a sequence as long as the seeds), e.g. to simulate known parameters and fit
them back.

:math:`P(s \mid a)` is the task's true transition matrix by default
(``learn_transitions=False``), as Daw et al. assumed their subjects knew it. With
``learn_transitions=True`` it is estimated from the episode's transition counts with
one pseudo-count per cell (a uniform Beta(1, 1) prior).

**Ideal observer.** The exact Bayesian belief :math:`b_t = P(g_t = 1)` that state 1 is
good, from the task's probabilities: the reward :math:`r` in state :math:`s` has
likelihood :math:`p_{good}^r (1 - p_{good})^{1-r}` if :math:`s = g`, else the same with
:math:`p_{bad}`; the transition says nothing about :math:`g`. After the outcome,
:math:`b \leftarrow b\,L_1 / (b L_1 + (1 - b) L_0)`, then the next trial's reversal,
:math:`b \leftarrow b (1 - p_{rev}) + (1 - b) p_{rev}`; :math:`b_0 = 1/2`. It chooses
greedily the action with the larger expected reward
:math:`\sum_s P(s \mid a)\, [P(g = s) p_{good} + P(g \ne s) p_{bad}]`, i.e. the one that
commonly leads to the more probably good state; ties go to the uniform draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch

from twostep.core import hybrid
from twostep.core.config import TaskConfig
from twostep.core.seeding import draw_uniform
from twostep.core.tasks import TrialOutcome, TwoStepTask
from twostep.errors import TwostepError
from twostep.trials.frame import trial_frame

Batch = tuple[int, ...]


class Agent:
    """An agent that needs no training, playing a batch of episodes ``[*batch]``.

    Subclasses set :attr:`name` and implement :meth:`reset`, :meth:`choice_probability`
    and :meth:`observe`. Hyper-parameters are constructor arguments.
    """

    name = "agent"
    """The agent's label in trial tables and figures."""

    def reset(self, batch_shape: Batch, task: TaskConfig) -> None:
        """Start fresh episodes of ``task`` for a batch of shape ``batch_shape``."""
        raise NotImplementedError

    def choice_probability(self) -> torch.Tensor:
        """P(choose action 1) on the coming trial, ``[*batch]``."""
        raise NotImplementedError

    def observe(self, outcome: TrialOutcome) -> None:
        """Learn from one trial's outcome (each field ``[*batch]``)."""


def _check_range(name: str, value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise TwostepError(f"{name} must be in [{low}, {high}], not {value}")
    return float(value)


def _transition_matrix(common_prob: float, batch_shape: Batch) -> torch.Tensor:
    """``[*batch, action, state]`` with P(state k | action k) = common_prob."""
    eye = torch.eye(2, dtype=torch.float64)
    matrix = common_prob * eye + (1 - common_prob) * (1 - eye)
    return matrix.expand(*batch_shape, 2, 2).clone()


def _parameter(name: str, value, low: float, high: float) -> float | torch.Tensor:
    """A number in ``[low, high]``, or one per seed (a sequence or a 1-d tensor), returned
    as a ``[S, 1]`` tensor that broadcasts with a batch ``[S, B]``."""
    if isinstance(value, (int, float)):
        return _check_range(name, value, low, high)
    values = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    for one in values.tolist():
        _check_range(name, one, low, high)
    return values.view(-1, 1)


class RandomAgent(Agent):
    """Chooses each action with probability 1/2: stays with p = 1/2 in every condition."""

    name = "random"

    def reset(self, batch_shape: Batch, task: TaskConfig) -> None:
        self.batch_shape = batch_shape

    def choice_probability(self) -> torch.Tensor:
        return torch.full(self.batch_shape, 0.5, dtype=torch.float64)


class HybridAgent(Agent):
    """Daw 2011's hybrid learner: Q = w Q_MB + (1 - w) Q_MF (:mod:`twostep.core.hybrid`).

    Args:
        alpha: learning rate of both stages.
        lam: eligibility trace: how much the second-stage prediction error also
            updates the first-stage model-free value.
        beta: softmax inverse temperature.
        perseveration: bonus (in logits) for repeating the previous choice.
        w: model-based weight, 0 (model-free) .. 1 (model-based).
        learn_transitions: estimate P(state | action) from counts instead of using
            the task's true probabilities.

    Each of ``alpha`` .. ``w`` is a number, or one value per seed.
    """

    name = "hybrid"

    def __init__(self, alpha=0.5, lam=1.0, beta=5.0, perseveration=0.0, w=0.5,
                 learn_transitions: bool = False):
        self.alpha = _parameter("alpha", alpha, 0.0, 1.0)
        self.lam = _parameter("lam", lam, 0.0, 1.0)
        self.beta = _parameter("beta", beta, 0.0, float("inf"))
        self.perseveration = _parameter("perseveration", perseveration, -float("inf"),
                                        float("inf"))
        self.w = _parameter("w", w, 0.0, 1.0)
        self.learn_transitions = bool(learn_transitions)

    def reset(self, batch_shape: Batch, task: TaskConfig) -> None:
        for name in hybrid.PARAMETERS:
            value = getattr(self, name)
            if isinstance(value, torch.Tensor) and len(value) != batch_shape[0]:
                raise TwostepError(f"{len(value)} values of {name} for {batch_shape[0]} seeds")
        self.q_model_free, self.q_stage2 = hybrid.initial_values(batch_shape)
        self.transition_counts = torch.ones(2, 2, *batch_shape, dtype=torch.float64)
        self.true_transitions = hybrid.known_transitions(task.common_prob)
        self.previous_sign: float | torch.Tensor = 0.0

    def transitions(self) -> torch.Tensor:
        """P(state | action) used for planning, ``[action, state]`` or
        ``[action, state, *batch]``."""
        if self.learn_transitions:
            return hybrid.learned_transitions(self.transition_counts)
        return self.true_transitions

    def q_model_based(self) -> torch.Tensor:
        """One-step plan: Q_MB(a) = sum_s P(s | a) Q_2(s), ``[2, *batch]``."""
        return hybrid.model_based_values(self.transitions(), self.q_stage2)

    def choice_logit(self) -> torch.Tensor:
        """logit P(c_t = 1) on the coming trial, ``[*batch]``."""
        return hybrid.choice_logit(self.q_model_free, self.q_model_based(), self.previous_sign,
                                   self.beta, self.perseveration, self.w)

    def choice_probability(self) -> torch.Tensor:
        return torch.sigmoid(self.choice_logit())

    def observe(self, outcome: TrialOutcome) -> None:
        device = self.q_stage2.device
        choice, state = outcome.choice.to(device).long(), outcome.state.to(device).long()
        chosen = torch.stack([1 - choice, choice]).double()  # one-hot, [2, *batch]
        reached = torch.stack([1 - state, state]).double()
        self.q_model_free, self.q_stage2 = hybrid.sarsa_lambda_update(
            self.q_model_free, self.q_stage2, chosen, reached, outcome.reward.to(device).double(),
            self.alpha, self.lam)
        self.transition_counts = self.transition_counts + hybrid.count_transitions(chosen, reached)
        self.previous_sign = (2 * choice - 1).double()


class ModelFreeAgent(HybridAgent):
    """SARSA(lambda) with a softmax: the hybrid with w = 0 (default lambda = 1)."""

    name = "model-free"

    def __init__(self, alpha: float = 0.5, lam: float = 1.0, beta: float = 5.0,
                 perseveration: float = 0.0):
        super().__init__(alpha=alpha, lam=lam, beta=beta, perseveration=perseveration, w=0.0)


class ModelBasedAgent(HybridAgent):
    """Plans one step with P(state | action) and learned second-stage values: w = 1."""

    name = "model-based"

    def __init__(self, alpha: float = 0.5, beta: float = 5.0, perseveration: float = 0.0,
                 learn_transitions: bool = False):
        super().__init__(alpha=alpha, beta=beta, perseveration=perseveration, w=1.0,
                         learn_transitions=learn_transitions)


class IdealObserverAgent(Agent):
    """Exact Bayesian belief about the good state; greedy choice (module doc)."""

    name = "ideal"
    tie_tolerance = 1e-12

    def reset(self, batch_shape: Batch, task: TaskConfig) -> None:
        self.task = task
        self.belief_state1_good = torch.full(batch_shape, 0.5, dtype=torch.float64)

    def expected_reward(self) -> torch.Tensor:
        """E[reward | action], ``[*batch, 2]``."""
        good = torch.stack([1 - self.belief_state1_good, self.belief_state1_good], dim=-1)
        reward_in_state = good * self.task.reward_prob_good + (1 - good) * self.task.reward_prob_bad
        transitions = _transition_matrix(self.task.common_prob, self.belief_state1_good.shape)
        return (transitions @ reward_in_state.unsqueeze(-1)).squeeze(-1)

    def choice_probability(self) -> torch.Tensor:
        value = self.expected_reward()
        advantage = value[..., 1] - value[..., 0]
        tie = advantage.abs() <= self.tie_tolerance
        return torch.where(tie, 0.5, (advantage > 0).double())

    def observe(self, outcome: TrialOutcome) -> None:
        task = self.task
        device = self.belief_state1_good.device
        reward = outcome.reward.to(device).double()
        in_state1 = outcome.state.to(device) == 1

        def likelihood(p_reward: float) -> torch.Tensor:
            return reward * p_reward + (1 - reward) * (1 - p_reward)

        reached_good, reached_bad = likelihood(task.reward_prob_good), likelihood(task.reward_prob_bad)
        if_state1_good = torch.where(in_state1, reached_good, reached_bad)
        if_state0_good = torch.where(in_state1, reached_bad, reached_good)
        belief = self.belief_state1_good
        posterior = belief * if_state1_good / (belief * if_state1_good
                                               + (1 - belief) * if_state0_good)
        flip = task.reversal_prob
        self.belief_state1_good = posterior * (1 - flip) + (1 - posterior) * flip


AGENTS: dict[str, type[Agent]] = {
    "random": RandomAgent,
    "model-free": ModelFreeAgent,
    "model-based": ModelBasedAgent,
    "hybrid": HybridAgent,
    "ideal": IdealObserverAgent,
}
"""Agents by the name :func:`simulate` takes."""


def make_agent(agent_name: str, **params) -> Agent:
    """The agent called ``agent_name`` (a key of :data:`AGENTS`) with these parameters."""
    if agent_name not in AGENTS:
        raise TwostepError(f"unknown agent {agent_name!r}: choose one of {', '.join(AGENTS)}")
    try:
        return AGENTS[agent_name](**params)
    except TypeError:
        raise TwostepError(f"agent {agent_name!r} does not take parameter(s) "
                           f"{', '.join(sorted(params))}") from None


def play_agent(agent: Agent, task_config: TaskConfig, episodes: int,
         generators: Sequence[torch.Generator], seeds: Sequence[int],
         batch_size: int | None = None) -> pd.DataFrame:
    """Let ``agent`` play ``episodes`` episodes per seed; return the trial table.

    Row ``i`` of every batch draws its task and its choice noise from ``generators[i]``
    (task first, then one uniform per trial), and is labelled ``seeds[i]``. Episodes
    are played ``batch_size`` at a time (all at once by default); the batch size
    changes the order of the draws, hence the exact episodes.
    """
    if task_config.kind != "two-step":
        raise TwostepError(f"agent {agent.name!r} supports the two-step task only, "
                           f"not {task_config.kind!r}")
    if episodes < 1:
        raise TwostepError(f"episodes must be positive, not {episodes}")
    batch_size = episodes if batch_size is None else batch_size
    if batch_size < 1:
        raise TwostepError(f"batch_size must be positive, not {batch_size}")
    task = TwoStepTask(task_config)
    tables = []
    for first_episode in range(0, episodes, batch_size):
        batch_shape = (len(generators), min(batch_size, episodes - first_episode))
        task.reset(batch_shape, list(generators))
        choice_noise = draw_uniform(list(generators), batch_shape, task.trials)
        agent.reset(batch_shape, task_config)
        outcomes = []
        for t in range(task.trials):
            choice = (choice_noise[..., t].double() < agent.choice_probability()).long()
            outcome, _ = task.step(choice)
            agent.observe(outcome)
            outcomes.append(outcome)
        tables.append(trial_frame(outcomes, seeds, episode_offset=first_episode))
    return pd.concat(tables, ignore_index=True)


def simulate(agent_name: str, task_config: TaskConfig, episodes: int, seeds: int = 1,
             first_seed: int = 0, batch_size: int | None = None, **params) -> pd.DataFrame:
    """Trial table of the agent ``agent_name`` over ``episodes`` episodes for each seed.

    Seeds are ``first_seed .. first_seed + seeds - 1``; seed ``s`` draws everything
    from ``torch.Generator().manual_seed(s)``. ``params`` go to the agent's constructor.

    >>> table = simulate("ideal", TaskConfig(), episodes=10, seeds=2)
    """
    agent = make_agent(agent_name, **params)
    if seeds < 1:
        raise TwostepError(f"seeds must be positive, not {seeds}")
    labels = list(range(first_seed, first_seed + seeds))
    generators = [torch.Generator().manual_seed(seed) for seed in labels]
    return play_agent(agent, task_config, episodes, generators, labels, batch_size)
