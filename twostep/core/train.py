"""Synchronous batched A2C over whole episodes, for several seeds at once.

:func:`update_step` plays one batch of episodes per seed and takes one optimiser
step; :func:`train` repeats it and returns the state and the metrics. Nothing here
touches a file: run folders, checkpoints, resuming and the run cache live in
:mod:`twostep.runs`. Every random number comes from per-seed generators
(:mod:`twostep.core.seeding`) carried in the state, so a run continued from a saved
state ends with bitwise the same weights as an uninterrupted one (on the CPU).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch
from tqdm.auto import tqdm

from twostep.core.build import build_model, task_for
from twostep.core.config import ExperimentConfig
from twostep.core.devices import resolve_device
from twostep.core.engine import PLAY, resolve_engine
from twostep.core.limits import check_training_fits
from twostep.core.models import RecurrentActorCritic
from twostep.core.rollout import a2c_loss
from twostep.core.seeding import TRAIN_STREAM, generators
from twostep.core.tasks import TwoStepTask
from twostep.errors import TwostepError

SLOW_BUDGET_SECONDS = 60.0
"""Estimated training times above this are announced before the bulk of the work."""


def seed_list(config: ExperimentConfig) -> list[int]:
    """The experiment's seeds, ``first_seed .. first_seed + seeds - 1``."""
    first = config.train.first_seed
    return list(range(first, first + config.train.seeds))


@dataclass
class TrainState:
    """Everything a run needs to continue where it stopped; ``engine``: how its updates are
    computed (:mod:`twostep.core.engine`)."""

    model: RecurrentActorCritic
    optimizer: torch.optim.Optimizer
    generators: list[torch.Generator]
    update: int
    metrics: list[dict]
    engine: str = "reference"


def learning_rate_scale(config: ExperimentConfig, update: int) -> float:
    """Linear warm-up over ``warmup_updates``, then 1."""
    warmup = config.train.warmup_updates
    return min(1.0, (update + 1) / warmup) if warmup else 1.0


def new_state(config: ExperimentConfig, device: torch.device | str = "cpu") -> TrainState:
    """Freshly initialised networks, optimiser and training generators."""
    device = torch.device(device)
    engine = resolve_engine(config, device)
    task = task_for(config)
    seeds = seed_list(config)
    model = build_model(config, task, seeds).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=config.train.lr,
                                    alpha=config.train.rmsprop_alpha, eps=config.train.rmsprop_eps)
    return TrainState(model, optimizer, generators(seeds, TRAIN_STREAM), 0, [], engine)


def clip_grad_norm_per_seed(model: RecurrentActorCritic, max_norm: float | None) -> torch.Tensor:
    """Scale each seed's gradient to norm at most ``max_norm``; return the norms ``[S]``.

    The norm of seed ``s`` is over every parameter's slice ``[s]``, so one seed's
    large gradient never shrinks another's.
    """
    grads = [p.grad for p in model.parameters()]
    squared = sum(g.pow(2).flatten(1).sum(1) for g in grads)
    norms = squared.sqrt()
    if max_norm is not None:
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
    return norms


def update_step(state: TrainState, config: ExperimentConfig, task: TwoStepTask) -> list[dict]:
    """Play one batch per seed, take one optimiser step; return one metrics row per seed."""
    train = config.train
    scale = learning_rate_scale(config, state.update)
    for group in state.optimizer.param_groups:
        group["lr"] = train.lr * scale
    rollout = PLAY[state.engine](state.model, task, config, state.generators, train.batch_size)
    losses = a2c_loss(rollout, config)
    state.optimizer.zero_grad(set_to_none=False)
    losses.total.sum().backward()
    norms = clip_grad_norm_per_seed(state.model, train.max_grad_norm)
    state.optimizer.step()
    state.update += 1
    T = task.trials
    # one transfer per update (not one per value): columns [S, 5] -> rows
    per_seed = torch.stack([rollout.reward.sum(-1).mean(-1), losses.policy, losses.value,
                            losses.entropy / T, norms], dim=-1).detach().cpu().tolist()
    rows = []
    for seed, (reward, policy, value, entropy, norm) in zip(state.model.seeds, per_seed,
                                                            strict=True):
        rows.append({
            "update": state.update,
            "seed": seed,
            "episodes": state.update * train.batch_size,
            "reward": reward,
            "policy_loss": policy,
            "value_loss": value,
            "entropy": entropy,
            "grad_norm": norm,
            "lr": train.lr * scale,
        })
    return rows


def check_finite_losses(rows: list[dict], update: int, lr: float) -> None:
    """Stop a run that diverged: a non-finite loss never gets into a checkpoint."""
    for row in rows:
        for key in ("policy_loss", "value_loss", "entropy", "grad_norm"):
            if not math.isfinite(row[key]):
                raise TwostepError(
                    f"training diverged at update {update}: {key} is {row[key]} for seed "
                    f"{row['seed']}; lower train.lr (now {lr:g}) or check the config's "
                    "temperatures; the last finite checkpoint is kept")


def format_duration(seconds: float) -> str:
    """A duration as a person reads it: seconds, minutes, hours, days or years."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365 * 86400):,.3g} years"


def budget_message(seconds_per_update: float, updates_left: int) -> str | None:
    """One line announcing a long run, or None for a short one."""
    total = seconds_per_update * updates_left
    if total < SLOW_BUDGET_SECONDS:
        return None
    return (f"estimated training time: {format_duration(total)} ({updates_left:,} updates "
            f"left at {seconds_per_update:.3g} s each, measured); Ctrl-C keeps the last "
            "checkpoint, continue with --resume")


def train(config: ExperimentConfig, state: TrainState | None = None,
          device: str | torch.device = "auto", progress: bool = True,
          max_updates: int | None = None,
          on_update: Callable[[TrainState], None] | None = None,
          ) -> tuple[TrainState, pd.DataFrame]:
    """Train ``config.train.seeds`` networks; return the state and the metrics table.

    Args:
        state: continue this state (as saved after an interruption); fresh if None.
        device: where a fresh state is built (a given state stays where it is).
        max_updates: stop once this many updates are done in total, as an
            interruption would (``config.train.updates`` at most).
        on_update: called with the state after every update (e.g. to checkpoint it).

    Metrics: one row per update per seed; ``seconds`` is the wall time of training so
    far, counting earlier sessions of a resumed run. A run that would not fit in memory
    is refused before it starts (:mod:`twostep.core.limits`), and one whose losses turn
    non-finite is stopped (:func:`check_finite_losses`).
    """
    if state is None:
        device = resolve_device(device)
        check_training_fits(config, device)
        state = new_state(config, device)
    task = task_for(config, state.model.weight.device)
    total = config.train.updates if max_updates is None else min(max_updates, config.train.updates)
    bar = tqdm(total=config.train.updates, initial=state.update, disable=not progress,
               desc=config.name, unit="update")
    started = time.perf_counter()
    first_update = state.update
    seconds_before = state.metrics[-1].get("seconds", 0.0) if state.metrics else 0.0
    while state.update < total:
        rows = update_step(state, config, task)
        check_finite_losses(rows, state.update, config.train.lr)
        elapsed = seconds_before + time.perf_counter() - started
        for row in rows:
            row["seconds"] = round(elapsed, 3)
        state.metrics.extend(rows)
        if on_update is not None:
            on_update(state)
        if state.update == first_update + 1 and progress:
            # after on_update, so that a checkpoint it writes exists when the message
            # (which says Ctrl-C keeps it) appears
            message = budget_message(elapsed - seconds_before, config.train.updates - state.update)
            if message:
                tqdm.write(message, file=sys.stderr)
        reward = sum(r["reward"] for r in rows) / len(rows)
        done = state.update - first_update
        steps_per_s = done * config.train.batch_size * len(rows) * task.trials / max(
            time.perf_counter() - started, 1e-9)
        bar.set_postfix(reward=f"{reward:.1f}", steps_s=f"{steps_per_s:,.0f}")
        bar.update(1)
    bar.close()
    return state, pd.DataFrame(state.metrics)
