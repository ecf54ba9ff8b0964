"""Train several runs at once: one process per run, one core each.

An update is a long chain of small tensor operations run at Python speed, so one run keeps
one core busy and no more. Extra torch threads inside one process do not help at the book's
batch sizes, and stall when the cores are shared; two one-thread processes give about twice
the throughput of one. :func:`train_or_load_many` therefore trains the runs that are not
finished in up to ``processes`` worker processes (each with one torch thread) and shows one
progress bar per run in the caller, which is where a notebook shows them.

Each run is trained by :func:`twostep.runs.store.train_or_load`, with its lock, checkpoints and
resume, so a run trained here is bitwise the run trained alone in a one-thread process.
Stopping the call (Ctrl-C, or a notebook's stop button) stops the workers; the next call
resumes every run from its last checkpoint. On a GPU the runs train one after another in the
calling process, which holds the device.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from twostep.core.config import ExperimentConfig
from twostep.core.devices import resolve_device
from twostep.errors import TwostepError
from twostep.files.locks import folder_lock
from twostep.runs.checkpoints import is_finished
from twostep.runs.store import merge_shards, run_dir_for, train_or_load

# How long the caller waits for a word from its workers before it looks again, in seconds.
POLL_SECONDS = 0.5


def train_or_load_many(configs: Mapping[str, ExperimentConfig], root: str | Path | None = None,
                       device: str | torch.device = "auto", processes: int | None = None,
                       progress: bool = True) -> dict[str, tuple[Path, pd.DataFrame]]:
    """:func:`~twostep.runs.store.train_or_load` for each config, training the missing runs in parallel.

    Args:
        configs: ``{label: config}``; the labels name the progress bars and the result.
        root: where runs are cached, as for ``train_or_load``.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``; runs train in parallel only on the CPU.
        processes: most workers at once (default: one per core, at most one per run).

    Returns:
        ``{label: (run_dir, metrics)}`` in the order of ``configs``.
    """
    device = resolve_device(device)
    if processes is not None and processes < 1:
        raise TwostepError(f"processes must be at least 1, got {processes}")
    pending = {label: config for label, config in configs.items()
               if not is_finished(run_dir_for(config, root, device))}
    cores = processes or os.cpu_count() or 1
    if pending and device.type == "cpu" and cores > 1:
        with contextlib.ExitStack() as held:
            jobs, sharded = _plan(pending, root, cores, held)
            if len(jobs) > 1:
                _train_in_workers(jobs, min(len(jobs), cores), progress)
            for label, shard_configs in sharded.items():
                merge_shards(pending[label], run_dir_for(pending[label], root, device),
                             [run_dir_for(c, _shard_root(pending[label], root), "cpu")
                              for c in shard_configs])
    return {label: train_or_load(config, root, device=device, progress=progress)
            for label, config in configs.items()}


MIN_SHARD_STEPS = 2_000_000
"""Env-steps (updates x seeds x batch x trials) below which a run is not split across
processes: starting a worker costs a few seconds, more than such a run gains."""


@dataclass(frozen=True)
class _Job:
    """One worker's work: train ``config`` into the cache under ``root``; its progress shows
    on the bar named ``label`` (several shards of one run share a bar)."""

    label: str
    config: ExperimentConfig
    root: Path | None


def shard_configs(config: ExperimentConfig, shards: int) -> list[ExperimentConfig]:
    """``config`` split into ``shards`` runs of consecutive seeds, as equal as possible; each
    seed trains exactly as it would beside the others (its own generators and clipping)."""
    seeds, first = config.train.seeds, config.train.first_seed
    shards = max(1, min(shards, seeds))
    sizes = [seeds // shards + (1 if i < seeds % shards else 0) for i in range(shards)]
    starts = [first + sum(sizes[:i]) for i in range(shards)]
    return [config.with_changes(train={"first_seed": start, "seeds": size})
            for start, size in zip(starts, sizes, strict=True)]


def _shard_root(config: ExperimentConfig, root: str | Path | None) -> Path:
    """Where a run's shards are cached while they train: ``RUN_DIR/shards``."""
    return run_dir_for(config, root, "cpu") / "shards"


def _plan(pending: dict[str, ExperimentConfig], root: str | Path | None, cores: int,
          held: contextlib.ExitStack) -> tuple[list[_Job], dict[str, list[ExperimentConfig]]]:
    """The workers' jobs: every pending run whole, or, when there are more cores than runs,
    the larger runs split by seed (:func:`shard_configs`). A run is split only if no other
    process is training it; its lock is then held (in ``held``) until its shards are merged,
    so that no other process trains it meanwhile."""
    jobs, sharded = [], {}
    per_run = cores // len(pending)
    for label, config in pending.items():
        train = config.train
        steps = train.updates * train.seeds * train.batch_size * config.task.trials
        run_dir = run_dir_for(config, root, "cpu")
        shards = min(per_run, train.seeds)
        if shards > 1 and steps >= MIN_SHARD_STEPS and not (run_dir / "checkpoint.pt").exists():
            try:
                held.enter_context(folder_lock(run_dir))
            except TwostepError:  # another process trains it: its worker waits, then loads
                shards = 1
            else:
                sharded[label] = shard_configs(config, shards)
                jobs += [_Job(label, shard, _shard_root(config, root)) for shard in sharded[label]]
                continue
        jobs.append(_Job(label, config, None if root is None else Path(root)))
    return jobs, sharded


def _train_in_workers(jobs: list[_Job], workers: int, progress: bool) -> None:
    """Train ``jobs`` in ``workers`` spawned processes; report progress; stop them all on error.

    Each worker reports on its own pipe (no shared queue, so nothing is left to clean up
    when a worker is stopped halfway): ``("update", n)`` after each update, then ``("done",
    None)``, ``("error", message)`` or ``("interrupted", None)``. A pipe closed without a
    last word means its process died (killed, out of memory). A bar shows the least
    advanced of its jobs.
    """
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch has threads
    bars = {job.label: tqdm(total=job.config.train.updates, desc=job.label, unit="update",
                            disable=not progress) for job in jobs}
    done = {index: 0 for index in range(len(jobs))}
    waiting = list(range(len(jobs)))
    running: dict[int, tuple[multiprocessing.process.BaseProcess, Connection]] = {}

    def show(label: str) -> None:
        least = min(done[i] for i, job in enumerate(jobs) if job.label == label)
        bars[label].update(least - bars[label].n)

    try:
        while waiting or running:
            while waiting and len(running) < workers:
                index = _next_to_start(waiting, jobs)
                if index is None:  # the rest were finished by another process meanwhile
                    break
                job = jobs[index]
                folder = run_dir_for(job.config, job.root, "cpu").parent  # as the caller resolves it
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_train_one, args=(job.config, folder, send),
                                         name=f"twostep-train-{job.label}", daemon=True)
                worker.start()
                send.close()  # the worker holds the sending end now
                running[index] = worker, receive
            by_pipe = {receive: index for index, (_, receive) in running.items()}
            for receive in wait(list(by_pipe), timeout=POLL_SECONDS):
                index = by_pipe[receive]
                label = jobs[index].label
                try:
                    kind, value = receive.recv()
                except EOFError:
                    worker = running[index][0]
                    worker.join(timeout=5)
                    raise TwostepError(f"training {label} stopped: its process exited with "
                                       f"code {worker.exitcode}") from None
                if kind == "update":
                    done[index] = value
                    show(label)
                elif kind == "interrupted":  # Ctrl-C in a terminal reaches the workers too
                    raise KeyboardInterrupt
                elif kind == "error":
                    raise TwostepError(f"training {label} failed: {value}")
                elif kind == "done":
                    done[index] = jobs[index].config.train.updates  # also when loaded
                    show(label)
                    worker, receive = running.pop(index)
                    receive.close()
                    worker.join()
    finally:
        for worker, _ in running.values():
            worker.terminate()
        for worker, receive in running.values():
            worker.join()
            receive.close()
        for bar in bars.values():
            bar.close()


def _next_to_start(waiting: list[int], jobs: list[_Job]) -> int | None:
    """Take the next job to start from ``waiting``: one whose run no other process is
    training, if any (so that two notebooks executing at once train different runs rather
    than wait for each other), else the first (its worker waits for the other process, then
    loads). Runs another process has finished meanwhile are dropped; None when none is left."""
    def run_dir(index: int) -> Path:
        return run_dir_for(jobs[index].config, jobs[index].root, "cpu")

    waiting[:] = [index for index in waiting if not is_finished(run_dir(index))]
    for index in waiting:
        try:
            with folder_lock(run_dir(index)):  # free: nobody trains it now
                pass
        except TwostepError:
            continue
        except OSError:  # no folder for it (its worker will say why, in one line)
            pass
        waiting.remove(index)
        return index
    return waiting.pop(0) if waiting else None


def _train_one(config: ExperimentConfig, root: str | Path | None, report: Connection) -> None:
    """Worker: train one run on the CPU with one thread, reporting each update on ``report``."""
    torch.set_num_threads(1)
    # tqdm's default lock holds a process-shared semaphore, which a worker stopped halfway
    # would leave behind (a warning at exit); this process shows no bar, so a thread lock does.
    tqdm.set_lock(threading.RLock())
    try:
        train_or_load(config, root, device="cpu", progress=False,
                      on_update=lambda done: report.send(("update", done)))
        last_word = ("done", None)
    except KeyboardInterrupt:
        last_word = ("interrupted", None)
    except TwostepError as error:
        last_word = ("error", str(error))
    except BaseException as error:  # reported whole: the caller prints it as one line
        last_word = ("error", f"{type(error).__name__}: {error}")
    try:
        report.send(last_word)
    except OSError:  # the caller is gone (stopped); nothing is left to tell
        pass
    finally:
        report.close()
