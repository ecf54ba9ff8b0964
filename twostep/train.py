"""Synchronous batched A2C over whole episodes, for several seeds at once.

A run lives in one folder::

    RUN_DIR/config.yaml     the experiment, exactly as trained
    RUN_DIR/checkpoint.pt   weights, optimiser, generator states, metrics so far
    RUN_DIR/metrics.csv     one row per update per seed (``seconds``: wall time so far)
    RUN_DIR/trials.csv      (after evaluation) one row per test trial

Checkpoints are written atomically every ``checkpoint_every`` updates and at the
end. :func:`train` with ``resume=True`` continues from the checkpoint; on the CPU
a resumed run ends with bitwise the same weights as an uninterrupted one, since
every random number comes from per-seed generators saved in the checkpoint.

Randomness: seed ``s`` draws its initial weights from generator ``s``, its
training episodes and action noise from ``s + 1_000_000`` and its test episodes
from ``s + 2_000_000``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from twostep.config import ExperimentConfig, parse_experiment
from twostep.errors import TwostepError
from twostep.guards import (
    budget_message,
    check_checkpoint_fields,
    check_device_type,
    check_finite_losses,
    check_training_fits,
)
from twostep.logs import trial_frame
from twostep.models import RecurrentActorCritic
from twostep.rollout import a2c_loss, build_model, play
from twostep.safe_io import RUN_FILES, claim, folder_lock, write_text
from twostep.tasks import make_task

TRAIN_STREAM = 1_000_000
TEST_STREAM = 2_000_000
CHECKPOINT_FORMAT = 1


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto`` means CUDA when available, else CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise TwostepError(f"unknown device '{device}' (use cpu, cuda or auto)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TwostepError("device 'cuda' asked for, but no CUDA device is available")
    check_device_type(resolved)
    return resolved


def seed_list(config: ExperimentConfig) -> list[int]:
    first = config.train.first_seed
    return list(range(first, first + config.train.seeds))


def generators(seeds: list[int], stream: int) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + stream) for seed in seeds]


@dataclass
class TrainState:
    """Everything a run needs to continue where it stopped."""

    model: RecurrentActorCritic
    optimizer: torch.optim.Optimizer
    generators: list[torch.Generator]
    update: int
    metrics: list[dict]


def _learning_rate_scale(config: ExperimentConfig):
    warmup = config.train.warmup_updates
    return lambda update: min(1.0, (update + 1) / warmup) if warmup else 1.0


def new_state(config: ExperimentConfig, device: torch.device) -> TrainState:
    task = make_task(config.task)
    seeds = seed_list(config)
    model = build_model(config, task, seeds).to(device)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=config.train.lr,
                                    alpha=config.train.rmsprop_alpha, eps=config.train.rmsprop_eps)
    return TrainState(model, optimizer, generators(seeds, TRAIN_STREAM), 0, [])


def _clip_per_seed(model: RecurrentActorCritic, max_norm: float | None) -> torch.Tensor:
    """Scale each seed's gradient to norm at most ``max_norm``; return the norms ``[S]``."""
    grads = [p.grad for p in model.parameters()]
    squared = sum(g.pow(2).flatten(1).sum(1) for g in grads)
    norms = squared.sqrt()
    if max_norm is not None:
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
    return norms


def update_step(state: TrainState, config: ExperimentConfig, task) -> list[dict]:
    """Play one batch per seed, take one optimiser step; return one metrics row per seed."""
    train = config.train
    scale = _learning_rate_scale(config)(state.update)
    for group in state.optimizer.param_groups:
        group["lr"] = train.lr * scale
    rollout = play(state.model, task, config, state.generators, train.batch_size)
    losses = a2c_loss(rollout, config)
    state.optimizer.zero_grad(set_to_none=False)
    losses.total.sum().backward()
    norms = _clip_per_seed(state.model, train.max_grad_norm)
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


# ---------------------------------------------------------------------- files
def _atomic_write_bytes(path: Path, write) -> None:
    """Write through a temporary file of this process, then rename: readers never see
    a half-written file, and an interrupted write leaves the old file whole."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_checkpoint(state: TrainState, config: ExperimentConfig, run_dir: Path) -> None:
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config.model_dump(),
        "update": state.update,
        "model": {k: v.cpu() for k, v in state.model.state_dict().items()},
        "optimizer": state.optimizer.state_dict(),
        "generators": [g.get_state() for g in state.generators],
        "metrics": state.metrics,
    }
    _atomic_write_bytes(run_dir / "checkpoint.pt", lambda p: torch.save(payload, p))
    _atomic_write_bytes(run_dir / "metrics.csv",
                        lambda p: pd.DataFrame(state.metrics).to_csv(p, index=False))


def save_snapshot(state: TrainState, run_dir: Path) -> None:
    """Keep this update's weights as ``RUN_DIR/snapshots/update-NNNNN.pt``."""
    folder = run_dir / "snapshots"
    folder.mkdir(exist_ok=True)
    weights = {k: v.cpu() for k, v in state.model.state_dict().items()}
    _atomic_write_bytes(folder / f"update-{state.update:05d}.pt",
                        lambda p: torch.save(weights, p))


def snapshot_updates(run_dir: str | Path) -> list[int]:
    """The updates at which a run kept a snapshot of its weights, in order."""
    folder = Path(run_dir) / "snapshots"
    return sorted(int(p.stem.split("-")[1]) for p in folder.glob("update-*.pt"))


def load_snapshot(run_dir: str | Path, update: int, device: str | torch.device = "cpu"
                  ) -> tuple[RecurrentActorCritic, ExperimentConfig]:
    """The run's networks as they were after ``update`` updates (see ``snapshot_every``)."""
    model, config = load_model(run_dir, device=device)
    path = Path(run_dir) / "snapshots" / f"update-{update:05d}.pt"
    if not path.is_file():
        raise TwostepError(f"no snapshot at {path}")
    model.load_state_dict(torch.load(path, map_location=model.weight.device, weights_only=True))
    return model, config


def evaluate_snapshots_or_load(run_dir: str | Path, retrieval: str | None = None,
                               episodes: int | None = None) -> pd.DataFrame:
    """Test trials of every snapshot, with an ``update`` column; cached beside the run
    (``RUN_DIR/snapshot-trials[-retrieval-<rule>].csv``)."""
    suffix = "" if retrieval is None else f"-retrieval-{retrieval}"
    path = Path(run_dir) / f"snapshot-trials{suffix}.csv"
    with folder_lock(run_dir, wait=True):
        checkpoint = Path(run_dir) / "checkpoint.pt"
        if path.is_file() and path.stat().st_mtime >= checkpoint.stat().st_mtime:
            return pd.read_csv(path)
        frames = []
        for update in snapshot_updates(run_dir):
            model, config = load_snapshot(run_dir, update)
            trials = evaluate(model, config, episodes=episodes, retrieval=retrieval)
            frames.append(trials.assign(update=update,
                                        episodes=update * config.train.batch_size))
        if not frames:
            raise TwostepError(f"{run_dir} kept no snapshots (set train.snapshot_every)")
        table = pd.concat(frames, ignore_index=True)
        _atomic_write_bytes(path, lambda p: table.to_csv(p, index=False))
    return table


def read_checkpoint(run_dir: str | Path) -> dict:
    """The checkpoint of a run folder, checked; :class:`TwostepError` if missing or corrupt."""
    path = Path(run_dir) / "checkpoint.pt"
    if not path.is_file():
        raise TwostepError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds on a damaged file
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise TwostepError(f"{path}: corrupt checkpoint ({reason})") from None
    needed = {"format", "config", "update", "model", "optimizer", "generators", "metrics"}
    if not isinstance(payload, dict) or not needed <= payload.keys():
        raise TwostepError(f"{path}: not a twostep checkpoint")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise TwostepError(f"{path}: checkpoint format {payload['format']}, "
                           f"this version reads {CHECKPOINT_FORMAT}")
    check_checkpoint_fields(payload, path)
    return payload


def load_state(run_dir: Path, config: ExperimentConfig, device: torch.device) -> TrainState:
    payload = read_checkpoint(run_dir)
    state = new_state(config, device)
    try:
        state.model.load_state_dict(payload["model"])
        state.optimizer.load_state_dict(payload["optimizer"])
        for g, saved in zip(state.generators, payload["generators"], strict=True):
            g.set_state(saved)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
        raise TwostepError(f"{run_dir}/checkpoint.pt does not fit the run's config "
                           f"({str(err).splitlines()[0][:120]})") from None
    state.update = int(payload["update"])
    state.metrics = list(payload["metrics"])
    return state


def load_model(run_dir: str | Path, device: str | torch.device = "cpu"
               ) -> tuple[RecurrentActorCritic, ExperimentConfig]:
    """The trained networks of a run folder and the config they were trained with."""
    payload = read_checkpoint(run_dir)
    config = parse_experiment(payload["config"], source=f"{run_dir}/checkpoint.pt", strict=True)
    state = load_state(Path(run_dir), config, resolve_device(device))
    return state.model, config


# ---------------------------------------------------------------------- train
def train(config: ExperimentConfig, run_dir: str | Path, resume: bool = False,
          device: str | torch.device = "auto", progress: bool = True,
          stop_after: int | None = None,
          on_update: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Train ``config.train.seeds`` networks; return the metrics table.

    Args:
        run_dir: the run's folder; created if needed. A folder that already holds
            a run is only continued with ``resume=True``, never overwritten.
        resume: continue from ``run_dir/checkpoint.pt``; the config must match.
        stop_after: stop (with a checkpoint) after this many updates in total, as
            an interruption would; used to test resuming.
        on_update: called with the number of updates done after each one (a progress
            report for a caller that shows its own, e.g. :mod:`twostep.parallel`).

    A second process training or evaluating in ``run_dir`` at the same time is
    refused (:func:`twostep.safe_io.folder_lock`); files in ``run_dir`` that the tool
    did not write are never replaced.
    """
    run_dir = Path(run_dir)
    device = resolve_device(device)
    check_training_fits(config, device)
    if run_dir.exists() and not run_dir.is_dir():
        raise TwostepError(f"{run_dir} is a file; a run needs a folder (choose another --out)")
    with folder_lock(run_dir):
        return _train(config, run_dir, resume, device, progress, stop_after, on_update)


def _train(config: ExperimentConfig, run_dir: Path, resume: bool, device: torch.device,
           progress: bool, stop_after: int | None,
           on_update: Callable[[int], None] | None = None) -> pd.DataFrame:
    config_path = run_dir / "config.yaml"
    has_run = (run_dir / "checkpoint.pt").exists()
    if resume:
        if not has_run:
            raise TwostepError(f"nothing to resume in {run_dir}: no checkpoint")
        saved = parse_experiment(read_checkpoint(run_dir)["config"], source=str(run_dir))
        if saved != config:
            raise TwostepError(f"{run_dir} was trained with a different config; "
                               "resume with the same experiment and options")
        state = load_state(run_dir, config, device)
    else:
        if has_run:
            raise TwostepError(f"{run_dir} already holds a run: pass --resume to continue it, "
                               "or choose another --out")
        run_dir.mkdir(parents=True, exist_ok=True)
        claim(run_dir, RUN_FILES)
        write_text(config_path, config.to_yaml())
        state = new_state(config, device)

    task = make_task(config.task, device)
    total = config.train.updates if stop_after is None else min(stop_after, config.train.updates)
    bar = tqdm(total=config.train.updates, initial=state.update, disable=not progress,
               desc=config.name, unit="update")
    every = config.train.checkpoint_every
    started = time.perf_counter()
    first_update = state.update
    seconds_before = state.metrics[-1].get("seconds", 0.0) if state.metrics else 0.0
    while state.update < total:
        rows = update_step(state, config, task)
        check_finite_losses(rows, state.update, config.train.lr)
        if state.update == first_update + 1 and progress:
            message = budget_message(time.perf_counter() - started,
                                     config.train.updates - state.update)
            if message:
                tqdm.write(message, file=sys.stderr)
        elapsed = seconds_before + time.perf_counter() - started
        for row in rows:
            row["seconds"] = round(elapsed, 3)
        state.metrics.extend(rows)
        if state.update % every == 0 or state.update == total:
            save_checkpoint(state, config, run_dir)
        snapshot_every = config.train.snapshot_every
        if snapshot_every and (state.update % snapshot_every == 0
                               or state.update == config.train.updates):
            save_snapshot(state, run_dir)
        reward = sum(r["reward"] for r in rows) / len(rows)
        done = state.update - first_update
        steps_per_s = done * config.train.batch_size * len(rows) * task.trials / max(
            time.perf_counter() - started, 1e-9)
        bar.set_postfix(reward=f"{reward:.1f}", steps_s=f"{steps_per_s:,.0f}")
        bar.update(1)
        if on_update is not None:
            on_update(state.update)
    bar.close()
    if state.update == first_update:
        save_checkpoint(state, config, run_dir)
    return pd.DataFrame(state.metrics)


def is_finished(run_dir: str | Path) -> bool:
    """Whether a run folder holds a checkpoint with its whole training budget done."""
    try:
        payload = read_checkpoint(run_dir)
        config = parse_experiment(payload["config"])
    except TwostepError:
        return False
    return int(payload["update"]) >= config.train.updates


# ---------------------------------------------------------------------- evaluate
@torch.no_grad()
def evaluate(model: RecurrentActorCritic, config: ExperimentConfig, episodes: int | None = None,
             record_internals: bool = False, batch_size: int = 1000,
             retrieval: str | None = None):
    """Frozen-weight test episodes (the paper's protocol: 300 per seed).

    Args:
        retrieval: test the trained network with another memory rule than it was
            trained with; ``"off"`` lesions episodic retrieval (the "lesion" reading
            of Ritter 2018's incremental panels, one of three the book reports).

    Returns the trial table, or ``(trials, internals)`` when ``record_internals``.
    """
    if retrieval is not None:
        if retrieval != "off" and not model.reinstatement:
            raise TwostepError("retrieval needs a network with a reinstatement gate (eplstm)")
        config = config.with_changes(model={"retrieval": retrieval})
    episodes = episodes or config.train.eval_episodes
    if episodes <= 0:
        raise TwostepError("evaluation needs at least one episode")
    device = model.weight.device
    task = make_task(config.task, device)
    gens = generators(model.seeds, TEST_STREAM)
    frames, internals = [], []
    done = 0
    while done < episodes:
        batch = min(batch_size, episodes - done)
        rollout = play(model, task, config, gens, batch, record_internals=record_internals)
        frames.append(trial_frame(rollout.outcomes, model.seeds, episode_offset=done))
        internals.append(rollout.internals)
        done += batch
    trials = pd.concat(frames, ignore_index=True).sort_values(
        ["seed", "episode", "trial"], kind="stable").reset_index(drop=True)
    if record_internals:
        merged = {k: torch.cat([i[k] for i in internals], dim=1) for k in internals[0]}
        return trials, merged
    return trials


def evaluate_or_load(run_dir: str | Path, device: str | torch.device = "cpu",
                     retrieval: str | None = None) -> pd.DataFrame:
    """The run's test trials, evaluated once and then read back.

    Cached as ``RUN_DIR/trials.csv``, or ``RUN_DIR/trials-retrieval-<rule>.csv`` when
    the network is tested with another retrieval rule (see :func:`evaluate`).
    """
    name = "trials.csv" if retrieval is None else f"trials-retrieval-{retrieval}.csv"
    path = Path(run_dir) / name
    with folder_lock(run_dir, wait=True):  # two notebooks may ask at once
        checkpoint = Path(run_dir) / "checkpoint.pt"
        if path.is_file() and path.stat().st_mtime >= checkpoint.stat().st_mtime:
            return pd.read_csv(path)
        model, config = load_model(run_dir, device=device)
        trials = evaluate(model, config, retrieval=retrieval)
        _atomic_write_bytes(path, lambda p: trials.to_csv(p, index=False))
    return trials


def default_runs_dir() -> Path:
    """Where trained runs are cached: ``$TWOSTEP_RUNS``, else ``runs/`` at the root of the
    book (the nearest folder above the working directory holding ``_toc.yml``), else ``./runs``."""
    if os.environ.get("TWOSTEP_RUNS"):
        return Path(os.environ["TWOSTEP_RUNS"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder / "runs"
    return here / "runs"


def run_dir_for(config: ExperimentConfig, root: str | Path | None = None) -> Path:
    """``root/<name>-<hash>``: one folder per distinct configuration.

    The hash covers what training depends on (task, model, train), not the
    description, so rewording a config's prose does not retrain it."""
    import hashlib
    import json

    from twostep.config import training_content

    content = training_content(config)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    return Path(root or default_runs_dir()) / f"{config.name}-{digest}"


def train_or_load(config: ExperimentConfig, root: str | Path | None = None, device="auto",
                  progress: bool = True, on_update: Callable[[int], None] | None = None
                  ) -> tuple[Path, pd.DataFrame]:
    """Train once per configuration; later calls load the finished run.

    A changed config trains afresh while an unchanged one is read back; an
    interrupted run resumes. A file lock keeps two processes (two notebooks
    executing at once) from training the same run together.
    """
    run_dir = run_dir_for(config, root)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(run_dir, wait=True):
        if not is_finished(run_dir):
            train(config, run_dir, resume=(run_dir / "checkpoint.pt").exists(), device=device,
                  progress=progress, on_update=on_update)
    return run_dir, pd.read_csv(run_dir / "metrics.csv")
