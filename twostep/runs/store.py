"""Run folders: training into one, resuming, snapshots, and the cache of trained runs.

A run lives in one folder::

    RUN_DIR/config.yaml     the experiment, exactly as trained
    RUN_DIR/checkpoint.pt   weights, optimiser, generator states, metrics so far
    RUN_DIR/metrics.csv     one row per update per seed (``seconds``: wall time so far)
    RUN_DIR/trials.csv      (after evaluation) one row per test trial
    RUN_DIR/snapshots/      (with ``train.snapshot_every``) weights along training

Checkpoints (:mod:`twostep.runs.checkpoints`) are written atomically every
``checkpoint_every`` updates and at the end (:func:`twostep.files.write.atomic_write`).
One process at a time works in a run folder (:func:`twostep.files.locks.folder_lock`),
and files in it that the tool did not write are never replaced
(:func:`twostep.files.owned.claim`). :func:`train_run` with ``resume=True`` continues
from the checkpoint; on the CPU a resumed run ends with bitwise the same weights as an
uninterrupted one (see :mod:`twostep.core.train`).

The cache (:func:`train_or_load`) keeps one folder per configuration under a
root that the caller chooses; without one, ``$TWOSTEP_RUNS``, else ``./runs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from twostep.core.config import ExperimentConfig, training_content
from twostep.core.devices import resolve_device
from twostep.core.engine import resolve_engine
from twostep.core.evaluation import evaluate
from twostep.core.limits import check_training_fits
from twostep.core.models import RecurrentActorCritic
from twostep.core.train import TrainState, new_state, train
from twostep.errors import TwostepError
from twostep.files.locks import folder_lock
from twostep.files.owned import RUN_FILES, claim
from twostep.files.write import atomic_write, write_text
from twostep.runs.checkpoints import (
    checkpoint_config,
    is_finished,
    load_model,
    merge_checkpoints,
    read_checkpoint,
    save_checkpoint,
    state_from_checkpoint,
    trained_with,
    write_checkpoint,
)


# ---------------------------------------------------------------------- snapshots
def save_snapshot(state: TrainState, run_dir: Path) -> None:
    """Keep this update's weights as ``RUN_DIR/snapshots/update-NNNNN.pt``."""
    folder = run_dir / "snapshots"
    folder.mkdir(exist_ok=True)
    weights = {k: v.cpu() for k, v in state.model.state_dict().items()}
    atomic_write(folder / f"update-{state.update:05d}.pt", lambda p: torch.save(weights, p))


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


# ---------------------------------------------------------------------- one run folder
def train_run(config: ExperimentConfig, run_dir: str | Path, resume: bool = False,
              device: str | torch.device = "auto", progress: bool = True,
              stop_after: int | None = None,
              on_update: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Train into a run folder, checkpointing as it goes; return the metrics table.

    Args:
        run_dir: the run's folder; created if needed. A folder that already holds
            a run is only continued with ``resume=True``, never overwritten.
        resume: continue from ``run_dir/checkpoint.pt``; the config must match.
        stop_after: stop (with a checkpoint) after this many updates in total, as
            an interruption would.
        on_update: called with the number of updates done after each one (a progress
            report for a caller that shows its own, e.g. :mod:`twostep.runs.parallel`).

    A second process training or evaluating in ``run_dir`` at the same time is
    refused (:func:`twostep.files.locks.folder_lock`); files in ``run_dir`` that the tool
    did not write are never replaced.
    """
    run_dir = Path(run_dir)
    device = resolve_device(device)
    check_training_fits(config, device)
    if run_dir.exists() and not run_dir.is_dir():
        raise TwostepError(f"{run_dir} is a file; a run needs a folder (choose another --out)")
    with folder_lock(run_dir):
        return _train_run(config, run_dir, resume, device, progress, stop_after, on_update)


def _train_run(config: ExperimentConfig, run_dir: Path, resume: bool, device: torch.device,
               progress: bool, stop_after: int | None,
               on_update: Callable[[int], None] | None) -> pd.DataFrame:
    has_run = (run_dir / "checkpoint.pt").exists()
    if resume:
        if not has_run:
            raise TwostepError(f"nothing to resume in {run_dir}: no checkpoint")
        payload = read_checkpoint(run_dir)  # read once: config, weights, generators
        if checkpoint_config(payload, run_dir) != config:
            raise TwostepError(f"{run_dir} was trained with a different config; "
                               "resume with the same experiment and options")
        state = state_from_checkpoint(payload, config, device, run_dir)
        if trained_with(payload) != (device.type, state.engine):
            was_device, was_engine = trained_with(payload)
            raise TwostepError(f"{run_dir} was trained on {was_device} with the {was_engine} "
                               f"engine, not on {device.type} with the {state.engine} engine; "
                               "resume it with the same device and train.engine")
    else:
        if has_run:
            raise TwostepError(f"{run_dir} already holds a run: pass --resume to continue it, "
                               "or choose another --out")
        run_dir.mkdir(parents=True, exist_ok=True)
        claim(run_dir, RUN_FILES)
        write_text(run_dir / "config.yaml", config.to_yaml())
        state = new_state(config, device)

    every, first_update = config.train.checkpoint_every, state.update
    snapshot_every = config.train.snapshot_every

    def keep_now_and_then(state: TrainState) -> None:
        if state.update % every == 0:
            save_checkpoint(state, config, run_dir)
        if snapshot_every and (state.update % snapshot_every == 0
                               or state.update == config.train.updates):
            save_snapshot(state, run_dir)
        if on_update is not None:
            on_update(state.update)

    state, metrics = train(config, state, progress=progress, max_updates=stop_after,
                           on_update=keep_now_and_then)
    if state.update % every != 0 or state.update == first_update:
        save_checkpoint(state, config, run_dir)  # the last update, unless just saved
    return metrics


def merge_shards(config: ExperimentConfig, run_dir: Path, shard_dirs: list[Path]) -> None:
    """Make ``run_dir`` the finished run of ``config`` from the finished runs of its seed
    shards (``shard_dirs``, in seed order): checkpoint, metrics and snapshots joined seed by
    seed, then the shards removed. The caller holds ``run_dir``'s lock."""
    payloads = [read_checkpoint(shard) for shard in shard_dirs]
    merged = merge_checkpoints(payloads, config)
    run_dir.mkdir(parents=True, exist_ok=True)
    claim(run_dir, RUN_FILES)
    write_text(run_dir / "config.yaml", config.to_yaml())
    for update in snapshot_updates(shard_dirs[0]):
        weights = [torch.load(shard / "snapshots" / f"update-{update:05d}.pt",
                              map_location="cpu", weights_only=True) for shard in shard_dirs]
        joined = {name: torch.cat([w[name] for w in weights]) for name in weights[0]}
        (run_dir / "snapshots").mkdir(exist_ok=True)
        atomic_write(run_dir / "snapshots" / f"update-{update:05d}.pt",
                     lambda p, joined=joined: torch.save(joined, p))
    write_checkpoint(merged, run_dir)  # last: the run counts as finished only once whole
    shutil.rmtree(shard_dirs[0].parent)


# ---------------------------------------------------------------------- the cache
RUNS_VARIABLE = "TWOSTEP_RUNS"
"""The environment variable that moves the run cache (read by :func:`runs_root` only)."""


def runs_root(root: str | Path | None = None, default: str | Path | None = None) -> Path:
    """Where trained runs are cached: ``root`` when given, else ``$TWOSTEP_RUNS``, else
    ``default`` (the book's root, say), else ``runs`` in the working directory.

    The one place that reads ``$TWOSTEP_RUNS``: the command line, ``reproduce``, the
    chapters and :func:`train_or_load` all find the same folder through it.
    """
    if root is not None:
        return Path(root)
    if os.environ.get(RUNS_VARIABLE):
        return Path(os.environ[RUNS_VARIABLE])
    return Path(default) if default is not None else Path.cwd() / "runs"


def run_identity(config: ExperimentConfig, device: str | torch.device = "cpu") -> dict:
    """What makes two runs the same run: what training depends on
    (:func:`twostep.core.config.training_content`), the device type it trains on and the
    engine that computes its updates there (:func:`twostep.core.engine.resolve_engine`).
    Runs on different devices or engines are not bitwise equal, so they never stand in
    for each other."""
    device = torch.device(device)
    return {**training_content(config), "device": device.type,
            "engine": resolve_engine(config, device)}


def run_dir_for(config: ExperimentConfig, root: str | Path | None = None,
                device: str | torch.device = "cpu") -> Path:
    """``root/<name>-<hash>``: one folder per distinct run (:func:`run_identity`).

    The hash covers what training depends on, not the description, so rewording a
    config's prose does not retrain it."""
    content = run_identity(config, device)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    return runs_root(root) / f"{config.name}-{digest}"


def train_or_load(config: ExperimentConfig, root: str | Path | None = None, device="auto",
                  progress: bool = True, on_update: Callable[[int], None] | None = None,
                  wait: bool = True) -> tuple[Path, pd.DataFrame]:
    """Train once per configuration, in :func:`run_dir_for`'s folder; later calls load the
    finished run.

    A changed config trains afresh while an unchanged one is read back; an
    interrupted run resumes. The run folder's lock keeps two processes (two
    notebooks executing at once) from training the same run together: with ``wait``
    the second waits for the first and then loads, without it (the command line) it is
    refused at once.
    """
    device = resolve_device(device)
    run_dir = run_dir_for(config, root, device)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(run_dir, wait=wait):
        if not is_finished(run_dir):
            train_run(config, run_dir, resume=(run_dir / "checkpoint.pt").exists(),
                      device=device, progress=progress, on_update=on_update)
    return run_dir, pd.read_csv(run_dir / "metrics.csv")


def cached_table(run_dir: str | Path, name: str, compute) -> pd.DataFrame:
    """``RUN_DIR/name`` if it is newer than the checkpoint, else ``compute()``, written
    there; under the run folder's lock (two notebooks may ask at once)."""
    path = Path(run_dir) / name
    with folder_lock(run_dir, wait=True):
        checkpoint = Path(run_dir) / "checkpoint.pt"
        if path.is_file() and path.stat().st_mtime >= checkpoint.stat().st_mtime:
            return pd.read_csv(path)
        table = compute()
        atomic_write(path, lambda p: table.to_csv(p, index=False))
    return table


def evaluate_or_load(run_dir: str | Path, device: str | torch.device = "cpu",
                     retrieval: str | None = None) -> pd.DataFrame:
    """The run's test trials, evaluated once and then read back.

    Cached as ``RUN_DIR/trials.csv``, or ``RUN_DIR/trials-retrieval-<rule>.csv`` when
    the network is tested with another retrieval rule (see
    :func:`twostep.core.evaluation.evaluate`).
    """
    def compute() -> pd.DataFrame:
        model, config = load_model(run_dir, device=device)
        return evaluate(model, config, retrieval=retrieval).trials

    name = "trials.csv" if retrieval is None else f"trials-retrieval-{retrieval}.csv"
    return cached_table(run_dir, name, compute)


def evaluate_snapshots_or_load(run_dir: str | Path, retrieval: str | None = None,
                               episodes: int | None = None) -> pd.DataFrame:
    """Test trials of every snapshot, with ``update`` and ``episodes`` columns; cached
    beside the run (``RUN_DIR/snapshot-trials[-retrieval-<rule>].csv``)."""
    def compute() -> pd.DataFrame:
        frames = []
        for update in snapshot_updates(run_dir):
            model, config = load_snapshot(run_dir, update)
            trials = evaluate(model, config, episodes=episodes, retrieval=retrieval).trials
            frames.append(trials.assign(update=update,
                                        episodes=update * config.train.batch_size))
        if not frames:
            raise TwostepError(f"{run_dir} kept no snapshots (set train.snapshot_every)")
        return pd.concat(frames, ignore_index=True)

    suffix = "" if retrieval is None else f"-retrieval-{retrieval}"
    return cached_table(run_dir, f"snapshot-trials{suffix}.csv", compute)
