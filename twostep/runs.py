"""Run folders: checkpoints, resuming, the cache of trained runs and its locks.

A run lives in one folder::

    RUN_DIR/config.yaml     the experiment, exactly as trained
    RUN_DIR/checkpoint.pt   weights, optimiser, generator states, metrics so far
    RUN_DIR/metrics.csv     one row per update per seed (``seconds``: wall time so far)
    RUN_DIR/trials.csv      (after evaluation) one row per test trial

Checkpoints are written atomically every ``checkpoint_every`` updates and at the
end. :func:`train_run` with ``resume=True`` continues from the checkpoint; on the
CPU a resumed run ends with bitwise the same weights as an uninterrupted one
(see :mod:`twostep.train`).

The cache (:func:`train_or_load`) keeps one folder per configuration under a
root that the caller chooses; without one, ``$TWOSTEP_RUNS``, else ``./runs``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import torch

from twostep.config import ExperimentConfig, parse_experiment
from twostep.devices import resolve_device
from twostep.errors import TwostepError
from twostep.evaluation import evaluate
from twostep.models import RecurrentActorCritic
from twostep.train import TrainState, new_state, train

CHECKPOINT_FORMAT = 1


# ---------------------------------------------------------------------- checkpoints
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
    """Write ``checkpoint.pt`` and ``metrics.csv`` of ``run_dir``, each atomically."""
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
    return payload


def checkpoint_config(payload: dict, run_dir: str | Path) -> ExperimentConfig:
    """The experiment a checkpoint was trained with."""
    return parse_experiment(payload["config"], source=f"{run_dir}/checkpoint.pt")


def state_from_checkpoint(payload: dict, config: ExperimentConfig, device: torch.device,
                          run_dir: str | Path = "run") -> TrainState:
    """A :class:`~twostep.train.TrainState` restored from a checkpoint already read."""
    state = new_state(config, device)
    try:
        state.model.load_state_dict(payload["model"])
        state.optimizer.load_state_dict(payload["optimizer"])
        for g, saved in zip(state.generators, payload["generators"], strict=True):
            g.set_state(saved)
    except (RuntimeError, ValueError, KeyError) as err:
        raise TwostepError(f"{run_dir}/checkpoint.pt does not fit the run's config "
                           f"({str(err).splitlines()[0][:120]})") from None
    state.update = int(payload["update"])
    state.metrics = list(payload["metrics"])
    return state


def load_model(run_dir: str | Path, device: str | torch.device = "cpu"
               ) -> tuple[RecurrentActorCritic, ExperimentConfig]:
    """The trained networks of a run folder and the config they were trained with."""
    payload = read_checkpoint(run_dir)
    config = checkpoint_config(payload, run_dir)
    state = state_from_checkpoint(payload, config, resolve_device(device), run_dir)
    return state.model, config


def is_finished(run_dir: str | Path) -> bool:
    """Whether a run folder holds a checkpoint with its whole training budget done."""
    try:
        payload = read_checkpoint(run_dir)
        config = checkpoint_config(payload, run_dir)
    except TwostepError:
        return False
    return int(payload["update"]) >= config.train.updates


# ---------------------------------------------------------------------- one run folder
def train_run(config: ExperimentConfig, run_dir: str | Path, resume: bool = False,
              device: str | torch.device = "auto", progress: bool = True,
              stop_after: int | None = None) -> pd.DataFrame:
    """Train into a run folder, checkpointing as it goes; return the metrics table.

    Args:
        run_dir: the run's folder; created if needed. A folder that already holds
            a run is only continued with ``resume=True``, never overwritten.
        resume: continue from ``run_dir/checkpoint.pt``; the config must match.
        stop_after: stop (with a checkpoint) after this many updates in total, as
            an interruption would.
    """
    run_dir = Path(run_dir)
    has_run = (run_dir / "checkpoint.pt").exists()
    if resume:
        if not has_run:
            raise TwostepError(f"nothing to resume in {run_dir}: no checkpoint")
        payload = read_checkpoint(run_dir)  # read once: config, weights, generators
        if checkpoint_config(payload, run_dir) != config:
            raise TwostepError(f"{run_dir} was trained with a different config; "
                               "resume with the same experiment and options")
        state = state_from_checkpoint(payload, config, resolve_device(device), run_dir)
    else:
        if has_run:
            raise TwostepError(f"{run_dir} already holds a run: pass --resume to continue it, "
                               "or choose another --out")
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(config.to_yaml())
        state = new_state(config, resolve_device(device))

    every, first_update = config.train.checkpoint_every, state.update

    def checkpoint_now_and_then(state: TrainState) -> None:
        if state.update % every == 0:
            save_checkpoint(state, config, run_dir)

    state, metrics = train(config, state, progress=progress, max_updates=stop_after,
                           on_update=checkpoint_now_and_then)
    if state.update % every != 0 or state.update == first_update:
        save_checkpoint(state, config, run_dir)  # the last update, unless just saved
    return metrics


# ---------------------------------------------------------------------- the cache
def _lock_path(run_dir: str | Path) -> str:
    return str(run_dir) + ".lock"


def runs_root(root: str | Path | None = None) -> Path:
    """Where trained runs are cached: ``root`` when given, else ``$TWOSTEP_RUNS``,
    else ``runs`` in the working directory."""
    if root is not None:
        return Path(root)
    if os.environ.get("TWOSTEP_RUNS"):
        return Path(os.environ["TWOSTEP_RUNS"])
    return Path.cwd() / "runs"


def run_dir_for(config: ExperimentConfig, root: str | Path | None = None) -> Path:
    """``root/<name>-<hash>``: one folder per distinct configuration.

    The hash covers what training depends on (task, model, train), not the
    description, so rewording a config's prose does not retrain it."""
    content = config.model_dump(include={"task", "model", "train"})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    return runs_root(root) / f"{config.name}-{digest}"


def train_or_load(config: ExperimentConfig, root: str | Path | None = None, device="auto",
                  progress: bool = True) -> tuple[Path, pd.DataFrame]:
    """Train once per configuration; later calls load the finished run.

    A changed config trains afresh while an unchanged one is read back; an
    interrupted run resumes. A file lock keeps two processes (two notebooks
    executing at once) from training the same run together.
    """
    from filelock import FileLock

    run_dir = run_dir_for(config, root)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(_lock_path(run_dir)):
        if not is_finished(run_dir):
            train_run(config, run_dir, resume=(run_dir / "checkpoint.pt").exists(),
                      device=device, progress=progress)
    return run_dir, pd.read_csv(run_dir / "metrics.csv")


def evaluate_or_load(run_dir: str | Path, device: str | torch.device = "cpu",
                     retrieval: str | None = None) -> pd.DataFrame:
    """The run's test trials, evaluated once and then read back.

    Cached as ``RUN_DIR/trials.csv``, or ``RUN_DIR/trials-retrieval-<rule>.csv`` when
    the network is tested with another retrieval rule (see
    :func:`twostep.evaluation.evaluate`).
    """
    from filelock import FileLock

    name = "trials.csv" if retrieval is None else f"trials-retrieval-{retrieval}.csv"
    path = Path(run_dir) / name
    with FileLock(_lock_path(run_dir)):  # two notebooks may ask at once
        checkpoint = Path(run_dir) / "checkpoint.pt"
        if path.is_file() and path.stat().st_mtime >= checkpoint.stat().st_mtime:
            return pd.read_csv(path)
        model, config = load_model(run_dir, device=device)
        trials = evaluate(model, config, retrieval=retrieval).trials
        _atomic_write_bytes(path, lambda p: trials.to_csv(p, index=False))
    return trials
