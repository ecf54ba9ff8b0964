"""The Daw 2011 hybrid model (twostep.core.hybrid): its likelihood, and the agents that
simulate with the same equations (twostep.core.agents)."""

import math

import pandas as pd
import pytest
import torch

from twostep.core import hybrid
from twostep.core.agents import HybridAgent, play_agent, simulate
from twostep.core.config import TaskConfig
from twostep.core.seeding import draw_uniform
from twostep.core.tasks import TwoStepTask
from twostep.errors import TwostepError

WANG = TaskConfig()


def _one_subject(choice, state, reward):
    as_tensor = lambda values: torch.tensor([[values]])  # noqa: E731  [N=1, E=1, T]
    return as_tensor(choice), as_tensor(state), as_tensor(reward)


def test_the_likelihood_matches_a_four_trial_sequence_worked_by_hand():
    # alpha 0.5, lambda 0.5, beta 2, kappa 0.3, w 0.4, P(common) 0.7. Worked by hand:
    # t0: every value 0.5, no perseveration -> logit 0. Chose 1, reached 1, rewarded:
    #     delta1 = 0, delta2 = 0.5 -> Q_MF(1) = 0.625, Q2(1) = 0.75.
    # t1: Q_MB = (0.575, 0.675), Q(1) - Q(0) = 0.4 * 0.1 + 0.6 * 0.125 = 0.115
    #     -> logit 2 * 0.115 + 0.3 = 0.53. Chose 1, reached 0, no reward:
    #     delta1 = -0.125, delta2 = -0.5 -> Q_MF(1) = 0.4375, Q2(0) = 0.25.
    # t2: Q_MB = (0.4, 0.6), Q(1) - Q(0) = 0.08 - 0.0375 = 0.0425 -> logit 0.385.
    #     Chose 0, reached 0, rewarded: delta1 = -0.25, delta2 = 0.75
    #     -> Q_MF(0) = 0.5625, Q2(0) = 0.625.
    # t3: Q_MB = (0.6625, 0.7125), Q(1) - Q(0) = 0.02 - 0.075 = -0.055
    #     -> logit -0.11 - 0.3 = -0.41 (the previous choice was 0). Chose 0.
    trials = hybrid.record(*_one_subject([1, 1, 0, 0], [1, 0, 0, 1], [1, 0, 1, 0]),
                           common_prob=0.7)
    params = torch.tensor([[0.5, 0.5, 2.0, 0.3, 0.4]], dtype=torch.float64)
    logits = hybrid.trial_logits(params, trials)[:, 0, 0]
    torch.testing.assert_close(logits, torch.tensor([0.0, 0.53, 0.385, -0.41],
                                                    dtype=torch.float64))
    by_hand = -(math.log(0.5) + math.log(1 / (1 + math.exp(-0.53)))
                + math.log(1 / (1 + math.exp(0.385))) + math.log(1 / (1 + math.exp(-0.41))))
    log_likelihood = hybrid.choice_log_likelihood(params, trials).sum()
    assert log_likelihood.item() == pytest.approx(-by_hand, abs=1e-12)


def _play_and_record_logits(agent, task_config, seeds=3, episodes=40):
    """Play like play_agent, keeping the agent's logit before every choice, [S, E, T]."""
    generators = [torch.Generator().manual_seed(s) for s in range(seeds)]
    task = TwoStepTask(task_config)
    task.reset((seeds, episodes), generators)
    noise = draw_uniform(generators, (seeds, episodes), task.trials)
    agent.reset((seeds, episodes), task_config)
    logits, outcomes = [], []
    for t in range(task.trials):
        logits.append(agent.choice_logit())
        choice = (noise[..., t].double() < agent.choice_probability()).long()
        outcome, _ = task.step(choice)
        agent.observe(outcome)
        outcomes.append(outcome)
    played = {name: torch.stack([getattr(o, name) for o in outcomes], -1)
              for name in ("choice", "state", "reward")}
    return torch.stack(logits, -1), played


@pytest.mark.parametrize("learn_transitions", [False, True])
def test_the_likelihood_replays_the_agents_own_choice_probabilities_exactly(learn_transitions):
    alpha, lam, beta, kappa, w = 0.3, 0.6, 4.0, 0.7, 0.4
    agent = HybridAgent(alpha, lam, beta, kappa, w, learn_transitions=learn_transitions)
    agent_logits, played = _play_and_record_logits(agent, WANG)
    trials = hybrid.record(played["choice"], played["state"], played["reward"],
                           WANG.common_prob, learn_transitions)
    params = torch.tensor([[alpha, lam, beta, kappa, w]], dtype=torch.float64).expand(3, 5)
    replayed = hybrid.trial_logits(params, trials).permute(1, 2, 0)
    assert torch.equal(replayed, agent_logits)


def test_parameters_given_per_seed_play_as_each_seed_alone():
    together = simulate("hybrid", WANG, episodes=20, seeds=2, w=[0.2, 0.9], beta=[3.0, 6.0])
    first = simulate("hybrid", WANG, episodes=20, seeds=1, w=0.2, beta=3.0)
    second = simulate("hybrid", WANG, episodes=20, seeds=1, first_seed=1, w=0.9, beta=6.0)
    pd.testing.assert_frame_equal(together, pd.concat([first, second], ignore_index=True))


def test_per_seed_parameters_must_match_the_seeds():
    with pytest.raises(TwostepError, match="3 values of w for 2 seeds"):
        simulate("hybrid", WANG, episodes=2, seeds=2, w=[0.1, 0.2, 0.3])
    with pytest.raises(TwostepError, match="w must be in"):
        simulate("hybrid", WANG, episodes=2, seeds=2, w=[0.1, 1.2])


def test_play_agent_with_per_seed_parameters_is_what_simulate_does():
    generators = [torch.Generator().manual_seed(s) for s in (0, 1)]
    played = play_agent(HybridAgent(w=[0.1, 0.7]), WANG, 5, generators, [0, 1])
    pd.testing.assert_frame_equal(played, simulate("hybrid", WANG, episodes=5, seeds=2,
                                                   w=[0.1, 0.7]))
