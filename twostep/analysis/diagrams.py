"""Diagrams of the book, drawn from code so that they can be rebuilt: the two-step task, the
meta-RL loop, and how the epLSTM is wired to its episodic memory.

Each function returns a :class:`matplotlib.figure.Figure` no wider than the book's text
column (:data:`twostep.analysis.plots.TEXT_WIDTH`). The diagrams take plain numbers (the
task's probabilities), not configurations: the analysis layer does not import the science.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from twostep.analysis.plots import PALETTE, SMALL, TEXT_WIDTH

_INK = "0.15"
_MUTED = "0.45"


def _canvas(width: float, height: float, xlim: float, ylim: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), layout="constrained")
    ax = figure.add_subplot()
    ax.set_xlim(0, xlim)
    ax.set_ylim(0, ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return figure, ax


def _box(ax: Axes, x: float, y: float, text: str, width: float, height: float,
         face: str = "white", edge: str = _INK, size: float = 9.5, colour: str = _INK,
         weight: str = "normal", style: str = "round,pad=0.02,rounding_size=0.15") -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle=style,
                                facecolor=face, edgecolor=edge, lw=1.1))
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=colour, weight=weight)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str = "",
           colour: str = _INK, lw: float = 1.3, ls: str = "-", rad: float = 0.0,
           label_at: float = 0.5, offset: tuple[float, float] = (0.0, 0.0),
           size: float = SMALL, ha: str = "center", face: str = "white") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, lw=lw,
                                 ls=ls, color=colour, shrinkA=1, shrinkB=1,
                                 connectionstyle=f"arc3,rad={rad}"))
    if label:
        x = start[0] + label_at * (end[0] - start[0]) + offset[0]
        y = start[1] + label_at * (end[1] - start[1]) + offset[1]
        ax.text(x, y, label, ha=ha, va="center", fontsize=size, color=colour,
                bbox={"facecolor": face, "edgecolor": "none", "pad": 0.6})


def two_step_task(common: float, reward_good: float, reward_bad: float,
                  reversal: float) -> Figure:
    """The two-step task: two choices, common (thick) and uncommon (dashed) transitions to two
    second-stage states, the reward probabilities and the reversal rate."""
    figure, ax = _canvas(TEXT_WIDTH * 0.8, 3.0, 10, 5.6)
    uncommon = 1 - common
    _box(ax, 5, 5.1, "first stage: choose 0 or 1", 4.2, 0.8, face="0.94")
    _arrow(ax, (4.2, 4.68), (2.7, 3.95))
    _arrow(ax, (5.8, 4.68), (7.3, 3.95))
    _box(ax, 2.5, 3.5, "choice 0", 2.0, 0.8)
    _box(ax, 7.5, 3.5, "choice 1", 2.0, 0.8)
    for x, dx, ha in ((2.5, -0.25, "right"), (7.5, 0.25, "left")):
        ax.add_patch(FancyArrowPatch((x, 3.08), (x, 1.72), arrowstyle="-|>", mutation_scale=12,
                                     lw=2.6, color=PALETTE["common"], shrinkA=1, shrinkB=1))
        ax.text(x + dx, 2.4, f"common\n{common:g}", ha=ha, va="center", fontsize=SMALL,
                color=PALETTE["common"])
    for start, end in (((3.3, 3.08), (6.7, 1.72)), ((6.7, 3.08), (3.3, 1.72))):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.3,
                                     ls="--", color=PALETTE["uncommon"], shrinkA=1, shrinkB=1))
    ax.text(5, 1.3, f"uncommon\n{uncommon:g}", ha="center", va="center", fontsize=SMALL,
            color=PALETTE["uncommon"])
    state0, state1 = PALETTE["state"]
    _box(ax, 2.5, 1.3, "state 0", 2.0, 0.8, face=state0, colour="white", weight="bold")
    _box(ax, 7.5, 1.3, "state 1", 2.0, 0.8, face=state1, weight="bold")
    ax.text(5, 0.3, f"the good state pays 1 with p = {reward_good:g}, the other with "
            f"p = {reward_bad:g};\nbefore each trial the good state swaps with p = {reversal:g}",
            ha="center", va="center", fontsize=SMALL, color=_INK)
    return figure


def meta_rl_loop() -> Figure:
    """The two loops of meta-reinforcement learning: within an episode the LSTM's activity
    carries what it has learned (weights fixed); across episodes A2C changes the weights."""
    figure, ax = _canvas(TEXT_WIDTH, 3.2, 13.6, 6.4)
    shade, inner, outer = PALETTE["shade"], PALETTE["runs"][0], PALETTE["runs"][1]
    ax.add_patch(FancyBboxPatch((0.2, 1.45), 8.45, 4.85,
                                boxstyle="round,pad=0.02,rounding_size=0.3",
                                facecolor=shade, edgecolor="none"))
    ax.text(0.45, 5.95, "inner loop: one episode, weights θ fixed", ha="left", va="center",
            fontsize=9.5, weight="bold", color=inner)
    _box(ax, 2.2, 3.8, "two-step task\n(good state hidden,\nswaps now and then)", 3.3, 1.7)
    _box(ax, 6.5, 3.8, "LSTM agent\n$h_t = f_\\theta(h_{t-1}, x_t)$\npolicy π, value V", 3.3,
         1.7, edge=inner)
    _arrow(ax, (4.85, 4.3), (3.85, 4.3), "choice $c_t$", offset=(0, 0.36), face=shade)
    _arrow(ax, (3.85, 3.3), (4.85, 3.3), "input $x_{t+1}$: state\nreached, choice, reward",
           offset=(0, -0.85), face=shade)
    ax.add_patch(FancyArrowPatch((7.3, 4.66), (5.7, 4.66), arrowstyle="-|>", mutation_scale=11,
                                 lw=1.3, color=inner, connectionstyle="arc3,rad=1.0"))
    ax.text(7.45, 5.3, "$h_t$ carries over", ha="left", va="center", fontsize=SMALL,
            color=inner)
    _box(ax, 11.55, 3.8, "A2C (model-free)\n$\\theta \\leftarrow \\theta - \\eta\\,"
         "\\nabla_\\theta \\mathcal{L}$", 3.7, 1.7, edge=outer)
    _arrow(ax, (9.7, 4.3), (8.15, 4.3), "new θ", colour=outer, offset=(0.25, 0.36))
    _arrow(ax, (8.15, 3.3), (9.7, 3.3), "episodes played:\nlog π, V, rewards", colour=_MUTED,
           offset=(0.45, -0.75), face="none")
    ax.text(11.55, 1.75, "outer loop: across\nthousands of episodes,\neach a new task",
            ha="center", va="center", fontsize=SMALL, color=outer, weight="bold")
    ax.text(6.8, 0.6, "at test the outer loop stops; the agent still adapts, in its activity",
            ha="center", va="center", fontsize=SMALL, color=_INK, style="italic")
    return figure


def eplstm_and_dnd() -> Figure:
    """How the epLSTM and its episodic memory (the DND) are wired in the package: what is
    written after each uncued trial, what a cue reads back, and where it enters the cell."""
    figure, ax = _canvas(TEXT_WIDTH, 3.6, 13.6, 7.2)
    write, read = PALETTE["runs"][1], PALETTE["runs"][0]
    # input and cell
    _box(ax, 1.6, 3.7, "input $x_t$\nlast state,\nchoice, reward,\n$t$/100, cue", 2.7, 2.2)
    ax.add_patch(FancyBboxPatch((3.6, 1.9), 5.0, 3.6, boxstyle="round,pad=0.02,rounding_size=0.3",
                                facecolor="white", edgecolor=_INK, lw=1.1))
    ax.text(6.1, 5.15, "epLSTM cell", ha="center", va="center", fontsize=9.5, weight="bold",
            color=_INK)
    ax.text(6.1, 4.3, "$i_t, f_t, o_t, r_t = \\sigma(\\cdot)$,  $g_t = \\tanh(\\cdot)$",
            ha="center", va="center", fontsize=9, color=_INK)
    ax.text(6.1, 3.45, "$c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$", ha="center",
            va="center", fontsize=9, color=_INK)
    ax.text(6.1, 2.75, "$\\quad + \\, r_t \\odot \\tanh(m_t)$", ha="center", va="center",
            fontsize=9, color=read)
    ax.text(6.1, 2.2, "$h_t = o_t \\odot \\tanh(c_t)$", ha="center", va="center", fontsize=9,
            color=_INK)
    _arrow(ax, (2.98, 3.7), (3.6, 3.7))
    _box(ax, 6.1, 0.7, "policy π and value V read $h_t$", 4.4, 0.8, face="0.96")
    _arrow(ax, (6.1, 1.9), (6.1, 1.12))
    # the DND
    ax.add_patch(FancyBboxPatch((9.8, 1.9), 3.6, 3.6, boxstyle="round,pad=0.02,rounding_size=0.3",
                                facecolor="0.97", edgecolor=_INK, lw=1.1))
    ax.text(11.6, 5.15, "DND (one episode)", ha="center", va="center", fontsize=9.5,
            weight="bold", color=_INK)
    for row, y in enumerate((4.45, 3.85, 3.25)):
        ax.text(10.55, y, f"key {row}", ha="center", va="center", fontsize=SMALL, color=_INK,
                bbox={"facecolor": "white", "edgecolor": "0.6", "pad": 1.5})
        ax.text(12.35, y, f"cell state {row}", ha="center", va="center", fontsize=SMALL,
                color=_INK, bbox={"facecolor": "white", "edgecolor": "0.6", "pad": 1.5})
    ax.text(11.6, 2.6, "⋮  up to 50 entries", ha="center", va="center", fontsize=SMALL,
            color=_MUTED)
    ax.text(11.6, 2.15, "keys: contexts; values: $c_t$", ha="center", va="center",
            fontsize=SMALL, color=_MUTED)
    # write: the cell state after trial t-1's outcome, before reinstatement
    _arrow(ax, (8.6, 4.75), (9.8, 4.75), colour=write)
    ax.text(9.2, 6.35, "write, steps 1–50:\n$c_t$ before reinstatement,\nunder trial $t-1$'s context",
            ha="center", va="center", fontsize=SMALL, color=write)
    ax.plot([9.2, 9.2], [4.8, 5.8], color=write, lw=0.8, ls=":")
    # read: cue -> nearest key -> m_t -> gate
    _arrow(ax, (11.6, 1.9), (8.6, 2.75), colour=read, rad=-0.25)
    ax.text(11.0, 0.75, "read, cued trials: the cue\nfinds the nearest key (cosine);\n"
            "its cell state is $m_t$", ha="center", va="center", fontsize=SMALL, color=read)
    return figure
