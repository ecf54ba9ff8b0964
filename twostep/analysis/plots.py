"""Figures drawn from the tidy tables of :mod:`twostep.analysis.stats` and training metrics.

Every function returns a :class:`matplotlib.figure.Figure` (made without pyplot, so
nothing is shown twice in a notebook and no global state changes) or draws into the
``ax`` it is given and returns that axes' figure. Colours come from :data:`PALETTE`,
error bars are s.e.m. over seeds unless said.

The book's figures are sized for its text column (:data:`TEXT_WIDTH`) and drawn in
:data:`BOOK_STYLE` (:func:`use_book_style`), so that they are shown at the size they were
drawn, never shrunk, and their fonts stay readable. One colour means one thing across
the book: blue and orange mean a *common* and an *uncommon* transition (light blue and
vermillion the unrewarded ones), and nothing else; second-stage states, agents and runs
take other colours (:data:`PALETTE`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from twostep.analysis.stats import CONDITION_SHORT, CONDITIONS, POOLED
from twostep.errors import TwostepError

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
"""Okabe & Ito's colour-blind-safe palette."""

PALETTE = {
    "common": OKABE_ITO["blue"],
    "uncommon": OKABE_ITO["orange"],
    "published": OKABE_ITO["black"],
    "seed": "#4D4D4D",
    "rewarded_common": OKABE_ITO["blue"],
    "rewarded_uncommon": OKABE_ITO["orange"],
    "unrewarded_common": OKABE_ITO["sky_blue"],
    "unrewarded_uncommon": OKABE_ITO["vermillion"],
    # second-stage states 0 and 1 (Paul Tol's indigo and sand: apart in hue and lightness)
    "state": ("#332288", "#DDCC77"),
    # runs, agents and players: none of the transition colours
    "runs": [OKABE_ITO["green"], OKABE_ITO["purple"], "#555555", "#999933", "#882255",
             "#AAAAAA", OKABE_ITO["black"]],
    "highlight": "#882255",
    "shade": "0.92",
}
"""Colours by meaning: transitions (and the trial types built on them), published values,
seed dots, the two second-stage states, a cycle for runs and agents, a highlight, and a
neutral shade for spans of trials. Blue and orange mean common and uncommon only."""

LINESTYLE = {"rewarded_common": "-", "rewarded_uncommon": "-",
             "unrewarded_common": "--", "unrewarded_uncommon": "--"}

TEXT_WIDTH = 6.6
"""Width of the book's text column, in inches at :data:`BOOK_STYLE`'s 100 dots per inch
(688 CSS pixels at a 1280-pixel window, less the few pixels the notebook's tight crop adds;
the book shows retina PNGs at their drawn size).
A figure no wider than this is shown at the size it was drawn; a wider one would be shrunk,
its fonts with it (the browser check fails on it)."""

BOOK_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": "figure",
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.major.size": 3,
    "ytick.major.size": 3,
}
"""Matplotlib settings of the book's figures: 100 dpi (so that :data:`TEXT_WIDTH` holds) and
fonts of 9 to 10 points, 12 to 14 CSS pixels when shown at the drawn size."""

SMALL = 8.5
"""Font size (points) of the smallest text in a figure: notes and numbers on bars."""


def use_book_style() -> None:
    """Apply :data:`BOOK_STYLE` to every figure made from now on (the chapters' setup does)."""
    matplotlib.rcParams.update(BOOK_STYLE)


def figure(height: float, width: float = TEXT_WIDTH) -> Figure:
    """An empty figure for the book: the text column's width by default, constrained layout."""
    if width > TEXT_WIDTH + 1e-9:
        raise TwostepError(f"a figure {width} in wide is wider than the text column ({TEXT_WIDTH} in)")
    return Figure(figsize=(width, height), layout="constrained")


def shared_legend(figure: Figure, handles: Sequence[Artist], ncol: int | None = None,
                  where: str = "upper center", **kwargs) -> None:
    """One legend for all panels of ``figure``, outside them (above by default)."""
    figure.legend(handles=list(handles), loc=f"outside {where}",
                  ncol=ncol or len(handles), handlelength=1.4, columnspacing=1.2, **kwargs)


def stay_legend_handles(published_label: str | None = None,
                        published_error: bool = False) -> list[Artist]:
    """The legend entries of :func:`stay_bars`, for one :func:`shared_legend` over its panels."""
    handles = [Patch(color=PALETTE["common"], label="common"),
               Patch(color=PALETTE["uncommon"], label="uncommon"),
               Line2D([], [], marker="o", ls="", markerfacecolor="white",
                      markeredgecolor=PALETTE["seed"], markersize=4, label="one seed")]
    if published_label is not None:
        if published_error:
            handles.append(Patch(color=PALETTE["published"], alpha=0.18,
                                 label="published error bar (approx.)"))
        handles.append(Line2D([], [], ls="", marker="D", markerfacecolor="none",
                              markeredgecolor=PALETTE["published"], label=published_label))
    return handles


_BAR_X = {"rewarded_common": 0.0, "rewarded_uncommon": 1.0,
          "unrewarded_common": 2.5, "unrewarded_uncommon": 3.5}
_BAR_WIDTH = 0.8


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _label_y(ax: Axes, label: str) -> None:
    """The y label, on the first column of a grid only (the panels beside it share it)."""
    spec = ax.get_subplotspec()
    if spec is None or spec.is_first_col() or not ax.get_shared_y_axes().get_siblings(ax)[1:]:
        ax.set_ylabel(label)


def tidy_axes(axes: Axes | Sequence[Axes] | np.ndarray) -> None:
    """The book's axes style, on one axes or many: no top or right spine, short ticks."""
    for ax in np.atleast_1d(axes).ravel():
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(direction="out", length=3)


def _require(table: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise TwostepError(f"{what}: missing column(s) {', '.join(missing)}")


def _sem(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else np.nan


def stay_bars(per_seed: pd.DataFrame, published: Mapping[str, float] | None = None,
              ax: Axes | None = None, title: str | None = "Stay probability",
              published_label: str = "published",
              published_error: Mapping[str, float] | None = None,
              legend: bool = True) -> Figure:
    """Bars of P(stay) per condition: mean over seeds, s.e.m. error bars, one dot per seed.

    Args:
        per_seed: :func:`twostep.analysis.stats.stay_probabilities` (``seed``, ``condition``,
            ``stay_probability``).
        published: published stay probabilities by condition; each is drawn as a hollow
            black diamond beside its bar, and ours - published is written above the bar.
        published_label: legend entry for those diamonds.
        published_error: approximate half-width of each published error bar, by
            condition; drawn as a grey band behind the diamond.
        legend: draw the legend above the axes; panels that repeat it leave it out and share
            one (:func:`shared_legend` with :func:`stay_legend_handles`).
    """
    _require(per_seed, ["seed", "condition", "stay_probability"], "stay table")
    figure, ax = _axes(ax, (3.6, 3.0))
    grouped = per_seed.groupby(per_seed["condition"].astype(str))["stay_probability"]
    means = grouped.mean().reindex(CONDITIONS)
    sems = grouped.agg(_sem).reindex(CONDITIONS)
    x = np.array([_BAR_X[c] for c in CONDITIONS])
    colours = [PALETTE["common"] if c.endswith("_common") else PALETTE["uncommon"]
               for c in CONDITIONS]
    ax.bar(x, means.to_numpy(), width=_BAR_WIDTH, color=colours, alpha=0.85, zorder=1,
           yerr=sems.fillna(0).to_numpy(), error_kw={"ecolor": "black", "capsize": 3, "lw": 1})

    jitter = np.random.default_rng(0)
    for condition, position in zip(CONDITIONS, x, strict=True):
        values = per_seed.loc[per_seed["condition"].astype(str) == condition, "stay_probability"]
        values = values.dropna().to_numpy()
        offsets = jitter.uniform(-0.18, 0.18, size=len(values))
        ax.scatter(position + offsets, values, s=12, color="white", edgecolor=PALETTE["seed"],
                   linewidth=0.8, zorder=3)

    if published is not None:
        theirs = np.array([published.get(c, np.nan) for c in CONDITIONS], dtype=float)
        if published_error is not None:
            half = np.array([published_error.get(c, np.nan) for c in CONDITIONS], dtype=float)
            band_x = x + _BAR_WIDTH / 2 + 0.12
            for position, centre, width in zip(band_x, theirs, half, strict=True):
                if np.isnan(centre) or np.isnan(width):
                    continue
                ax.add_patch(Rectangle((position - 0.11, max(centre - width, 0.0)), 0.22,
                                       min(centre + width, 1.0) - max(centre - width, 0.0),
                                       color=PALETTE["published"], alpha=0.18, lw=0, zorder=2))
        ax.plot(x + _BAR_WIDTH / 2 + 0.12, theirs, ls="", marker="D", markersize=6,
                markerfacecolor="none", markeredgecolor=PALETTE["published"], mew=1.3,
                label=published_label, zorder=4, clip_on=False)
        highest_seed = grouped.max().reindex(CONDITIONS).to_numpy()
        tops = np.fmax(np.fmax(means.to_numpy() + sems.fillna(0).to_numpy(), theirs),
                       highest_seed)
        for index, (position, ours, reference, top) in enumerate(
                zip(x, means, theirs, tops, strict=True)):
            if np.isnan(ours) or np.isnan(reference):
                continue
            difference = round(float(ours - reference), 2) + 0.0  # no "-0.00"
            height = min(top + 0.015, 1.01)
            # the left neighbour's diamond (RC's beside RU, UC's beside UU) sits just left of
            # this bar: at about the same height, the number moves right, clear of it
            beside = index % 2 == 1 and abs(theirs[index - 1] - height) < 0.08
            ax.text(position + (0.12 if beside else 0.0), height, f"{difference:+.2f}",
                    ha="center", va="bottom", fontsize=SMALL, clip_on=False)

    ax.set_xticks(x, [CONDITION_SHORT[c] for c in CONDITIONS])
    ax.set_xticks([0.5, 3.0], ["rewarded", "unrewarded"], minor=True)
    ax.tick_params(axis="x", which="minor", length=0, pad=15)
    ax.set_ylim(0, 1.05)
    ax.set_xlim(-0.6, 4.25)
    _label_y(ax, "P(stay)")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":", zorder=0)
    pad = 6 if published is None else 16  # room for the differences written above the bars
    if legend:
        handles = stay_legend_handles(None if published is None else published_label,
                                      published is not None and published_error is not None)
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=3,
                  handlelength=1.2, columnspacing=0.9)
        pad += 8 + 13 * ((len(handles) + 2) // 3)
    if title:
        ax.set_title(title, pad=pad)
    tidy_axes(ax)
    return figure


def _labelled(tables: pd.DataFrame | Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """One table, or several by label, as a mapping from label to table."""
    if isinstance(tables, pd.DataFrame):
        return {"": tables}
    return dict(tables)


def learning_curves(metrics: pd.DataFrame | Mapping[str, pd.DataFrame], ax: Axes | None = None,
                    smooth: int = 1, references: Mapping[str, float] | None = None,
                    title: str | None = "Learning curves",
                    ylabel: str = "reward per episode") -> Figure:
    """Reward per episode against episodes trained: mean over seeds with an s.e.m. band.

    Args:
        metrics: one run's table, or several by label (overlaid, one colour each); one row
            per update per seed with columns ``update``, ``seed``, ``episodes`` (episodes
            trained so far) and ``reward``.
        smooth: running mean over this many updates, per seed, before averaging.
        references: horizontal dotted lines by label, e.g. ``{"chance": 50, "ideal": 70.7}``.
    """
    figure, ax = _axes(ax, (5.0, 3.2))
    for index, (label, table) in enumerate(_labelled(metrics).items()):
        _require(table, ["update", "seed", "episodes", "reward"], "metrics table")
        table = table.sort_values(["seed", "update"])
        reward = table.groupby("seed")["reward"].transform(
            lambda series: series.rolling(smooth, min_periods=1).mean())
        per_update = table.assign(reward=reward).groupby("update").agg(
            episodes=("episodes", "mean"), mean=("reward", "mean"),
            sem=("reward", _sem))
        colour = PALETTE["runs"][index % len(PALETTE["runs"])]
        ax.plot(per_update["episodes"], per_update["mean"], color=colour, lw=1.5,
                label=label or None)
        band = per_update["sem"].fillna(0)
        ax.fill_between(per_update["episodes"], per_update["mean"] - band,
                        per_update["mean"] + band, color=colour, alpha=0.25, lw=0)
    for label, value in (references or {}).items():
        ax.axhline(value, color="0.4", lw=0.8, ls=":")
        ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=SMALL, color="0.3")
    ax.set_xlabel("episodes trained")
    _label_y(ax, ylabel)
    if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the data, not on it
    if title:
        ax.set_title(title)
    tidy_axes(ax)
    return figure


def _estimates(table: pd.DataFrame, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray,
                                                                    dict[str, np.ndarray]]:
    """Bar heights and error bars per term: mean and s.e.m. over seeds when the table has
    two or more seeds, else the pooled fit's estimate and standard error."""
    seeds = table[table["seed"].astype(str) != POOLED]
    dots = {term: seeds.loc[seeds["term"] == term, "estimate"].to_numpy() for term in terms}
    if seeds["seed"].nunique() >= 2:
        grouped = seeds.groupby("term")["estimate"]
        return (grouped.mean().reindex(terms).to_numpy(),
                grouped.agg(_sem).reindex(terms).to_numpy(), dots)
    pooled = table[table["seed"].astype(str) == POOLED].set_index("term")
    if pooled.empty:
        pooled = table.set_index("term")
    return (pooled["estimate"].reindex(terms).to_numpy(), pooled["se"].reindex(terms).to_numpy(),
            dots)


def regression_coefficients(table: pd.DataFrame | Mapping[str, pd.DataFrame],
                            ax: Axes | None = None, title: str | None = "Logistic regression",
                            drop: Sequence[str] = (), legend: bool = True) -> Figure:
    """Coefficient bars of :func:`~twostep.analysis.stats.daw_regression` (or the corrected one).

    Bars are the mean over seeds with s.e.m. error bars and one dot per seed; a table with
    a single seed shows the pooled fit's estimate and standard error instead. Several
    tables by label are drawn as grouped bars (e.g. raw beside corrected).
    ``drop`` leaves terms out (e.g. ``["intercept"]``); ``legend=False`` leaves the legend
    to a :func:`shared_legend` (the bars take :data:`PALETTE` ``"runs"`` in table order).
    """
    tables = _labelled(table)
    for each in tables.values():
        _require(each, ["seed", "term", "estimate", "se"], "coefficient table")
    terms = [t for t in dict.fromkeys(pd.concat(list(tables.values()))["term"]) if t not in drop]
    figure, ax = _axes(ax, (min(TEXT_WIDTH, 1.0 + 0.9 * len(terms) * max(1, len(tables)) ** 0.5),
                            3.2))
    width = 0.8 / len(tables)
    x = np.arange(len(terms))
    for index, (label, each) in enumerate(tables.items()):
        heights, errors, dots = _estimates(each, terms)
        offset = (index - (len(tables) - 1) / 2) * width
        colour = PALETTE["runs"][index % len(PALETTE["runs"])]
        present = ~np.isnan(heights)
        ax.bar((x + offset)[present], heights[present], width=width * 0.9, color=colour,
               alpha=0.85, yerr=np.nan_to_num(errors[present]),
               error_kw={"ecolor": "black", "capsize": 3, "lw": 1}, label=label or None)
        for position, term in zip(x + offset, terms, strict=True):
            values = dots[term]
            if len(values) >= 2:
                ax.scatter(np.full(len(values), position), values, s=10, color="white",
                           edgecolor=PALETTE["seed"], linewidth=0.8, zorder=3)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [t.replace(":", " ×\n") for t in terms])
    _label_y(ax, "coefficient (logit)")
    if len(tables) > 1 and legend:
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=len(tables))
    if title:
        ax.set_title(title, pad=24 if len(tables) > 1 and legend else 6)
    tidy_axes(ax)
    return figure


def lagged_weights(coefs: pd.DataFrame, ax: Axes | None = None,
                   title: str | None = "Lagged regression", legend: bool = True) -> Figure:
    """Weights of :func:`~twostep.analysis.stats.lagged_regression` against lag, one line per
    trial type: mean over seeds with s.e.m. error bars (the pooled fit with its standard
    error for a single seed). The legend sits beside the axes; ``legend=False`` leaves it to
    a :func:`shared_legend` over several panels (:func:`trial_type_handles`)."""
    _require(coefs, ["seed", "term", "lag", "estimate", "se"], "lagged coefficient table")
    weights = coefs[coefs["term"].isin(CONDITIONS)]
    if weights.empty:
        raise TwostepError("lagged coefficient table: no trial-type weights")
    figure, ax = _axes(ax, (4.2, 3.2))
    seeds = weights[weights["seed"].astype(str) != POOLED]
    use_seeds = seeds["seed"].nunique() >= 2
    for condition in CONDITIONS:
        if use_seeds:
            rows = seeds[seeds["term"] == condition].groupby("lag")["estimate"]
            mean, error = rows.mean(), rows.agg(_sem)
        else:
            rows = weights[(weights["term"] == condition)
                           & (weights["seed"].astype(str) == POOLED)]
            if rows.empty:
                rows = weights[weights["term"] == condition]
            rows = rows.set_index("lag").sort_index()
            mean, error = rows["estimate"], rows["se"]
        lags = mean.index.to_numpy(dtype=float)
        ax.errorbar(lags, mean.to_numpy(), yerr=error.fillna(0).to_numpy(), marker="o",
                    markersize=4, capsize=2, lw=1.4, color=PALETTE[condition],
                    ls=LINESTYLE[condition], label=CONDITION_SHORT[condition])
    ax.axhline(0, color="black", lw=0.8)
    lags = sorted(weights["lag"].dropna().astype(int).unique())
    ax.set_xticks(lags)
    ax.set_xlabel("trials back (lag)")
    _label_y(ax, "weight on repeating (logit)")
    if legend:
        ax.legend(handles=trial_type_handles(), title="trial type", loc="upper left",
                  bbox_to_anchor=(1.0, 1.0))
    if title:
        ax.set_title(title)
    tidy_axes(ax)
    return figure


def trial_type_handles() -> list[Artist]:
    """Legend entries for the four trial types (RC, RU, UC, UU) as :func:`lagged_weights`
    draws them."""
    return [Line2D([], [], color=PALETTE[c], ls=LINESTYLE[c], marker="o", markersize=4,
                   label=CONDITION_SHORT[c]) for c in CONDITIONS]


def episode_strip(ax: Axes, tags: np.ndarray, state: np.ndarray, reward: np.ndarray,
                  recalled: np.ndarray, highlight: int | None = None,
                  legend: bool = True) -> Figure:
    """One episode of the episodic two-step task, in two rows that line up: the uncued trials
    (top: the context stored on each) and the cued trials (bottom: the cue shown on each),
    each trial's second-stage state and reward under it, and a line from every cued trial to
    the trial it recalls, dark when that trial was rewarded.

    Args:
        tags: ``[T, bits]``, the context stored (uncued trials) or the cue shown (cued).
        state, reward: ``[T]``, each trial's second-stage state (0/1) and reward (0/1).
        recalled: ``[T]``, the uncued trial each cued trial recalls (-1 on uncued trials).
        highlight: a cued trial whose line, and the two trials it joins, are marked.
    """
    tags, state, reward = np.asarray(tags, float), np.asarray(state, int), np.asarray(reward, int)
    recalled = np.asarray(recalled, int)
    trials, bits = tags.shape
    uncued = trials // 2
    x = np.arange(uncued)
    top, bottom = 2 * bits + 13.0, 0.0           # the lower edge of each row's bits
    rows = {"uncued": (0, top), "cued": (uncued, bottom)}
    state_colours = np.array(PALETTE["state"])
    for first, base in rows.values():
        ax.imshow(tags[first:first + uncued].T, cmap="Greys", aspect="auto", vmin=0, vmax=1.6,
                  extent=(-0.5, uncued - 0.5, base, base + bits), interpolation="nearest",
                  origin="lower")
        ax.scatter(x, np.full(uncued, base - 2.0), c=state_colours[state[first:first + uncued]],
                   marker="s", s=16, linewidths=0)
        paid = reward[first:first + uncued] == 1
        ax.scatter(x, np.full(uncued, base - 4.0), marker="o", s=14, linewidths=0.7,
                   facecolors=np.where(paid, "black", "white"), edgecolors="black")
    line_top, line_bottom = top - 5.0, bottom + bits + 0.4
    for t in range(uncued, trials):
        k = recalled[t]
        marked = highlight is not None and t == highlight
        colour = PALETTE["highlight"] if marked else ("0.25" if reward[k] == 1 else "0.78")
        ax.plot([k, t - uncued], [line_top, line_bottom], color=colour,
                lw=2.2 if marked else 0.8, zorder=3 if marked else 2)
    if highlight is not None:
        for column, base in ((recalled[highlight], top), (highlight - uncued, bottom)):
            ax.add_patch(Rectangle((column - 0.5, base - 4.8), 1, bits + 5.0, fill=False,
                                   ec=PALETTE["highlight"], lw=1.6, zorder=4))
    ax.set_yticks([top + bits / 2, top - 2.0, top - 4.0, bottom + bits / 2, bottom - 2.0,
                   bottom - 4.0],
                  ["context", "state", "reward", "cue", "state", "reward"], fontsize=SMALL)
    ax.tick_params(axis="y", length=0)
    ticks = np.arange(0, uncued, 10)
    ax.set_xticks(ticks, [f"{t}\n{t + uncued}" for t in ticks], fontsize=SMALL)
    ax.set_xlabel("trial (uncued, above; cued, below)")
    ax.set_xlim(-1, uncued)
    ax.set_ylim(bottom - 5.5, top + bits + 0.5)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if legend:
        handles = [Patch(color=PALETTE["state"][0], label="state 0"),
                   Patch(color=PALETTE["state"][1], label="state 1"),
                   Line2D([], [], marker="o", ls="", color="black", markersize=4,
                          label="rewarded"),
                   Line2D([], [], color="0.25", lw=1.2, label="recalls a rewarded trial"),
                   Line2D([], [], color="0.78", lw=1.2, label="recalls an unrewarded trial")]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
                  handlelength=1.2, columnspacing=1.0, fontsize=SMALL)
    return ax.figure
