import pandas as pd
import pytest
import torch

from twostep.errors import TwostepError
from twostep.rollout import discounted_returns
from twostep.train import evaluate, load_model, read_checkpoint, train


def test_discounted_returns_match_the_recursion():
    reward = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    gamma = 0.9
    expected, running = [], 0.0
    for r in reversed(reward[0].tolist()):
        running = r + gamma * running
        expected.insert(0, running)
    torch.testing.assert_close(discounted_returns(reward, gamma)[0], torch.tensor(expected))


def test_a_resumed_run_ends_with_bitwise_the_same_weights(tmp_path, tiny_wang):
    train(tiny_wang, tmp_path / "straight", progress=False)
    train(tiny_wang, tmp_path / "interrupted", progress=False, stop_after=3)
    assert read_checkpoint(tmp_path / "interrupted")["update"] == 3
    train(tiny_wang, tmp_path / "interrupted", resume=True, progress=False)
    straight = read_checkpoint(tmp_path / "straight")
    resumed = read_checkpoint(tmp_path / "interrupted")
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
    # every column but the wall-clock one is the same
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "straight" / "metrics.csv").drop(columns="seconds"),
        pd.read_csv(tmp_path / "interrupted" / "metrics.csv").drop(columns="seconds"))


def test_training_writes_one_metrics_row_per_update_per_seed(tmp_path, tiny_wang):
    metrics = train(tiny_wang, tmp_path / "run", progress=False)
    assert len(metrics) == tiny_wang.train.updates * tiny_wang.train.seeds
    assert {"update", "seed", "episodes", "reward", "policy_loss", "value_loss",
            "entropy"} <= set(metrics.columns)
    assert metrics.reward.between(0, 100).all()


def test_a_run_folder_is_never_overwritten(tmp_path, tiny_wang):
    train(tiny_wang, tmp_path / "run", progress=False)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(TwostepError, match="already holds a run"):
        train(tiny_wang, tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before


def test_resume_with_a_different_config_is_refused(tmp_path, tiny_wang):
    train(tiny_wang, tmp_path / "run", progress=False, stop_after=2)
    with pytest.raises(TwostepError, match="different config"):
        train(tiny_wang.with_overrides(lr=0.5), tmp_path / "run", resume=True, progress=False)


def test_missing_and_corrupt_checkpoints_raise_clear_errors(tmp_path, tiny_wang):
    with pytest.raises(TwostepError, match="no checkpoint"):
        load_model(tmp_path / "nothing")
    train(tiny_wang, tmp_path / "run", progress=False)
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(TwostepError, match="corrupt checkpoint"):
        load_model(tmp_path / "run")


def test_evaluation_logs_every_test_trial(tmp_path, tiny_wang):
    train(tiny_wang, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    trials = evaluate(model, config, episodes=7)
    assert len(trials) == 7 * 100 * 2
    assert list(trials.columns[:8]) == ["seed", "episode", "trial", "choice", "state", "common",
                                        "reward", "good_state"]


def test_retrieval_can_be_lesioned_at_test_time(tmp_path):
    from twostep.config import load_experiment

    config = load_experiment("ritter2018-episodic").with_overrides(
        seeds=1, episodes=4, batch_size=4, eval_episodes=2)
    train(config, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    _, with_memory = evaluate(model, config, record_internals=True)
    _, lesioned = evaluate(model, config, record_internals=True, retrieval="off")
    assert (with_memory["retrieved_trial"][..., 50:] >= 0).all()
    assert (lesioned["retrieved_trial"] == -1).all()


def test_lesioning_needs_a_reinstatement_gate(tmp_path, tiny_wang):
    train(tiny_wang, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    with pytest.raises(TwostepError):
        evaluate(model, config, retrieval="knn")


def _evaluate_in_subprocess(run_dir):
    from twostep.train import evaluate_or_load

    return len(evaluate_or_load(run_dir))


def test_two_processes_can_ask_for_the_same_evaluation_at_once(tmp_path, tiny_wang):
    import multiprocessing

    train(tiny_wang, tmp_path / "run", progress=False)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        sizes = pool.map(_evaluate_in_subprocess, [tmp_path / "run"] * 4)
    assert sizes == [2 * 5 * 100] * 4
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_snapshots_along_training_are_kept_and_evaluated(tmp_path):
    from twostep.config import load_experiment
    from twostep.train import evaluate_snapshots_or_load, snapshot_updates

    config = load_experiment("ritter2018-episodic").with_overrides(
        seeds=1, episodes=12, batch_size=4, eval_episodes=2, snapshot_every=2)
    train(config, tmp_path / "run", progress=False)
    assert snapshot_updates(tmp_path / "run") == [2, 3]  # every 2 updates, and the last
    trials = evaluate_snapshots_or_load(tmp_path / "run")
    assert sorted(trials["update"].unique()) == [2, 3]
    final = trials[trials["update"] == 3].drop(columns=["update", "episodes"])
    model, config = load_model(tmp_path / "run")
    pd.testing.assert_frame_equal(final.reset_index(drop=True), evaluate(model, config),
                                  check_dtype=False)
