"""The one registry of what each paper published and which of our runs reproduces it.

Published numbers are data, so that tables and figures can sit ours beside theirs;
:data:`PUBLISHED_FOR_PANEL` says which published panel each of our stay-probability
panels (:data:`twostep.analysis.PANELS`) is compared with, and :data:`PANEL_SOURCES`
which run, tested how, reproduces it. Adding a panel means editing this file only.

Stay probabilities are P(repeat the reference trial's first-stage choice), one value
per condition of the reference trial, keyed in the order of :data:`CONDITIONS`.
Values read off published figures are approximate (by eye, about +-0.03); the
sources are in the book's bibliography (book/references.bib).
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.analysis import CONDITION_LABELS, CONDITION_SHORT, CONDITIONS  # noqa: F401 (re-exported for now)


def _stay(rc: float, ru: float, uc: float, uu: float) -> dict[str, float]:
    return dict(zip(CONDITIONS, (rc, ru, uc, uu), strict=True))


WANG2018_STAY = _stay(0.99, 0.63, 0.61, 0.99)
"""Wang et al. 2018, Fig. 5b: the trained meta-RL LSTM, test episodes (read by eye, +-0.03)."""

RITTER2018_STAY: dict[str, dict[str, float]] = {
    "incremental_uncued": _stay(1.00, 0.13, 0.08, 1.00),
    "incremental_cued": _stay(0.72, 0.46, 0.42, 0.78),
    "episodic": _stay(0.84, 0.30, 0.35, 0.72),
}
"""Ritter et al. 2018, episodic two-step task: the incremental agent (no retrieval) on
uncued and on cued trials, each against trial t-1, and the episodic agent on cued
trials against the recalled past trial (read by eye, +-0.03)."""

IDEAL_OBSERVER_WANG = _stay(1.00, 0.66, 0.66, 1.00)
"""A Bayes-optimal greedy agent on the Wang 2018 task (exact belief about the good state,
always choosing the action that commonly leads to it), as measured with
:class:`twostep.agents.IdealObserverAgent` (chapter 1)."""

IDEAL_OBSERVER_WANG_REWARD = 70.7
"""That ideal observer's reward per 100 trials on the Wang 2018 task."""


# ---------------------------------------------------------------------- panels
PUBLISHED_FOR_PANEL: dict[str, tuple[str, dict[str, float]]] = {
    "all_vs_previous": ("Wang 2018, Fig. 5b", WANG2018_STAY),
    "uncued_vs_previous": ("Ritter 2018, incremental, uncued",
                           RITTER2018_STAY["incremental_uncued"]),
    "cued_vs_previous": ("Ritter 2018, incremental, cued", RITTER2018_STAY["incremental_cued"]),
    "cued_vs_recalled": ("Ritter 2018, episodic", RITTER2018_STAY["episodic"]),
}
"""The published panel each of our panels is compared with, and where it comes from."""


@dataclass(frozen=True)
class PanelSource:
    """Which run, tested how, reproduces which published panel."""

    experiment: str
    panel: str
    retrieval: str | None = None
    """Memory rule at test time, if not the trained one (``"off"``: retrieval lesioned)."""
    agent: str = ""
    reading: str = "headline"
    """``"headline"``: the book's reading of the paper; ``"alternative"``: shown beside it."""


PANEL_SOURCES: list[PanelSource] = [
    PanelSource("wang2018", "all_vs_previous", agent="LSTM"),
    # Ritter 2018's incremental condition: the same (trained) network with retrieval off
    PanelSource("ritter2018-episodic", "uncued_vs_previous", "off",
                agent="epLSTM, retrieval off at test"),
    PanelSource("ritter2018-episodic", "cued_vs_previous", "off",
                agent="epLSTM, retrieval off at test"),
    PanelSource("ritter2018-episodic", "cued_vs_recalled", agent="epLSTM with memory"),
    # the other reading: a network trained without memory at all
    PanelSource("ritter2018-incremental", "uncued_vs_previous",
                agent="epLSTM trained without memory", reading="alternative"),
    PanelSource("ritter2018-incremental", "cued_vs_previous",
                agent="epLSTM trained without memory", reading="alternative"),
]
"""Every published panel and the run that reproduces it (see :data:`twostep.analysis.PANELS`)."""
