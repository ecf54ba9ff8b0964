"""Run folders: training into one, resuming, snapshots, and the cache of trained runs.

A run lives in one folder::

    RUN_DIR/config.yaml     the experiment, exactly as trained
    RUN_DIR/checkpoint.pt   weights, optimiser, generator states, metrics so far
    RUN_DIR/metrics.csv     one row per update per seed (``seconds``: wall time so far)
    RUN_DIR/trials.csv      (after evaluation) one row per test trial
    RUN_DIR/snapshots/      (with ``train.snapshot_every``) weights along training

Checkpoints (:mod:`twostep.runs.checkpoints`) are written atomically every
``checkpoint_every`` updates and at the end. Every file of a run folder is one of the run's
own files, written by :func:`twostep.files.owned.write_run_file` (atomically, and listed in
the folder's ``.twostep-files`` once whole), and none is ever another command's ``--out``
(the file policy, :mod:`twostep.files`). One process at a time works in a run folder,
whatever path names it (:func:`twostep.files.locks.folder_lock`, a lock file inside it), and
files in it that the tool did not write are never replaced, nor read back as its cache.
:func:`train_run` with ``resume=True`` continues from the checkpoint; on the CPU a resumed
run ends with bitwise the same weights as an uninterrupted one (see :mod:`twostep.core.train`).

The cache (:func:`train_or_load`) keeps one folder per configuration under a
root that the caller chooses; without one, ``$TWOSTEP_RUNS``, else ``./runs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import torch

from twostep.core.config import ExperimentConfig, training_content
from twostep.core.engine import resolve_engine
from twostep.core.evaluation import evaluate
from twostep.core.limits import check_training_fits
from twostep.core.models import RecurrentActorCritic
from twostep.core.train import TrainState, new_state, train
from twostep.errors import TwostepError
from twostep.files.failures import shown
from twostep.files.locks import folder_lock
from twostep.files.owned import (
    MANIFEST,
    RUN_FILES,
    check_replaceable,
    check_run_files,
    listed,
    owned,
    remove_run_folder,
    write_run_file,
)
from twostep.files.read import open_lines
from twostep.runs.checkpoints import (
    checkpoint_config,
    is_finished,
    load_archive,
    load_model,
    merge_checkpoints,
    read_checkpoint,
    save_checkpoint,
    state_from_checkpoint,
    trained_with,
    write_checkpoint,
)
from twostep.runs.placement import choose_device
from twostep.trials.columns import TRIAL_COLUMNS

MAX_TABLE_LINE_BYTES = 2**20
"""Longest line of a table the tool reads back from a run folder (metrics, evaluations)."""

MAX_TABLE_BYTES = 16 * 2**30
"""Largest such table."""


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV table a run folder keeps (``metrics.csv``, a cached evaluation), read in bounds
    (a regular file, lines and size limited; :func:`twostep.files.read.open_lines`)."""
    try:
        with open_lines(path, "table", MAX_TABLE_LINE_BYTES, MAX_TABLE_BYTES) as stream:
            return pd.read_csv(stream, compression=None)
    except FileNotFoundError:
        raise TwostepError(f"no table at {shown(path)}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise TwostepError(f"{shown(path)}: not a readable CSV ({first})") from None


# ---------------------------------------------------------------------- snapshots
_SNAPSHOT = re.compile(r"update-(\d{5,9})\.pt")


def snapshot_folder(run_dir: Path) -> Path:
    """``RUN_DIR/snapshots``, made if needed; refused where it is a link or not a folder (the
    run's snapshots are written into the run folder itself, never through a link elsewhere)."""
    folder = Path(run_dir) / "snapshots"
    if os.path.islink(folder) or (os.path.lexists(folder) and not folder.is_dir()):
        raise TwostepError(f"{shown(folder)} is not a folder of the run (a link or a file); "
                           "move it away")
    folder.mkdir(exist_ok=True)
    return folder


def save_snapshot(state: TrainState, run_dir: Path) -> None:
    """Keep this update's weights as ``RUN_DIR/snapshots/update-NNNNN.pt``."""
    folder = snapshot_folder(run_dir)
    weights = {k: v.cpu() for k, v in state.model.state_dict().items()}
    write_run_file(folder, f"update-{state.update:05d}.pt", lambda p: torch.save(weights, p))


def snapshot_updates(run_dir: str | Path) -> list[int]:
    """The updates at which a run kept a snapshot of its weights, in order: the snapshots
    the folder's list names (a file the tool did not write there is not one); in a folder
    from a version that kept no list there, the files named as snapshots."""
    folder = Path(run_dir) / "snapshots"
    if os.path.lexists(folder / MANIFEST):
        names = list(listed(folder))  # only the tool's: a user's file there is no snapshot
    else:  # written before snapshots were listed: read (never replaced) by their names
        try:
            names = [entry.name for entry in os.scandir(folder)
                     if entry.is_file(follow_symlinks=False)]
        except OSError:
            names = []
    matches = (match for name in names if (match := _SNAPSHOT.fullmatch(name)))
    return sorted(int(match[1]) for match in matches)


def load_snapshot(run_dir: str | Path, update: int, device: str | torch.device = "cpu"
                  ) -> tuple[RecurrentActorCritic, ExperimentConfig]:
    """The run's networks as they were after ``update`` updates (see ``snapshot_every``)."""
    model, config = load_model(run_dir, device=device)
    path = Path(run_dir) / "snapshots" / f"update-{update:05d}.pt"
    weights = load_archive(path, "snapshot")
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, ValueError, AttributeError) as err:
        raise TwostepError(f"{shown(path)} does not fit the run's networks "
                           f"({str(err).splitlines()[0][:120]})") from None
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
    device = choose_device(config, device, runs_root()).device
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
        check_run_files(run_dir, RUN_FILES)  # the files it will replace are the tool's
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
        check_run_files(run_dir, RUN_FILES)  # before any work: no user's file is in the way
        write_run_file(run_dir, "config.yaml",
                       lambda p: p.write_text(config.to_yaml(), encoding="utf-8"))
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
    shards (``shard_dirs``, in seed order, all in one folder ``RUN_DIR/shards``): checkpoint,
    metrics and snapshots joined seed by seed, each written as one of the run's own files,
    then the shards' own files removed (:func:`twostep.files.owned.remove_run_folder`; a file
    the tool did not write there is left, with a warning). The caller holds ``run_dir``'s
    lock."""
    payloads = [read_checkpoint(shard) for shard in shard_dirs]
    merged = merge_checkpoints(payloads, config)
    run_dir.mkdir(parents=True, exist_ok=True)
    check_run_files(run_dir, RUN_FILES)  # before any write: no user's file is in the way
    write_run_file(run_dir, "config.yaml",
                   lambda p: p.write_text(config.to_yaml(), encoding="utf-8"))
    for update in snapshot_updates(shard_dirs[0]):
        name = f"update-{update:05d}.pt"
        weights = [load_archive(shard / "snapshots" / name, "snapshot") for shard in shard_dirs]
        if not all(isinstance(w, dict) and w.keys() == weights[0].keys() and
                   all(isinstance(v, torch.Tensor) for v in w.values()) for w in weights):
            raise TwostepError(f"the shards of {shown(run_dir)} kept snapshots {name} that do "
                               "not fit together; remove its shards folder to train it again")
        joined = {key: torch.cat([w[key] for w in weights]) for key in weights[0]}
        write_run_file(snapshot_folder(run_dir), name,
                       lambda p, joined=joined: torch.save(joined, p))
    write_checkpoint(merged, run_dir)  # last: the run counts as finished only once whole
    shards = shard_dirs[0].parent
    left = remove_run_folder(shards)
    if left:
        warnings.warn(f"{len(left)} file(s) in {shown(shards)} were not written by twostep, so "
                      f"they were left there (the first: {shown(left[0])}); the run itself is "
                      "whole", stacklevel=2)


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
    device = choose_device(config, device, runs_root(root)).device
    run_dir = run_dir_for(config, root, device)
    check_training_fits(config, device)  # before the lock makes the folder
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(run_dir, wait=wait):
        if not is_finished(run_dir):
            train_run(config, run_dir, resume=(run_dir / "checkpoint.pt").exists(),
                      device=device, progress=progress, on_update=on_update)
    return run_dir, read_table(run_dir / "metrics.csv")


def evaluation_name(retrieval: str | None = None, episodes: int | None = None,
                    prefix: str = "trials") -> str:
    """The name of a run's cached evaluation table: ``trials.csv`` for the config's own
    protocol, ``trials[-episodes-N][-retrieval-R].csv`` for another one (so an evaluation
    with other options never stands in for the run's own)."""
    episodes_part = "" if episodes is None else f"-episodes-{episodes}"
    retrieval_part = "" if retrieval is None else f"-retrieval-{retrieval}"
    return f"{prefix}{episodes_part}{retrieval_part}.csv"


def read_cached(path: str | Path, columns: Iterable[str] = ()) -> pd.DataFrame:
    """A table the tool cached (:func:`read_table`), after checking it has ``columns``: a
    file put by hand in the place of the tool's (deleted, then made again under the same
    name) is refused with one line rather than read as the tool's."""
    table = read_table(path)
    missing = [column for column in columns if column not in table.columns]
    if missing or table.columns.duplicated().any():
        what = f"no column {missing[0]}" if missing else "a column twice"
        raise TwostepError(f"{shown(path)} is not the table twostep kept there ({what}; "
                           "replaced by hand?); move it away and run again")
    return table


def cached_table(run_dir: str | Path, name: str, compute,
                 columns: Iterable[str] = ()) -> pd.DataFrame:
    """``RUN_DIR/name`` if the tool wrote it and it is newer than the checkpoint, else
    ``compute()``, written there; under the run folder's lock (two notebooks may ask at
    once). A file of that name the tool did not write is neither read nor replaced: the
    table is computed and not kept (with a warning saying how to keep it). A cached table
    without ``columns`` is refused (:func:`read_cached`)."""
    path = Path(run_dir) / name
    with folder_lock(run_dir, wait=True):
        checkpoint = Path(run_dir) / "checkpoint.pt"
        ours = owned(path)
        if ours and path.is_file() and path.stat().st_mtime >= checkpoint.stat().st_mtime:
            return read_cached(path, columns)
        table = compute()
        if ours:
            write_run_file(run_dir, name, lambda p: table.to_csv(p, index=False))
        else:
            warnings.warn(f"{shown(path)} was not written by twostep (or by an earlier version "
                          "that did not list it), so it is neither read nor replaced; the "
                          "evaluation was computed and not kept: move the file away to keep "
                          "it", stacklevel=3)
    return table


def write_evaluation(run_dir: str | Path, name: str, table: pd.DataFrame) -> Path:
    """Keep ``table`` as the run's evaluation ``RUN_DIR/name`` (see :func:`evaluation_name`),
    one of the run's own files; the caller holds the run folder's lock."""
    check_replaceable(Path(run_dir) / name)
    write_run_file(run_dir, name, lambda p: table.to_csv(p, index=False))
    return Path(run_dir) / name


def evaluate_or_load(run_dir: str | Path, device: str | torch.device = "cpu",
                     retrieval: str | None = None, episodes: int | None = None) -> pd.DataFrame:
    """The run's test trials, evaluated once and then read back.

    Cached as ``RUN_DIR/trials.csv``, or ``RUN_DIR/trials-retrieval-<rule>.csv`` when
    the network is tested with another retrieval rule (see
    :func:`twostep.core.evaluation.evaluate`), ``trials-episodes-<n>[...].csv`` with
    another number of test episodes (:func:`evaluation_name`).
    """
    def compute() -> pd.DataFrame:
        model, config = load_model(run_dir, device=device)
        return evaluate(model, config, episodes=episodes, retrieval=retrieval).trials

    return cached_table(run_dir, evaluation_name(retrieval, episodes), compute, TRIAL_COLUMNS)


def evaluate_snapshots_or_load(run_dir: str | Path, retrieval: str | None = None,
                               episodes: int | None = None) -> pd.DataFrame:
    """Test trials of every snapshot, with ``update`` and ``episodes`` columns; cached
    beside the run (``RUN_DIR/snapshot-trials[-episodes-<n>][-retrieval-<rule>].csv``)."""
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

    return cached_table(run_dir, evaluation_name(retrieval, episodes, "snapshot-trials"),
                        compute, [*TRIAL_COLUMNS, "update", "episodes"])
