import pandas as pd
import pytest
import torch
from helpers import tiny

from twostep.core.build import task_for
from twostep.core.evaluation import evaluate
from twostep.core.models import RecurrentActorCritic
from twostep.core.rollout import Rollout, a2c_loss, discounted_returns, play
from twostep.core.train import clip_grad_norm_per_seed, new_state, train
from twostep.errors import TwostepError
from twostep.runs.checkpoints import load_model, read_checkpoint
from twostep.runs.store import train_run


def test_discounted_returns_match_the_recursion():
    reward = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    gamma = 0.9
    expected, running = [], 0.0
    for r in reversed(reward[0].tolist()):
        running = r + gamma * running
        expected.insert(0, running)
    torch.testing.assert_close(discounted_returns(reward, gamma)[0], torch.tensor(expected))


def test_a2c_loss_matches_a_hand_computed_example(tiny_wang):
    # gamma 0.5, value weight 0.1, entropy weight 0.01; one seed, two episodes of two trials.
    # Episode 0: rewards (1, 2) -> returns R = (1 + 0.5 * 2, 2) = (2, 2); values (0.5, 1.5)
    # -> advantages (1.5, 0.5). policy = -(-0.2 * 1.5 - 0.7 * 0.5) = 0.65;
    # value = 0.5 * (1.5**2 + 0.5**2) = 1.25; entropy = 0.6 + 0.4 = 1.0.
    # Episode 1: all zero, so every term is 0; the batch mean halves episode 0's terms.
    config = tiny_wang.with_changes(train={"gamma": 0.5, "value_weight": 0.1,
                                           "entropy_weight": 0.01})
    rollout = Rollout(log_prob=torch.tensor([[[-0.2, -0.7], [-1.0, -1.0]]]),
                      entropy=torch.tensor([[[0.6, 0.4], [0.0, 0.0]]]),
                      value=torch.tensor([[[0.5, 1.5], [0.0, 0.0]]]),
                      reward=torch.tensor([[[1.0, 2.0], [0.0, 0.0]]]), outcomes=[])
    losses = a2c_loss(rollout, config)
    torch.testing.assert_close(losses.policy, torch.tensor([0.325]))
    torch.testing.assert_close(losses.value, torch.tensor([0.625]))
    torch.testing.assert_close(losses.entropy, torch.tensor([0.5]))
    torch.testing.assert_close(losses.total, torch.tensor([0.325 + 0.1 * 0.625 - 0.01 * 0.5]))


def test_gradient_clipping_is_per_seed_and_leaves_small_gradients_alone():
    model = RecurrentActorCritic(input_size=3, hidden_size=4, n_actions=2, seeds=[0, 1])
    for p in model.parameters():
        p.grad = torch.ones_like(p)
        p.grad[0] *= 100.0   # seed 0: a large gradient
        p.grad[1] *= 1e-3    # seed 1: a small one
    small_before = [p.grad[1].clone() for p in model.parameters()]
    norms = clip_grad_norm_per_seed(model, max_norm=1.0)
    assert norms[0] > 100 and norms[1] < 1
    clipped = torch.sqrt(sum(p.grad[0].pow(2).sum() for p in model.parameters()))
    torch.testing.assert_close(clipped, torch.tensor(1.0), rtol=1e-4, atol=0)
    for p, before in zip(model.parameters(), small_before, strict=True):
        assert torch.equal(p.grad[1], before)


def test_training_stopped_after_k_updates_continues_to_bitwise_the_same_result(tiny_wang):
    straight, straight_metrics = train(tiny_wang, device="cpu", progress=False)
    stopped, _ = train(tiny_wang, device="cpu", progress=False, max_updates=2)
    assert stopped.update == 2 < tiny_wang.train.updates
    resumed, resumed_metrics = train(tiny_wang, state=stopped, progress=False)
    assert resumed.update == straight.update == tiny_wang.train.updates
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(tensor, resumed.model.state_dict()[name]), name
    pd.testing.assert_frame_equal(straight_metrics.drop(columns="seconds"),
                                  resumed_metrics.drop(columns="seconds"))


def test_training_touches_no_file(tmp_path, monkeypatch, tiny_wang):
    monkeypatch.chdir(tmp_path)
    state, metrics = train(tiny_wang, device="cpu", progress=False, max_updates=1)
    assert len(metrics) == tiny_wang.train.seeds and state.update == 1
    assert list(tmp_path.iterdir()) == []


def test_a_resumed_run_ends_with_bitwise_the_same_weights(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "straight", progress=False)
    train_run(tiny_wang, tmp_path / "interrupted", progress=False, stop_after=3)
    assert read_checkpoint(tmp_path / "interrupted")["update"] == 3
    train_run(tiny_wang, tmp_path / "interrupted", resume=True, progress=False)
    straight = read_checkpoint(tmp_path / "straight")
    resumed = read_checkpoint(tmp_path / "interrupted")
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
    # every column but the wall-clock one is the same
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "straight" / "metrics.csv").drop(columns="seconds"),
        pd.read_csv(tmp_path / "interrupted" / "metrics.csv").drop(columns="seconds"))


def test_training_writes_one_metrics_row_per_update_per_seed(tmp_path, tiny_wang):
    metrics = train_run(tiny_wang, tmp_path / "run", progress=False)
    assert len(metrics) == tiny_wang.train.updates * tiny_wang.train.seeds
    assert {"update", "seed", "episodes", "reward", "policy_loss", "value_loss",
            "entropy"} <= set(metrics.columns)
    assert metrics.reward.between(0, 100).all()


def test_a_run_folder_is_never_overwritten(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "run", progress=False)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(TwostepError, match="already holds a run"):
        train_run(tiny_wang, tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before


def test_resume_with_a_different_config_is_refused(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "run", progress=False, stop_after=2)
    with pytest.raises(TwostepError, match="different config"):
        train_run(tiny_wang.with_changes(train={"lr": 0.5}), tmp_path / "run", resume=True,
                  progress=False)


def test_missing_and_corrupt_checkpoints_raise_clear_errors(tmp_path, tiny_wang):
    with pytest.raises(TwostepError, match="no checkpoint"):
        load_model(tmp_path / "nothing")
    train_run(tiny_wang, tmp_path / "run", progress=False)
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(TwostepError, match="corrupt checkpoint"):
        load_model(tmp_path / "run")


def test_evaluation_logs_every_test_trial(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    trials = evaluate(model, config, episodes=7).trials
    assert len(trials) == 7 * 100 * 2
    assert list(trials.columns[:8]) == ["seed", "episode", "trial", "choice", "state", "common",
                                        "reward", "good_state"]


def test_retrieval_can_be_lesioned_at_test_time(tmp_path):
    config = tiny("ritter2018-episodic", seeds=1, episodes=4, eval_episodes=2)
    train_run(config, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    with_memory = evaluate(model, config, record_internals=True).internals
    lesioned = evaluate(model, config, record_internals=True, retrieval="off").internals
    assert (with_memory["retrieved_trial"][..., 50:] >= 0).all()
    assert (lesioned["retrieved_trial"] == -1).all()


def test_lesioning_needs_a_reinstatement_gate(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    with pytest.raises(TwostepError):
        evaluate(model, config, retrieval="knn")


def test_evaluation_refuses_zero_episodes(tmp_path, tiny_wang):
    train_run(tiny_wang, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    with pytest.raises(TwostepError, match="at least one episode"):
        evaluate(model, config, episodes=0)


def test_evaluation_returns_the_task_it_played_and_the_network_inputs(tmp_path):
    config = tiny("ritter2018-episodic", seeds=1, episodes=4, eval_episodes=3)
    train_run(config, tmp_path / "run", progress=False)
    model, config = load_model(tmp_path / "run")
    result = evaluate(model, config, record_internals=True)
    cue_trial = torch.tensor(result.trials["cue_trial"].to_numpy()).view(1, 3, 100)
    assert torch.equal(result.task.cue_trials, cue_trial)
    observation = result.internals["observation"]
    assert observation.shape == (1, 3, 100, model.input_size)
    assert torch.equal(observation[..., 50:, 7:], result.task.cues[..., 50:, :])


def _evaluate_in_subprocess(run_dir):
    from twostep.runs.store import evaluate_or_load

    return len(evaluate_or_load(run_dir))


def test_two_processes_can_ask_for_the_same_evaluation_at_once(tmp_path, tiny_wang):
    import multiprocessing

    train_run(tiny_wang, tmp_path / "run", progress=False)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        sizes = pool.map(_evaluate_in_subprocess, [tmp_path / "run"] * 4)
    assert sizes == [2 * 5 * 100] * 4
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_snapshots_along_training_are_kept_and_evaluated(tmp_path):
    from twostep.runs.store import evaluate_snapshots_or_load, snapshot_updates

    config = tiny("ritter2018-episodic", seeds=1, episodes=12, eval_episodes=2, snapshot_every=2)
    train_run(config, tmp_path / "run", progress=False)
    assert snapshot_updates(tmp_path / "run") == [2, 3]  # every 2 updates, and the last
    trials = evaluate_snapshots_or_load(tmp_path / "run")
    assert sorted(trials["update"].unique()) == [2, 3]
    final = trials[trials["update"] == 3].drop(columns=["update", "episodes"])
    model, config = load_model(tmp_path / "run")
    pd.testing.assert_frame_equal(final.reset_index(drop=True), evaluate(model, config).trials,
                                  check_dtype=False)


# ---------------------------------------------------------------- seeds, warm-up
def _alone_and_beside_others(experiment: str, **train_changes):
    """Seed 5 trained with seeds 4 and 6 beside it, and alone (tiny budget)."""
    beside = tiny(experiment, seeds=3, first_seed=4, **train_changes)
    alone = tiny(experiment, seeds=1, first_seed=5, **train_changes)
    return beside, alone


@pytest.mark.parametrize("experiment", ["wang2018", "ritter2018-episodic"])
def test_a_seed_plays_bitwise_the_same_episodes_beside_others_as_alone(experiment):
    # seeding.py's promise through one update's forward pass: weights, task draws, action
    # noise and (episodic agent) memory reads of seed 5 do not depend on seeds 4 and 6
    beside, alone = _alone_and_beside_others(experiment)
    states = {"beside": new_state(beside), "alone": new_state(alone)}
    plays = {label: play(state.model, task_for(config), config, state.generators, 4)
             for (label, state), config in zip(states.items(), (beside, alone), strict=True)}
    for name in ("log_prob", "entropy", "value", "reward"):
        assert torch.equal(getattr(plays["beside"], name)[1], getattr(plays["alone"], name)[0]), name
    assert not torch.equal(plays["beside"].value[0], plays["beside"].value[1])  # seeds differ


@pytest.mark.parametrize("experiment", ["wang2018", "ritter2018-episodic"])
def test_a_seed_trained_beside_others_ends_with_bitwise_the_weights_it_has_trained_alone(
        experiment):
    beside, alone = _alone_and_beside_others(experiment, episodes=12)
    together, _ = train(beside, device="cpu", progress=False)
    by_itself, _ = train(alone, device="cpu", progress=False)
    assert together.model.seeds == [4, 5, 6] and by_itself.model.seeds == [5]
    assert together.update == by_itself.update == 3
    for name, weights in together.model.state_dict().items():
        assert torch.equal(weights[1], by_itself.model.state_dict()[name][0]), name


def test_warm_up_ramps_the_learning_rate_linearly_then_holds_it():
    config = tiny("wang2018", warmup_updates=4, lr=0.02)
    seen = []
    state, metrics = train(config, device="cpu", progress=False,
                           on_update=lambda s: seen.append(s.optimizer.param_groups[0]["lr"]))
    expected = [0.005, 0.01, 0.015, 0.02, 0.02, 0.02]  # lr * min(1, update / 4)
    assert seen == pytest.approx(expected, rel=1e-12)
    per_update = metrics.groupby("update")["lr"].agg(["min", "max"])
    assert per_update["min"].tolist() == per_update["max"].tolist() == pytest.approx(expected)
    without, _ = train(tiny("wang2018", lr=0.02), device="cpu", progress=False)
    assert not torch.equal(state.model.weight, without.model.weight)
    # with warm-up the first steps are smaller: the weights moved less from the same start
    start = RecurrentActorCritic(state.model.input_size, state.model.hidden_size,
                                 state.model.n_actions, seeds=state.model.seeds).weight
    first, _ = train(config, device="cpu", progress=False, max_updates=1)
    first_without, _ = train(tiny("wang2018", lr=0.02), device="cpu", progress=False,
                             max_updates=1)
    assert (first.model.weight - start).abs().max() < (first_without.model.weight - start).abs().max()
