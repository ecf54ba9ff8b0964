"""Maps of a sweep: one number of the per-seed signature over two of the sweep's fields.

A sweep's results table (:func:`twostep.runs.sweep.results_table`) has one row per point and
seed. :func:`point_means` averages the seeds of each point; :func:`draw_map` draws one column of
it as a grid of coloured, labelled cells (``x`` and ``y`` two changed fields), with chosen cells
outlined in the book's colour for published values. Colours are Matplotlib's ``cividis``
(readable in colour-blind vision and in grey) unless said.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from twostep.analysis.plots import PALETTE
from twostep.errors import TwostepError


def point_means(table: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Mean over seeds of every number of each point: one row per point, with ``fields``,
    ``seeds`` (how many) and the means of the other numeric columns."""
    missing = [name for name in ("point", "seed", *fields) if name not in table.columns]
    if missing:
        raise TwostepError(f"sweep table: missing column(s) {', '.join(missing)}")
    numbers = [c for c in table.select_dtypes("number").columns
               if c not in ("point", "seed", *fields)]
    grouped = table.groupby(["point", *fields], sort=True)
    means = grouped[numbers].mean()
    means.insert(0, "seeds", grouped.size())
    return means.reset_index()


def draw_map(ax: Axes, means: pd.DataFrame, value: str, x: str, y: str,
             vmin: float | None = None, vmax: float | None = None, cmap: str = "cividis",
             fmt: str = ".2f", marks: Sequence[tuple[float, float, str]] = ()):
    """Draw ``means[value]`` on the grid of ``x`` by ``y`` values into ``ax``; return the image
    (for a colour bar).

    Each cell carries its value as text, black on light colours and white on dark ones.
    ``marks`` are ``(x, y, label)``: cells to outline and label (the published points); a mark
    off the grid raises :class:`TwostepError`. Rows of ``means`` with another value of a field
    other than ``x`` and ``y`` must be filtered out first: each cell is one point.
    """
    grid = means.pivot_table(index=y, columns=x, values=value, aggfunc="first")
    if means.duplicated([x, y]).any():
        raise TwostepError(f"map of {value}: several points share a cell of {x} x {y}; "
                           "select one value of the other fields first")
    xs, ys = list(grid.columns), list(grid.index)
    image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap=cmap,
                      vmin=vmin, vmax=vmax)
    texts = np.full((len(ys), len(xs)), "white", dtype=object)
    for row, cell_y in enumerate(ys):
        for column, cell_x in enumerate(xs):
            number = grid.loc[cell_y, cell_x]
            if pd.isna(number):
                continue
            red, green, blue, _ = image.cmap(image.norm(number))
            if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55:  # a light cell: dark text
                texts[row, column] = "black"
            ax.text(column, row - 0.05, format(number, fmt), ha="center", va="center",
                    fontsize=7.5, color=texts[row, column])
    for mark_x, mark_y, label in marks:
        if mark_x not in xs or mark_y not in ys:
            raise TwostepError(f"map of {value}: the mark {label!r} ({mark_x}, {mark_y}) is "
                               "not a cell of the grid")
        column, row = xs.index(mark_x), ys.index(mark_y)
        for colour, width in (("white", 3.2), (PALETTE["published"], 1.4)):
            ax.add_patch(Rectangle((column - 0.45, row - 0.45), 0.9, 0.9, fill=False, lw=width,
                                   edgecolor=colour, zorder=3))
        ax.text(column, row + 0.3, label, ha="center", va="center", fontsize=6.5,
                color=texts[row, column], zorder=3)
    ax.set_xticks(np.arange(len(xs)), [f"{v:g}" for v in xs])
    ax.set_yticks(np.arange(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return image
