"""The batched episodic two-step task (Ritter 2018): contexts, cues, reinstatement.

Statistical tests play 2,000 episodes x 100 trials with random choices under the
bundled episodic probabilities (common 0.9, reward 0.9 / 0.1, reversal 0.1); each
tolerance is stated beside it and is at least 4 standard errors.
"""

from __future__ import annotations

import pytest
import torch
from helpers import play_random_choices

from twostep.core.config import TaskConfig
from twostep.core.tasks import EpisodicTwoStepTask, TrialOutcome, TwoStepTask, make_task
from twostep.errors import TwostepError
from twostep.trials.frame import trial_frame

EPISODIC = TaskConfig(kind="episodic-two-step", common_prob=0.9, reward_prob_good=0.9,
                      reward_prob_bad=0.1, reversal_prob=0.1)
EPISODES = 2000


def context_integers(contexts: torch.Tensor) -> torch.Tensor:
    """``[..., bits]`` 0/1 -> ``[...]`` the integer they spell (least significant bit first)."""
    powers = 2 ** torch.arange(contexts.shape[-1])
    return (contexts.long() * powers).sum(-1)


@pytest.fixture(scope="module")
def episodic_run() -> tuple[EpisodicTwoStepTask, TrialOutcome]:
    task = EpisodicTwoStepTask(EPISODIC)
    run = play_random_choices(task, (EPISODES,), torch.Generator().manual_seed(0))
    return task, run


# ---------------------------------------------------------------------- contexts
def test_contexts_are_distinct_nonzero_binary_vectors_within_each_episode(episodic_run):
    task, _ = episodic_run
    assert task.contexts.shape == (EPISODES, 50, 10)
    assert set(task.contexts.unique().tolist()) == {0.0, 1.0}
    values = context_integers(task.contexts)
    assert (values > 0).all(), "the all-zero vector is the null cue"
    assert (values.sort(dim=-1).values.diff(dim=-1) > 0).all(), "a context repeats"


def test_contexts_are_uniform_over_nonzero_vectors_in_every_position():
    # 3 bits, 6 uncued trials: 6 of the 7 non-zero vectors per episode (the tightest case).
    config = TaskConfig(kind="episodic-two-step", trials=12, context_bits=3)
    task = EpisodicTwoStepTask(config)
    task.reset((20000,), torch.Generator().manual_seed(0))
    values = context_integers(task.contexts)
    assert (values.sort(dim=-1).values.diff(dim=-1) > 0).all()
    assert ((values >= 1) & (values <= 7)).all()
    for position in (0, 5):
        frequency = torch.bincount(values[:, position], minlength=8)[1:].float() / 20000
        # 20k draws of p = 1/7: standard error 0.0025; tolerance 0.012.
        assert torch.allclose(frequency, torch.full((7,), 1 / 7), atol=0.012)


def test_contexts_with_many_bits_are_distinct_and_fit_in_the_bits():
    config = TaskConfig(kind="episodic-two-step", context_bits=20)
    task = EpisodicTwoStepTask(config)
    task.reset((256,), torch.Generator().manual_seed(0))
    values = context_integers(task.contexts)
    assert ((values > 0) & (values < 2**20)).all()
    assert (values.sort(dim=-1).values.diff(dim=-1) > 0).all()
    assert task.observation_size == 27


# -------------------------------------------------------------------------- cues
def test_cue_trials_recall_each_uncued_trial_once_in_the_matching_quarter(episodic_run):
    task, _ = episodic_run
    cue_trials = task.cue_trials
    assert cue_trials.shape == (EPISODES, 100) and cue_trials.dtype == torch.long
    assert (cue_trials[:, :50] == -1).all()
    assert torch.equal(cue_trials[:, 50:75].sort(dim=-1).values,
                       torch.arange(25).expand(EPISODES, 25))
    assert torch.equal(cue_trials[:, 75:].sort(dim=-1).values,
                       torch.arange(25, 50).expand(EPISODES, 25))


def test_cue_order_is_a_uniformly_random_permutation(episodic_run):
    task, _ = episodic_run
    # P(trial 50 cues trial k) = 1/25 for every k: 2,000 episodes, s.e. 0.0044; tolerance 0.02.
    frequency = torch.bincount(task.cue_trials[:, 50], minlength=25).float() / EPISODES
    assert torch.allclose(frequency, torch.full((25,), 1 / 25), atol=0.02)
    frequency = torch.bincount(task.cue_trials[:, 99] - 25, minlength=25).float() / EPISODES
    assert torch.allclose(frequency, torch.full((25,), 1 / 25), atol=0.02)


def test_the_cue_of_a_cued_trial_is_the_context_of_its_cue_trial(episodic_run):
    task, _ = episodic_run
    episodes = torch.arange(EPISODES)
    for t in (50, 74, 75, 99):
        assert task.is_cued(t)
        expected = task.contexts[episodes, task.cue_trials[:, t]]
        assert torch.equal(task.cue(t), expected)
    for t in (0, 25, 49):
        assert not task.is_cued(t)
        assert torch.equal(task.cue(t), torch.zeros(EPISODES, 10))
        assert torch.equal(task.context_of(t), task.contexts[:, t])


def test_only_uncued_trials_have_a_context_and_trials_outside_the_episode_raise(episodic_run):
    task, _ = episodic_run
    with pytest.raises(TwostepError, match="cued"):
        task.context_of(50)
    for bad in (-1, 100):
        with pytest.raises(TwostepError, match="outside"):
            task.is_cued(bad)
        with pytest.raises(TwostepError, match="outside"):
            task.cue(bad)


# ----------------------------------------------------------------- reinstatement
def test_reaching_the_recalled_state_again_repays_the_recalled_reward_exactly(episodic_run):
    _, run = episodic_run
    recalled = run.cue_trial[:, 50:]
    same_state = run.state[:, 50:] == run.state.gather(-1, recalled)
    assert same_state.sum() > 40000, "enough reinstated trials to test"
    recalled_reward = run.reward.gather(-1, recalled)
    assert torch.equal(run.reward[:, 50:][same_state], recalled_reward[same_state])
    # and the rule overrides the current good state: recalled rewards reappear in bad states
    in_bad = run.state[:, 50:] != run.good_state[:, 50:]
    assert (run.reward[:, 50:][same_state & in_bad] == 1).float().mean() > 0.3


def test_reaching_the_other_state_draws_a_fresh_reward_at_the_config_rates(episodic_run):
    _, run = episodic_run
    recalled = run.cue_trial[:, 50:]
    other_state = run.state[:, 50:] != run.state.gather(-1, recalled)
    in_good = run.state[:, 50:] == run.good_state[:, 50:]
    reward = run.reward[:, 50:]
    # ~25k trials in each cell: standard error <= 0.002; tolerance 0.01.
    assert reward[other_state & in_good].mean().item() == pytest.approx(0.9, abs=0.01)
    assert reward[other_state & ~in_good].mean().item() == pytest.approx(0.1, abs=0.01)


def test_task_keeps_the_history_of_played_trials():
    task = EpisodicTwoStepTask(EPISODIC)
    task.reset((8,), torch.Generator().manual_seed(0))
    assert (task.states == -1).all() and (task.rewards == -1).all()
    outcome, _ = task.step(torch.ones(8, dtype=torch.long))
    assert torch.equal(task.choices[:, 0], outcome.choice)
    assert torch.equal(task.states[:, 0], outcome.state)
    assert torch.equal(task.rewards[:, 0], outcome.reward)
    assert (task.states[:, 1:] == -1).all()


# ------------------------------------------------------------ config statistics
def test_transitions_reversals_and_uncued_rewards_match_the_episodic_config(episodic_run):
    _, run = episodic_run
    # 200k trials, p = 0.9: s.e. 0.0007; tolerance 0.004.
    assert run.common.float().mean().item() == pytest.approx(0.9, abs=0.004)
    common = run.common.bool()
    assert torch.equal(run.state[common], run.choice[common])
    # 198k trial boundaries, p = 0.1: s.e. 0.0007; tolerance 0.004.
    swaps = run.good_state[:, 1:] != run.good_state[:, :-1]
    assert swaps.float().mean().item() == pytest.approx(0.1, abs=0.004)
    # uncued: ~50k trials per state, s.e. 0.0013; tolerance 0.007.
    in_good = (run.state == run.good_state)[:, :50]
    assert run.reward[:, :50][in_good].mean().item() == pytest.approx(0.9, abs=0.007)
    assert run.reward[:, :50][~in_good].mean().item() == pytest.approx(0.1, abs=0.007)


def test_uncued_trials_play_exactly_like_the_vanilla_task_with_the_same_seed():
    episodic, vanilla = EpisodicTwoStepTask(EPISODIC), TwoStepTask(EPISODIC)
    obs_e = episodic.reset((32,), torch.Generator().manual_seed(4))
    obs_v = vanilla.reset((32,), torch.Generator().manual_seed(4))
    choices = torch.Generator().manual_seed(0)
    for t in range(100):
        # the same columns; only the reward (column 4) may differ once cued trials start
        same = [0, 1, 2, 3, 4, 5] if t <= 50 else [0, 1, 2, 3, 5]
        assert torch.equal(obs_e[:, same], obs_v[:, same]), f"columns differ before trial {t}"
        choice = torch.randint(0, 2, (32,), generator=choices)
        out_e, obs_e = episodic.step(choice)
        out_v, obs_v = vanilla.step(choice)
        assert torch.equal(out_e.good_state, out_v.good_state)
        assert torch.equal(out_e.common, out_v.common)
        if t < 50:
            assert torch.equal(out_e.reward, out_v.reward)


# ------------------------------------------------------------------ observation
def test_observation_adds_the_cued_flag_and_the_cue_after_the_vanilla_columns():
    task = EpisodicTwoStepTask(EPISODIC)
    obs = task.reset((2, 16), [torch.Generator().manual_seed(s) for s in (0, 1)])
    assert task.observation_size == 17
    assert torch.equal(obs, torch.zeros(2, 16, 17)), "trial 0 is uncued: nothing to show"
    choices = torch.Generator().manual_seed(2)
    for t in range(100):
        assert obs.shape == (2, 16, 17)
        assert (obs[..., 6] == float(t >= 50)).all()
        assert torch.equal(obs[..., 7:], task.cue(t))
        outcome, obs = task.step(torch.randint(0, 2, (2, 16), generator=choices))
        assert torch.equal(obs[..., 0:2].argmax(-1), outcome.state)
        assert torch.equal(obs[..., 2:4].argmax(-1), outcome.choice)
        assert torch.equal(obs[..., 4], outcome.reward)
        assert torch.allclose(obs[..., 5], torch.full((2, 16), (t + 1) / 100))
    assert torch.equal(obs[..., 6:], torch.zeros(2, 16, 11)), "no cue after the last trial"


def test_outcomes_carry_the_cued_flag_and_the_cue_trial(episodic_run):
    task, run = episodic_run
    assert run.cued.dtype == torch.long and run.cue_trial.dtype == torch.long
    assert (run.cued[:, :50] == 0).all() and (run.cued[:, 50:] == 1).all()
    assert torch.equal(run.cue_trial, task.cue_trials)


def test_trial_table_gets_the_episodic_columns():
    task = EpisodicTwoStepTask(EPISODIC)
    task.reset((2, 3), [torch.Generator().manual_seed(s) for s in (0, 1)])
    outcomes = [task.step(torch.zeros(2, 3, dtype=torch.long))[0] for _ in range(100)]
    frame = trial_frame(outcomes, seeds=[0, 1])
    assert {"cued", "cue_trial"} <= set(frame.columns)
    assert len(frame) == 600
    assert (frame.loc[frame.trial < 50, "cue_trial"] == -1).all()
    assert frame.loc[frame.trial >= 75, "cue_trial"].between(25, 49).all()


# ---------------------------------------------------------------- construction
def test_each_seed_sees_the_same_episodes_alone_or_batched_with_others():
    together, alone = EpisodicTwoStepTask(EPISODIC), EpisodicTwoStepTask(EPISODIC)
    together.reset((3, 8), [torch.Generator().manual_seed(s) for s in (5, 6, 7)])
    alone.reset((1, 8), [torch.Generator().manual_seed(6)])
    assert torch.equal(together.contexts[1:2], alone.contexts)
    assert torch.equal(together.cue_trials[1:2], alone.cue_trials)
    choices = torch.Generator().manual_seed(0)
    for _ in range(100):
        choice = torch.randint(0, 2, (3, 8), generator=choices)
        out_together, obs_together = together.step(choice)
        out_alone, obs_alone = alone.step(choice[1:2])
        for name, value in out_alone.columns().items():
            assert torch.equal(getattr(out_together, name)[1:2], value)
        assert torch.equal(obs_together[1:2], obs_alone)


def test_make_task_builds_the_episodic_task_for_its_kind():
    task = make_task(EPISODIC, device="cpu")
    assert isinstance(task, EpisodicTwoStepTask)
    assert task.device == torch.device("cpu")


def test_episodic_task_refuses_a_vanilla_config():
    with pytest.raises(TwostepError, match="episodic-two-step"):
        EpisodicTwoStepTask(TaskConfig())


def test_stepping_past_the_last_episodic_trial_raises():
    task = EpisodicTwoStepTask(TaskConfig(kind="episodic-two-step", trials=4, context_bits=2))
    task.reset((2,), torch.Generator().manual_seed(0))
    for _ in range(4):
        task.step(torch.zeros(2, dtype=torch.long))
    with pytest.raises(TwostepError, match="reset"):
        task.step(torch.zeros(2, dtype=torch.long))


def test_cues_drawn_with_replacement_stay_in_their_quarter_and_are_uniform():
    task = EpisodicTwoStepTask(EPISODIC.model_copy(update={"cue_sampling": "replacement"}))
    task.reset((EPISODES,), torch.Generator().manual_seed(1))
    first, second = task.cue_trials[:, 50:75], task.cue_trials[:, 75:]
    assert ((first >= 0) & (first < 25)).all() and ((second >= 25) & (second < 50)).all()
    # each past trial cued 1.0 times per quarter on average; 50,000 cues per quarter give a
    # s.e. of about 0.02 per trial's count: tolerance 0.12 (6 s.e.)
    counts = torch.bincount(first.flatten(), minlength=25).double() / EPISODES
    assert (counts - 1.0).abs().max() < 0.12
    # some past trials are cued twice and some never: P(never) = (24/25)^25 ≈ 0.36 per trial
    never = (torch.nn.functional.one_hot(first, 25).sum(1) == 0).double().mean()
    assert abs(never - (24 / 25) ** 25) < 0.02  # s.e. ≈ 0.002 over 50,000 (episode, trial)


# ---------------------------------------------------------------------- memory schedule
def test_the_task_schedules_one_write_per_uncued_trial_and_a_read_per_cued_trial(episodic_run):
    task, _ = episodic_run
    for step in range(task.trials):
        key, query = task.write_key(step), task.read_key(step)
        if 1 <= step <= 50:   # step t has taken in trial t-1's outcome
            assert torch.equal(key, task.contexts[:, step - 1])
        else:
            assert key is None
        if step >= 50:
            assert torch.equal(query, task.cues[:, step])
        else:
            assert query is None


def test_without_the_cue_the_observation_keeps_only_the_cued_flag():
    shown = EpisodicTwoStepTask(EPISODIC)
    hidden = EpisodicTwoStepTask(EPISODIC, show_cue=False)
    assert hidden.observation_size == shown.observation_size - EPISODIC.context_bits == 7
    a = shown.reset((3,), torch.Generator().manual_seed(0))
    b = hidden.reset((3,), torch.Generator().manual_seed(0))
    for _ in range(60):
        assert torch.equal(a[..., :7], b)
        choice = torch.zeros(3, dtype=torch.long)
        (_, a), (_, b) = shown.step(choice), hidden.step(choice)


def test_play_writes_and_reads_memory_on_the_tasks_schedule(monkeypatch):
    from twostep.core.build import build_model, task_for
    from twostep.core.config import load_experiment
    from twostep.core.memory import DND
    from twostep.core.rollout import play

    config = load_experiment("ritter2018-episodic").with_changes(
        task={"trials": 8}, model={"retrieval": "1nn"}, train={"seeds": 2})
    task = task_for(config)
    model = build_model(config, task, seeds=[0, 1])
    written = []
    original_write = DND.write

    def recording_write(self, keys, values):
        written.append(keys.clone())
        original_write(self, keys, values)

    monkeypatch.setattr(DND, "write", recording_write)
    with torch.no_grad():
        rollout = play(model, task, config, [torch.Generator().manual_seed(s) for s in (0, 1)],
                       batch_size=5, record_internals=True)
    assert len(written) == 4   # one entry per uncued trial 0..3, in order
    for trial, key in enumerate(written):
        assert torch.equal(key, task.contexts[..., trial, :])
    read = rollout.internals["retrieved_trial"]
    assert (read[..., :4] == -1).all()                       # nothing read before trial 4
    assert torch.equal(read[..., 4:], task.cue_trials[..., 4:])  # 1-NN finds the cued trial
