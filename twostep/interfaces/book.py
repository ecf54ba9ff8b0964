"""What every chapter of the book shares: one setup call, and glue for numbers in the prose.

>>> device, runs = book.setup()     # one thread, the device, where trained runs are cached,
...                                 # and the book's figure style
>>> book.glue("rc", 0.987)          # the Markdown then says {glue:text}`rc:.2f`

The chapters build their figures as :class:`matplotlib.figure.Figure` objects (no pyplot,
so nothing is shown twice), no wider than the text column
(:data:`twostep.analysis.plots.TEXT_WIDTH`), coloured from
:data:`twostep.analysis.plots.PALETTE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import torch

from twostep.analysis.plots import use_book_style
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
    shared), the device and the runs folder; figures made from here on take the book's
    style (:func:`twostep.analysis.plots.use_book_style`).

    ``auto`` chooses the device once, here, for every run of the chapter: the faster of
    the CPU and the GPU on an update of the book's networks (48 units, 8 seeds x 16
    episodes of ``wang2018``), measured once per machine and kept in the runs folder
    (:func:`twostep.runs.placement.choose_device`); the CPU when there is no GPU."""
    torch.set_num_threads(threads)
    use_book_style()
    runs = runs_dir()
    choice = choose_device(load_experiment("wang2018"), device, runs)
    if verbose:
        print(f"device: {choice.device} ({choice.reason})")
    return Setup(choice.device, runs)



def plain(value: Any) -> Any:
    """``value`` as a plain Python number where it is a NumPy or PyTorch scalar (whose
    ``repr``, e.g. ``np.float64(0.5)``, the book could not format), else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return item()
    return value


def glue(name: str, value: Any) -> None:
    """Keep ``value`` under ``name`` for the chapter's Markdown.

    Every number the prose states comes from a cell this way: the Markdown writes
    ``{glue:text}`name:.2f``` (a format spec after the last colon) and the book shows the
    value the cell computed when the book was built (myst-nb's ``glue``, not displayed in
    the cell). A word chosen from the data (``"above"``, ``"RU"``) is glued the same way.
    Where myst-nb is not installed (Colab, a plain Jupyter), nothing is kept and the
    Markdown shows the role as written. It returns nothing, so that a cell ending in it shows
    nothing.
    """
    try:
        from myst_nb import glue as keep
    except ImportError:
        return
    keep(name, plain(value), display=False)
