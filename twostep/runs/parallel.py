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

import multiprocessing
import os
import signal
import threading
from collections.abc import Mapping
from multiprocessing.connection import Connection, wait
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from twostep.core.config import ExperimentConfig
from twostep.core.devices import resolve_device
from twostep.errors import Terminated, TwostepError
from twostep.files.locks import folder_in_use
from twostep.runs.checkpoints import is_finished
from twostep.runs.store import run_dir_for, train_or_load

# How long the caller waits for a word from its workers before it looks again, in seconds.
POLL_SECONDS = 0.5

# How long a stopped worker has to remove its temporary files and exit before it is killed.
STOP_SECONDS = 30.0


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
               if not is_finished(run_dir_for(config, root))}
    workers = min(len(pending), processes or os.cpu_count() or 1)
    if pending and device.type == "cpu" and workers > 1:
        _train_in_workers(pending, root, workers, progress)
    return {label: train_or_load(config, root, device=device, progress=progress)
            for label, config in configs.items()}


def _train_in_workers(configs: dict[str, ExperimentConfig], root: str | Path | None,
                      workers: int, progress: bool) -> None:
    """Train ``configs`` in ``workers`` spawned processes; report progress; stop them all on error.

    Each worker reports on its own pipe (no shared queue, so nothing is left to clean up
    when a worker is stopped halfway): ``("update", n)`` after each update, then ``("done",
    None)``, ``("error", message)`` or ``("interrupted", None)``. A pipe closed without a
    last word means its process died (killed, out of memory).
    """
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch has threads
    bars = {label: tqdm(total=config.train.updates, desc=label, unit="update", disable=not progress)
            for label, config in configs.items()}
    waiting = list(configs)
    running: dict[str, tuple[multiprocessing.process.BaseProcess, Connection]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                label = _next_to_start(waiting, configs, root)
                if label is None:  # the rest were finished by another process meanwhile
                    break
                folder = run_dir_for(configs[label], root).parent  # as the caller resolves it
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_train_one, args=(configs[label], folder, send),
                                         name=f"twostep-train-{label}", daemon=True)
                worker.start()
                send.close()  # the worker holds the sending end now
                running[label] = worker, receive
            by_pipe = {receive: label for label, (_, receive) in running.items()}
            for receive in wait(list(by_pipe), timeout=POLL_SECONDS):
                label = by_pipe[receive]
                try:
                    kind, value = receive.recv()
                except EOFError:
                    worker = running[label][0]
                    worker.join(timeout=5)
                    raise TwostepError(f"training {label} stopped: its process exited with "
                                       f"code {worker.exitcode}") from None
                if kind == "update":
                    bars[label].update(value - bars[label].n)
                elif kind == "interrupted":  # Ctrl-C in a terminal reaches the workers too
                    raise KeyboardInterrupt
                elif kind == "error":
                    raise TwostepError(f"training {label} failed: {value}")
                elif kind == "done":
                    bars[label].update(bars[label].total - bars[label].n)  # also when loaded
                    bars[label].close()
                    worker, receive = running.pop(label)
                    receive.close()
                    worker.join()
    finally:
        for worker, _ in running.values():
            worker.terminate()  # SIGTERM: the worker stops as for Ctrl-C, its files whole
        for worker, receive in running.values():
            worker.join(timeout=STOP_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()
            receive.close()
        for bar in bars.values():
            bar.close()


def _next_to_start(waiting: list[str], configs: dict[str, ExperimentConfig],
                   root: str | Path | None) -> str | None:
    """Take the next run to start from ``waiting``: one that no other process is training,
    if any (so that two notebooks executing at once train different runs rather than wait
    for each other), else the first (its worker waits for the other process, then loads).
    Runs another process has finished meanwhile are dropped; None when none is left."""
    waiting[:] = [label for label in waiting if not is_finished(run_dir_for(configs[label], root))]
    for label in waiting:
        if folder_in_use(run_dir_for(configs[label], root)):  # another process trains it now
            continue
        waiting.remove(label)
        return label
    return waiting.pop(0) if waiting else None


def _raise_terminated(signum, frame):
    raise Terminated(signum)


def _train_one(config: ExperimentConfig, root: str | Path | None, report: Connection) -> None:
    """Worker: train one run on the CPU with one thread, reporting each update on ``report``."""
    torch.set_num_threads(1)
    # SIGTERM (the caller stopping it, or `kill`) ends the run as Ctrl-C does: the temporary
    # file being written is removed and the last checkpoint is kept.
    signal.signal(signal.SIGTERM, _raise_terminated)
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
