"""The Gymnasium environments (twostep.interfaces.envs) against Gymnasium's checker and the package's tasks.

Statistical tests play 1,000 episodes x 100 trials = 100,000 trials with random
choices through the vector environment; each tolerance is stated beside it and is at
least 4 standard errors.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

from twostep.core.config import load_experiment
from twostep.core.tasks import EpisodicTwoStepTask, TwoStepTask
from twostep.errors import TwostepError
from twostep.interfaces.cli import main
from twostep.interfaces.envs import ENV_IDS, TrialRecorder, TwoStepEnv, TwoStepVectorEnv
from twostep.trials.columns import EPISODIC_COLUMNS, TRIAL_COLUMNS
from twostep.trials.frame import trial_frame
from twostep.trials.read import read_trial_table

EPISODES = 1000
INFO_COLUMNS = ["trial", "choice", "state", "common", "reward", "good_state"]


def play_env(env: TwoStepEnv, seed: int, episodes: int, choices: np.ndarray):
    """Observations, rewards and infos of ``episodes`` episodes from ``reset(seed=seed)``."""
    observations, rewards, infos = [], [], []
    observation, _ = env.reset(seed=seed)
    for episode in range(episodes):
        if episode:
            observation, _ = env.reset()
        observations.append(observation)
        for t in range(env.task.trials):
            observation, reward, terminated, truncated, info = env.step(int(choices[episode, t]))
            observations.append(observation)
            rewards.append(reward)
            infos.append(info)
            assert terminated == (t == env.task.trials - 1) and not truncated
    return np.stack(observations), np.array(rewards), pd.DataFrame(infos)


def play_task(task: TwoStepTask, seed: int, episodes: int, choices: np.ndarray):
    """The same as :func:`play_env`, with the package's task at batch 1."""
    generator = torch.Generator().manual_seed(seed)
    observations, rewards, rows = [], [], []
    for episode in range(episodes):
        observations.append(task.reset((1,), generator)[0].numpy())
        for t in range(task.trials):
            outcome, observation = task.step(torch.tensor([int(choices[episode, t])]))
            observations.append(observation[0].numpy())
            rewards.append(outcome.reward.item())
            rows.append({"trial": t, **{k: int(v[0]) for k, v in outcome.columns().items()}})
    return np.stack(observations), np.array(rewards), pd.DataFrame(rows)


def random_vector_run(experiment: str, episodes: int = EPISODES, seed: int = 0) -> pd.DataFrame:
    """One episode of ``episodes`` sub-environments with random choices, recorded as a trial table."""
    env = gym.make_vec(ENV_IDS_BY_EXPERIMENT[experiment], num_envs=episodes)
    recorder = TrialRecorder()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    terminated = np.zeros(episodes, bool)
    while not terminated.all():
        _, _, terminated, _, info = env.step(env.action_space.sample())
        recorder.record(info)
    return recorder.frame()


ENV_IDS_BY_EXPERIMENT = {experiment: env_id for env_id, experiment in ENV_IDS.items()}


@pytest.fixture(scope="module")
def wang_run() -> pd.DataFrame:
    return random_vector_run("wang2018")


@pytest.fixture(scope="module")
def ritter_run() -> pd.DataFrame:
    return random_vector_run("ritter2018-episodic")


# ------------------------------------------------------------------ Gymnasium's own checks
@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_every_registered_environment_passes_gymnasiums_check_env_without_a_warning(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_gymnasium_make_vec_gives_the_batched_vector_env(env_id):
    env = gym.make_vec(env_id, num_envs=3)
    assert isinstance(env.unwrapped, TwoStepVectorEnv)
    assert env.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert env.num_envs == 3


def test_bundled_configs_are_registered_with_their_tasks():
    for env_id, experiment in ENV_IDS.items():
        assert gym.make(env_id).unwrapped.config == load_experiment(experiment).task
    assert set(ENV_IDS.values()) >= {"wang2018", "ritter2018-episodic"}
    # ritter2018-incremental plays the same task as ritter2018-episodic
    assert load_experiment("ritter2018-incremental").task == load_experiment("ritter2018-episodic").task


def test_importing_twostep_does_not_need_gymnasium():
    code = ("import sys, twostep, twostep.core.tasks, twostep.analysis.stats, twostep.interfaces.cli, "
            "twostep.runs.bench, twostep.interfaces.env_bench; "
            "assert 'gymnasium' not in sys.modules, 'gymnasium imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ spaces and observations
@pytest.mark.parametrize("experiment, width", [("wang2018", 6), ("ritter2018-episodic", 17)])
def test_spaces_describe_the_packages_observation(experiment, width):
    env = TwoStepEnv(experiment)
    assert env.observation_space.shape == (width,) == (env.task.observation_size,)
    assert env.observation_space.dtype == np.float32
    assert (env.observation_space.low == 0).all() and (env.observation_space.high == 1).all()
    assert env.action_space == gym.spaces.Discrete(2)
    observation, _ = env.reset(seed=0)
    for _ in range(env.task.trials):
        observation, *_ = env.step(1)
        assert observation in env.observation_space


def test_config_can_be_a_task_config_a_bundled_name_or_a_yaml_file(tmp_path):
    config = load_experiment("ritter2018-episodic")
    path = tmp_path / "custom.yaml"
    path.write_text(config.with_changes(task={"common_prob": 0.7}).to_yaml())
    assert TwoStepEnv(config.task).config == TwoStepEnv("ritter2018-episodic").config
    assert TwoStepEnv(path).config.common_prob == 0.7
    assert gym.make("twostep/TwoStep-v0", config=path).unwrapped.config.kind == "episodic-two-step"


def test_bad_actions_and_steps_before_reset_are_refused():
    env = TwoStepEnv("wang2018")
    with pytest.raises(TwostepError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(TwostepError, match="0 or 1"):
        env.step(2)
    vector = TwoStepVectorEnv(2, "wang2018")
    vector.reset(seed=0)
    with pytest.raises(TwostepError, match="0 or 1"):
        vector.step(np.array([0, 2]))
    with pytest.raises(TwostepError, match="0 or 1"):
        vector.step(np.array([0, 1, 1]))


def test_an_episode_terminates_after_its_trials_and_then_needs_a_reset():
    env = TwoStepEnv("wang2018")
    env.reset(seed=0)
    ends = [env.step(0)[2] for _ in range(100)]
    assert ends == [False] * 99 + [True]
    with pytest.raises(TwostepError, match="reset"):
        env.step(0)


# ------------------------------------------------------------------ same seed, same trials
@pytest.mark.parametrize("experiment, task_class",
                         [("wang2018", TwoStepTask), ("ritter2018-episodic", EpisodicTwoStepTask)])
def test_a_seed_gives_the_same_trials_through_the_env_and_through_the_task(experiment, task_class):
    config = load_experiment(experiment).task
    choices = np.random.default_rng(5).integers(0, 2, (3, config.trials))
    env_obs, env_rewards, env_info = play_env(TwoStepEnv(config), 11, 3, choices)
    task_obs, task_rewards, task_info = play_task(task_class(config), 11, 3, choices)
    np.testing.assert_array_equal(env_obs, task_obs)
    np.testing.assert_array_equal(env_rewards, task_rewards)
    pd.testing.assert_frame_equal(env_info, task_info)
    expected = INFO_COLUMNS + (EPISODIC_COLUMNS if experiment != "wang2018" else [])
    assert list(env_info.columns) == expected


def test_different_seeds_give_different_episodes():
    choices = np.zeros((1, 100), dtype=int)
    _, _, first = play_env(TwoStepEnv("wang2018"), 1, 1, choices)
    _, _, second = play_env(TwoStepEnv("wang2018"), 2, 1, choices)
    assert not first.equals(second)


def test_vector_env_seed_plays_the_batched_task_with_that_seed():
    config = load_experiment("ritter2018-episodic").task
    env, task = TwoStepVectorEnv(5, config), EpisodicTwoStepTask(config)
    generator = torch.Generator().manual_seed(3)
    choices = np.random.default_rng(0).integers(0, 2, (2, config.trials, 5))
    observation, _ = env.reset(seed=3)
    for episode in range(2):
        np.testing.assert_array_equal(observation, task.reset((5,), generator).numpy())
        for t in range(config.trials):
            observation, reward, _, _, info = env.step(choices[episode, t])
            outcome, expected = task.step(torch.from_numpy(choices[episode, t]))
            np.testing.assert_array_equal(observation, expected.numpy())
            np.testing.assert_array_equal(reward, outcome.reward.numpy())
            for name, value in outcome.columns().items():
                np.testing.assert_array_equal(info[name], value.numpy())
        observation, *_ = env.step(choices[0, 0])  # autoreset: the next episode


def test_vector_env_with_a_seed_per_sub_env_plays_what_single_envs_play():
    seeds = [7, 8, 9]
    choices = np.random.default_rng(1).integers(0, 2, (1, 100, 3))
    vector = TwoStepVectorEnv(3, "wang2018")
    recorder = TrialRecorder()
    vector.reset(seed=seeds)
    for t in range(100):
        recorder.record(vector.step(choices[0, t])[4])
    table = recorder.frame()
    for i, seed in enumerate(seeds):
        _, _, single = play_env(TwoStepEnv("wang2018"), seed, 1, choices[:, :, i])
        ours = table[table.episode == i][INFO_COLUMNS].reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, single)


# ------------------------------------------------------------------ the vector API contract
def test_vector_env_steps_return_batched_arrays_in_the_declared_spaces():
    env = gym.make_vec("twostep/EpisodicTwoStep-v0", num_envs=4)
    assert env.observation_space.shape == (4, 17)
    assert env.action_space == gym.spaces.MultiDiscrete([2] * 4)
    assert env.single_observation_space.shape == (17,)
    assert env.single_action_space == gym.spaces.Discrete(2)
    observation, info = env.reset(seed=0)
    assert observation in env.observation_space and info == {}
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert observation in env.observation_space
    assert reward.shape == terminated.shape == truncated.shape == (4,)
    assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == bool
    for name in INFO_COLUMNS + EPISODIC_COLUMNS:
        assert info[name].shape == (4,) and info[f"_{name}"].all()
    second = env.step(env.action_space.sample())
    assert not np.shares_memory(second[0], observation)
    assert not np.shares_memory(second[4]["choice"], info["choice"])


def test_vector_env_autoresets_every_sub_env_on_the_step_after_the_last_trial():
    env = TwoStepVectorEnv(4, "wang2018")
    task = TwoStepTask(env.config)
    generator = torch.Generator().manual_seed(0)
    task.reset((4,), generator)  # the first episode; the autoreset draws the second
    env.reset(seed=0)
    actions = np.ones(4, dtype=int)
    for t in range(100):
        _, _, terminated, truncated, info = env.step(actions)
        assert terminated.all() == (t == 99) and not terminated.any() == (t != 99)
        assert not truncated.any() and (info["trial"] == t).all()
    observation, reward, terminated, truncated, info = env.step(actions)
    np.testing.assert_array_equal(observation, task.reset((4,), generator).numpy())
    assert (reward == 0).all() and not terminated.any() and not truncated.any() and info == {}
    _, _, _, _, info = env.step(actions)
    assert (info["trial"] == 0).all()


# ------------------------------------------------------------------ statistics of the bundled configs
def test_wang2018_env_common_rate_matches_the_config(wang_run):
    # 100k trials, p = 0.8: standard error 0.0013; tolerance 0.006.
    assert wang_run.common.mean() == pytest.approx(0.8, abs=0.006)


def test_wang2018_env_reward_rates_match_the_config(wang_run):
    good = wang_run.state == wang_run.good_state
    # about 50k trials each, p = 0.9 / 0.1: standard error 0.0013; tolerance 0.006.
    assert wang_run.reward[good].mean() == pytest.approx(0.9, abs=0.006)
    assert wang_run.reward[~good].mean() == pytest.approx(0.1, abs=0.006)


def test_wang2018_env_reversal_rate_matches_the_config(wang_run):
    swaps = wang_run.groupby("episode").good_state.diff().dropna().ne(0)
    # 99k trial boundaries, p = 0.025: standard error 0.0005; tolerance 0.0025.
    assert swaps.mean() == pytest.approx(0.025, abs=0.0025)


def test_ritter2018_env_rates_match_the_config_on_uncued_trials(ritter_run):
    uncued = ritter_run[ritter_run.cued == 0]
    good = uncued.state == uncued.good_state
    # 50k trials: common p = 0.9, s.e. 0.0013, tolerance 0.006; about 25k per reward rate,
    # s.e. 0.0019, tolerance 0.008.
    assert uncued.common.mean() == pytest.approx(0.9, abs=0.006)
    assert uncued.reward[good].mean() == pytest.approx(0.9, abs=0.008)
    assert uncued.reward[~good].mean() == pytest.approx(0.1, abs=0.008)
    swaps = ritter_run.groupby("episode").good_state.diff().dropna().ne(0)
    # 99k boundaries, p = 0.1: standard error 0.001; tolerance 0.005.
    assert swaps.mean() == pytest.approx(0.1, abs=0.005)


def test_ritter2018_env_cues_recall_each_uncued_trial_once_and_reinstate_its_reward(ritter_run):
    cued = ritter_run[ritter_run.cued == 1]
    assert (ritter_run.cued == (ritter_run.trial >= 50)).all()
    first_half = cued[cued.trial < 75].groupby("episode").cue_trial.apply(sorted)
    assert all(recalled == list(range(25)) for recalled in first_half)
    recalled = ritter_run.set_index(["episode", "trial"]).loc[
        list(zip(cued.episode, cued.cue_trial, strict=True))]
    same_state = cued.state.to_numpy() == recalled.state.to_numpy()
    np.testing.assert_array_equal(cued.reward.to_numpy()[same_state],
                                  recalled.reward.to_numpy()[same_state])


# ------------------------------------------------------------------ the trial recorder
def test_recorder_writes_the_trial_table_columns_and_analyze_reads_it(tmp_path, capsys):
    env = gym.make("twostep/TwoStep-v0")
    recorder = TrialRecorder(seed=4)
    choices = np.random.default_rng(0).integers(0, 2, (20, 100))
    env.reset(seed=0)
    for episode in range(20):
        if episode:
            env.reset()
        for t in range(100):
            recorder.record(env.step(int(choices[episode, t]))[4])
    path = recorder.to_csv(tmp_path / "trials.csv")
    table = read_trial_table(path)
    assert list(table.columns) == TRIAL_COLUMNS
    assert len(table) == len(recorder) == 2000
    assert (table.seed == 4).all() and table.episode.nunique() == 20
    assert main(["analyze", str(path)]) == 0
    assert "rewarded" in capsys.readouterr().out
    assert main(["fit", str(path), "--out", str(tmp_path / "fits.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "fits.csv")) == 1


def test_recorder_table_equals_the_packages_trial_frame(ritter_run):
    config = load_experiment("ritter2018-episodic").task
    task = EpisodicTwoStepTask(config)
    generator, choices = torch.Generator().manual_seed(0), []
    task.reset((EPISODES,), generator)
    env = TwoStepVectorEnv(EPISODES, config)
    env.reset(seed=0)
    env.action_space.seed(0)
    outcomes = []
    for _ in range(config.trials):
        choices.append(env.action_space.sample())
        outcomes.append(task.step(torch.from_numpy(choices[-1]))[0])
    expected = trial_frame([type(o)(**{k: v.unsqueeze(0) for k, v in o.columns().items()})
                            for o in outcomes], seeds=[0])
    pd.testing.assert_frame_equal(ritter_run, expected)


def test_episodic_recorder_table_passes_analyze(ritter_run, tmp_path):
    path = tmp_path / "episodic.csv"
    ritter_run[ritter_run.episode < 50].to_csv(path, index=False)
    assert list(read_trial_table(path).columns) == TRIAL_COLUMNS + EPISODIC_COLUMNS
    assert main(["analyze", str(path)]) == 0
    assert main(["fit", str(path)]) == 0  # the uncued trials, by default


def test_recorder_skips_autoreset_steps_and_numbers_episodes_in_order():
    env = TwoStepVectorEnv(2, "wang2018")
    recorder = TrialRecorder()
    env.reset(seed=0)
    for _ in range(3 * 101):
        recorder.record(env.step(np.zeros(2, dtype=int))[4])
    table = recorder.frame()
    assert len(table) == 600
    assert table.groupby("episode").trial.apply(list).tolist() == [list(range(100))] * 6


def test_recorder_refuses_to_start_mid_episode_and_foreign_infos():
    env = TwoStepEnv("wang2018")
    env.reset(seed=0)
    env.step(0)
    recorder = TrialRecorder()
    with pytest.raises(TwostepError, match="mid-episode"):
        recorder.record(env.step(0)[4])
    with pytest.raises(TwostepError, match="lacks"):
        TrialRecorder().record({"trial": 0})
    with pytest.raises(TwostepError, match="no trials"):
        TrialRecorder().frame()
