"""The batched vanilla two-step task (Wang 2018) against its configuration.

Statistical tests play 2,000 episodes x 100 trials = 200,000 trials with random
choices; each tolerance is stated beside it and is at least 4 standard errors.
"""

from __future__ import annotations

import pytest
import torch
from helpers import play_random_choices

from twostep.core.config import TaskConfig
from twostep.core.tasks import TrialOutcome, TwoStepTask, make_task
from twostep.errors import TwostepError

EPISODES = 2000


@pytest.fixture(scope="module")
def default_run() -> TrialOutcome:
    return play_random_choices(TwoStepTask(TaskConfig()), (EPISODES,), torch.Generator().manual_seed(0))


def test_default_config_is_wang_2018():
    config = TaskConfig()
    assert (config.common_prob, config.reward_prob_good, config.reward_prob_bad,
            config.reversal_prob, config.trials) == (0.8, 0.9, 0.1, 0.025, 100)


def test_common_transition_rate_matches_config(default_run):
    # 200k trials, p = 0.8: standard error 0.0009; tolerance 0.005.
    assert default_run.common.float().mean().item() == pytest.approx(0.8, abs=0.005)


def test_choice_leads_to_same_numbered_state_on_common_transitions(default_run):
    common = default_run.common.bool()
    assert torch.equal(default_run.state[common], default_run.choice[common])
    assert torch.equal(default_run.state[~common], 1 - default_run.choice[~common])
    # so choice 0 commonly leads to state 0 (100k trials, tolerance 0.007 = 5 s.e.)
    reached_0 = (default_run.state[default_run.choice == 0] == 0).float().mean().item()
    assert reached_0 == pytest.approx(0.8, abs=0.007)


def test_reward_rates_in_good_and_bad_states_match_config(default_run):
    in_good = default_run.state == default_run.good_state
    # ~100k trials in each: standard error <= 0.001; tolerance 0.006.
    assert default_run.reward[in_good].mean().item() == pytest.approx(0.9, abs=0.006)
    assert default_run.reward[~in_good].mean().item() == pytest.approx(0.1, abs=0.006)


def test_rewards_are_zero_or_one(default_run):
    assert set(default_run.reward.unique().tolist()) <= {0.0, 1.0}


def test_reversal_rate_matches_config(default_run):
    swaps = default_run.good_state[:, 1:] != default_run.good_state[:, :-1]
    # 198k trial boundaries, p = 0.025: standard error 0.00035; tolerance 0.0015.
    assert swaps.float().mean().item() == pytest.approx(0.025, abs=0.0015)


def test_initial_good_state_is_a_fair_coin(default_run):
    # 2,000 episodes: standard error 0.011; tolerance 0.05.
    assert default_run.good_state[:, 0].float().mean().item() == pytest.approx(0.5, abs=0.05)


def test_different_probabilities_in_the_config_are_honoured():
    config = TaskConfig(common_prob=0.7, reward_prob_good=0.7, reward_prob_bad=0.3,
                        reversal_prob=0.2)
    run = play_random_choices(TwoStepTask(config), (EPISODES,), torch.Generator().manual_seed(3))
    in_good = run.state == run.good_state
    swaps = run.good_state[:, 1:] != run.good_state[:, :-1]
    # 200k trials; standard errors <= 0.0015; tolerance 0.007.
    assert run.common.float().mean().item() == pytest.approx(0.7, abs=0.007)
    assert run.reward[in_good].mean().item() == pytest.approx(0.7, abs=0.007)
    assert run.reward[~in_good].mean().item() == pytest.approx(0.3, abs=0.007)
    assert swaps.float().mean().item() == pytest.approx(0.2, abs=0.007)


def test_one_generator_and_a_one_row_list_of_it_give_the_same_episodes():
    config = TaskConfig()
    plain = play_random_choices(TwoStepTask(config), (16,), torch.Generator().manual_seed(5))
    listed = play_random_choices(TwoStepTask(config), (1, 16), [torch.Generator().manual_seed(5)])
    for name, value in plain.columns().items():
        assert torch.equal(getattr(listed, name)[0], value)


def test_same_seed_and_choices_give_the_same_outcomes_alone_or_batched():
    config = TaskConfig()
    batched, alone = TwoStepTask(config), TwoStepTask(config)
    batched.reset((2, 8), [torch.Generator().manual_seed(s) for s in (11, 12)])
    alone.reset((1, 8), [torch.Generator().manual_seed(12)])
    choices = torch.Generator().manual_seed(0)
    for _ in range(config.trials):
        choice = torch.randint(0, 2, (2, 8), generator=choices)
        out_batched, obs_batched = batched.step(choice)
        out_alone, obs_alone = alone.step(choice[1:])
        for name, value in out_alone.columns().items():
            assert torch.equal(getattr(out_batched, name)[1:], value)
        assert torch.equal(obs_batched[1:], obs_alone)


def test_a_list_of_generators_must_match_the_leading_batch_dimension():
    task = TwoStepTask(TaskConfig())
    with pytest.raises(TwostepError, match="2 generators"):
        task.reset((3, 4), [torch.Generator(), torch.Generator()])


def test_observation_holds_previous_state_choice_reward_and_time():
    task = TwoStepTask(TaskConfig())
    first = task.reset((64,), torch.Generator().manual_seed(0))
    assert task.observation_size == 6
    assert first.shape == (64, 6)
    assert torch.equal(first, torch.zeros(64, 6)), "nothing has happened before trial 0"
    choices = torch.Generator().manual_seed(1)
    for t in range(1, task.trials + 1):
        outcome, obs = task.step(torch.randint(0, 2, (64,), generator=choices))
        assert obs.shape == (64, 6)
        assert torch.equal(obs[:, 0:2].argmax(-1), outcome.state)
        assert torch.equal(obs[:, 2:4].argmax(-1), outcome.choice)
        assert torch.equal(obs[:, 0:4].sum(-1), torch.full((64,), 2.0)), "two one-hots"
        assert torch.equal(obs[:, 4], outcome.reward)
        assert torch.allclose(obs[:, 5], torch.full((64,), t / task.trials))


def test_stepping_past_the_last_trial_raises():
    task = TwoStepTask(TaskConfig(trials=3))
    task.reset((2,), torch.Generator().manual_seed(0))
    for _ in range(3):
        task.step(torch.zeros(2, dtype=torch.long))
    with pytest.raises(TwostepError, match="reset"):
        task.step(torch.zeros(2, dtype=torch.long))


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_task_runs_on_an_explicitly_given_cpu_device(device):
    task = TwoStepTask(TaskConfig(), device=device)
    obs = task.reset((4,), torch.Generator().manual_seed(0))
    outcome, obs = task.step(torch.ones(4, dtype=torch.long))
    assert obs.device.type == "cpu"
    assert all(value.device.type == "cpu" for value in outcome.columns().values())


def test_vanilla_outcomes_have_no_episodic_fields():
    task = TwoStepTask(TaskConfig())
    task.reset((4,), torch.Generator().manual_seed(0))
    outcome, _ = task.step(torch.zeros(4, dtype=torch.long))
    assert not hasattr(outcome, "cued") and not hasattr(outcome, "cue_trial")
    assert list(outcome.columns()) == ["choice", "state", "common", "reward", "good_state"]


def test_make_task_builds_the_vanilla_task_for_kind_two_step():
    assert type(make_task(TaskConfig(kind="two-step"))) is TwoStepTask
