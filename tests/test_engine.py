"""The compiled engine against the reference one: the same episodes, the same losses and
gradients within float rounding, update after update."""

import pytest
import torch

from twostep.core.build import task_for
from twostep.core.config import load_experiment
from twostep.core.engine import PLAY, resolve_engine
from twostep.core.evaluation import evaluate
from twostep.core.rollout import a2c_loss
from twostep.core.train import new_state, update_step
from twostep.errors import TwostepError
from twostep.runs.store import run_dir_for, run_identity

TOLERANCE = 1e-5
"""Largest relative difference allowed, per tensor: max |new - reference| / max |reference|.
Float32 sums in another order differ by a few 1e-7 of the largest term."""

CASES = {
    "lstm": ("wang2018", {}),
    "eplstm, 1-NN": ("ritter2018-episodic", {}),
    "eplstm, k-NN": ("ritter2018-episodic-fitted", {}),
    "eplstm, no retrieval": ("ritter2018-incremental", {}),
    "eplstm, values detached, cues with replacement": (
        "ritter2018-episodic", {"model": {"detach_stored_values": True},
                                "task": {"cue_sampling": "replacement"}}),
}


def _copy(generators):
    copies = []
    for generator in generators:
        copy = torch.Generator()
        copy.set_state(generator.get_state())
        copies.append(copy)
    return copies


def _one_update(engine, state, config, task):
    """Loss terms, per-trial outputs and gradients of one update, without stepping."""
    for parameter in state.model.parameters():
        parameter.grad = None
    rollout = PLAY[engine](state.model, task, config, _copy(state.generators),
                           config.train.batch_size)
    losses = a2c_loss(rollout, config)
    losses.total.sum().backward()
    found = {"log_prob": rollout.log_prob, "entropy": rollout.entropy, "value": rollout.value,
             "policy_loss": losses.policy, "value_loss": losses.value,
             "entropy_term": losses.entropy}
    found = {name: tensor.detach().clone() for name, tensor in found.items()}
    found.update({f"grad {name}": p.grad.clone() for name, p in state.model.named_parameters()})
    choices = torch.stack([outcome.choice for outcome in rollout.outcomes], dim=-1)
    return found, choices


def _relative(new, reference):
    return ((new - reference).abs().max() / reference.abs().max().clamp_min(1e-12)).item()


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_engine_gives_the_reference_losses_and_gradients_for_20_updates(case):
    name, changes = CASES[case]
    config = load_experiment(name).with_changes(train={"seeds": 2, "batch_size": 4}, **changes)
    state = new_state(config, "cpu")
    task = task_for(config)
    worst = {}
    for _ in range(20):
        reference, reference_choices = _one_update("reference", state, config, task)
        compiled, compiled_choices = _one_update("compiled", state, config, task)
        assert torch.equal(compiled_choices, reference_choices)
        for key in reference:
            worst[key] = max(worst.get(key, 0.0), _relative(compiled[key], reference[key]))
        update_step(state, config, task)  # on along the reference engine's trajectory
    assert max(worst.values()) <= TOLERANCE, worst


def test_compiled_engine_records_what_the_reference_records():
    config = load_experiment("ritter2018-episodic").with_changes(train={"seeds": 2})
    model = new_state(config, "cpu").model
    found = {engine: evaluate(model, config, episodes=3, record_internals=True, engine=engine)
             for engine in ("reference", "compiled")}
    assert found["compiled"].trials.equals(found["reference"].trials)
    reference, compiled = found["reference"].internals, found["compiled"].internals
    assert reference.keys() == compiled.keys()
    assert torch.equal(compiled["observation"], reference["observation"])
    assert torch.equal(compiled["retrieved_trial"], reference["retrieved_trial"])
    for key in ("hidden", "reinstatement_gate"):
        assert _relative(compiled[key], reference[key]) <= TOLERANCE, key


def test_auto_means_compiled_on_the_cpu_and_compiled_is_cpu_only():
    config = load_experiment("wang2018")
    assert resolve_engine(config, torch.device("cpu")) == "compiled"
    assert resolve_engine(config, torch.device("cuda")) == "reference"
    forced = config.with_changes(train={"engine": "compiled"})
    with pytest.raises(TwostepError, match="CPU only"):
        resolve_engine(forced, torch.device("cuda"))


def test_a_runs_identity_holds_its_device_and_engine(tmp_path):
    config = load_experiment("wang2018")
    assert run_identity(config, "cpu")["device"] == "cpu"
    assert run_identity(config, "cpu")["engine"] == "compiled"
    cpu = run_dir_for(config, tmp_path, "cpu")
    assert run_dir_for(config, tmp_path, "cuda") != cpu
    assert run_dir_for(config.with_changes(train={"engine": "reference"}), tmp_path, "cpu") != cpu
    # naming the default explicitly is the same run
    assert run_dir_for(config.with_changes(train={"engine": "compiled"}), tmp_path, "cpu") == cpu
