"""The two training protocols side by side: where each bar moves when the batching
deviation is undone, and where the bars settle along training.

The book's headline runs are trained batched (16 episodes per update per seed); the
``*-paper-protocol`` runs train one episode per update, as the public reimplementations
attribute to the papers (:data:`twostep.analysis.published.PROTOCOLS`). These helpers take
the rows of :func:`twostep.runs.reproduce.source_table` (one per bar) and the table of
:func:`twostep.runs.along.panels_along_training` (per seed and snapshot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from twostep.analysis.plots import PALETTE, tidy_axes
from twostep.analysis.published import PUBLISHED_ERROR_FOR_PANEL, PUBLISHED_FOR_PANEL
from twostep.analysis.stats import CONDITION_LABELS, CONDITION_SHORT, CONDITIONS

KEYS = ["panel", "reading", "condition"]


def protocol_moves(batched: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """One row per bar present in both tables (matched on panel, reading and condition):
    the published value and error bar, each protocol's mean, the move (paper minus
    batched), each protocol's distance to the published value as shown (rounded to 0.01),
    whether each is within the published error bar, and whether the paper protocol's bar
    is closer."""
    columns = [*KEYS, "published", "published_error", "mean"]
    both = batched[columns].merge(paper[[*KEYS, "mean"]], on=KEYS, suffixes=("_batched",
                                                                              "_paper"))
    both = both.rename(columns={"mean_batched": "batched", "mean_paper": "paper"})
    both["move"] = both["paper"] - both["batched"]
    for protocol in ("batched", "paper"):
        distance = (both[protocol] - both["published"]).abs().round(2)
        both[f"distance_{protocol}"] = distance
        both[f"within_{protocol}"] = distance <= both["published_error"] + 1e-9
    both["closer"] = np.sign(both["distance_batched"] - both["distance_paper"]).astype(int)
    return both


def course(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and s.e.m. over seeds of every bar at every snapshot: one row per panel,
    reading, condition and ``episodes_trained``."""
    keys = [*KEYS, "episodes_trained"]
    grouped = table.groupby(keys, sort=True)["stay_probability"]
    out = grouped.agg(["mean", "count", "std"]).reset_index()
    out["sem"] = out["std"] / np.sqrt(out["count"])
    return out.drop(columns=["std"]).rename(columns={"count": "seeds"})


def settled(table: pd.DataFrame, last: int = 5) -> pd.DataFrame:
    """Where each bar settles: its mean over the last ``last`` snapshots, with the
    published value and whether it is within the published error bar; and the snapshot
    (episodes) at which the bar came closest to the published value."""
    means = course(table)
    rows = []
    for (panel, reading, condition), bar in means.groupby(KEYS, sort=False):
        published = PUBLISHED_FOR_PANEL[panel][1][condition]
        error = PUBLISHED_ERROR_FOR_PANEL[panel][condition]
        bar = bar.sort_values("episodes_trained")
        end = bar.tail(last)["mean"].mean()
        nearest = bar.loc[(bar["mean"] - published).abs().idxmin()]
        rows.append({"panel": panel, "reading": reading, "condition": condition,
                     "published": published, "published_error": error,
                     "settled": end, "distance": round(abs(end - published), 2),
                     "within": round(abs(end - published), 2) <= error + 1e-9,
                     "closest_at": int(nearest["episodes_trained"]),
                     "closest": nearest["mean"]})
    return pd.DataFrame(rows)


def course_figure(table: pd.DataFrame, panels: Sequence[tuple[str, str]],
                  titles: Mapping[tuple[str, str], str] | None = None,
                  width: float = 6.6, row_height: float = 2.2) -> Figure:
    """Each bar's course along training (mean +- s.e.m. over seeds), one axes per
    ``(panel, reading)``, beside its published value and error bar (a band in the bar's
    colour); one shared legend."""
    means = course(table)
    ncols = min(len(panels), 2)
    nrows = -(-len(panels) // ncols)
    figure = Figure(figsize=(width, row_height * nrows + 0.5), layout="constrained")
    axes = np.atleast_1d(figure.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
                         ).ravel()
    for ax, (panel, reading) in zip(axes, panels, strict=False):
        published = PUBLISHED_FOR_PANEL[panel][1]
        error = PUBLISHED_ERROR_FOR_PANEL[panel]
        for condition in CONDITIONS:
            bar = means[(means["panel"] == panel) & (means["reading"] == reading)
                        & (means["condition"] == condition)].sort_values("episodes_trained")
            x = bar["episodes_trained"] / 1000
            colour = PALETTE[condition]
            ax.axhspan(published[condition] - error[condition],
                       published[condition] + error[condition], color=colour, alpha=0.12, lw=0)
            ax.plot(x, bar["mean"], color=colour, lw=1.4, label=CONDITION_LABELS[condition])
            ax.fill_between(x, bar["mean"] - bar["sem"], bar["mean"] + bar["sem"],
                            color=colour, alpha=0.25, lw=0)
        ax.set_title((titles or {}).get((panel, reading), f"{panel}, {reading}"), fontsize=9)
        ax.set_ylim(0, 1.02)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-ncols:]:
        ax.set_xlabel("training episodes per seed (thousands)")
    for ax in axes[::ncols]:
        ax.set_ylabel("P(stay)")
    tidy_axes(axes[:len(panels)])
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False,
                  title="bars: ours (line, ± s.e.m.); bands: published value ± its error bar",
                  title_fontsize=8, fontsize=8)
    return figure


def moves_display(moves: pd.DataFrame, label: Mapping[tuple[str, str], str] | None = None
                  ) -> pd.DataFrame:
    """:func:`protocol_moves` as a page shows it: one row per bar, the published value with
    its error bar, each protocol's mean, the move, which protocol is closer, and whether
    each is within the published error bar (batched / paper, ✓ or ✗)."""
    def flag(value: bool) -> str:
        return "✓" if value else "✗"

    closer = {1: "paper", -1: "batched", 0: "equal"}
    shown = pd.DataFrame({
        "bar": [CONDITION_SHORT[c] for c in moves["condition"]],
        # no-break spaces: the value and its error bar stay on one line in narrow columns
        "published": [f"{p:.2f}\u00a0±\u00a0{e:.2f}" for p, e in zip(moves["published"],
                                                            moves["published_error"],
                                                            strict=True)],
        "batched": moves["batched"].map("{:.2f}".format),
        "paper protocol": moves["paper"].map("{:.2f}".format),
        "move": moves["move"].map(lambda v: f"{round(v, 2) + 0.0:+.2f}"),
        "closer": moves["closer"].map(closer),
        "within bar (batched / paper)": [f"{flag(b)} / {flag(p)}" for b, p in zip(
            moves["within_batched"], moves["within_paper"], strict=True)],
    })
    if label is not None:
        shown.insert(0, "panel", [label[(p, r)] for p, r in zip(moves["panel"], moves["reading"],
                                                                 strict=True)])
    return shown
