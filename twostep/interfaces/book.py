"""What every chapter of the book shares: one setup call.

>>> device, runs = book.setup()     # one thread, the device, where trained runs are cached

The chapters build their figures as :class:`matplotlib.figure.Figure` objects (no pyplot,
so nothing is shown twice and no global state changes), colour them from
:data:`twostep.analysis.plots.PALETTE` and tidy their axes with
:func:`twostep.analysis.plots.tidy_axes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch

from twostep.core.config import load_experiment
from twostep.runs.placement import choose_device
from twostep.runs.store import runs_root


class Setup(NamedTuple):
    """A chapter's device and the folder where its trained runs are cached."""

    device: torch.device
    runs: Path


def runs_dir() -> Path:
    """Where the chapters cache trained runs: ``$TWOSTEP_RUNS`` when set, else ``runs/`` at
    the root of the book, one level above the ``notebooks`` folder the chapters execute in
    (else ``runs/`` in the working directory, e.g. on Colab); see
    :func:`twostep.runs.store.runs_root`."""
    here = Path.cwd()
    return runs_root(default=(here.parent if here.name == "notebooks" else here) / "runs")


def setup(device: str = "auto", threads: int = 1, verbose: bool = True) -> Setup:
    """One intra-op thread (per-step ops are tiny, and extra threads stall when cores are
    shared), the device and the runs folder.

    ``auto`` chooses the device once, here, for every run of the chapter: the faster of
    the CPU and the GPU on an update of the book's networks (48 units, 8 seeds x 16
    episodes of ``wang2018``), measured once per machine and kept in the runs folder
    (:func:`twostep.runs.placement.choose_device`); the CPU when there is no GPU."""
    torch.set_num_threads(threads)
    runs = runs_dir()
    choice = choose_device(load_experiment("wang2018"), device, runs)
    if verbose:
        print(f"device: {choice.device} ({choice.reason})")
    return Setup(choice.device, runs)

