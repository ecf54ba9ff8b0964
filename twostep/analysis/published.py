"""The one registry of what each paper published and which of our runs reproduces it.

Published numbers are data, so that tables and figures can sit ours beside theirs;
:data:`PUBLISHED_FOR_PANEL` says which published panel each of our stay-probability
panels (:data:`twostep.analysis.stats.PANELS`) is compared with, and :data:`PANEL_SOURCES`
which run, tested how, reproduces it. Adding a panel means editing this file only.

Stay probabilities are P(repeat the reference trial's first-stage choice), one value
per condition of the reference trial, keyed in the order of :data:`CONDITIONS`.
Values read off published figures are approximate: reading a bar by eye is good to
about +-0.03, and that is only the error of *reading* the figure. The published bars
carry their own error bars (:data:`RITTER2018_ERROR_BAR`, :data:`WANG2018_SPREAD`),
which are larger. The sources are in the book's bibliography (book/references.bib).
"""

from __future__ import annotations

from dataclasses import dataclass

from twostep.analysis.stats import CONDITIONS


def _stay(rc: float, ru: float, uc: float, uu: float) -> dict[str, float]:
    return dict(zip(CONDITIONS, (rc, ru, uc, uu), strict=True))


READING_ERROR = 0.03
"""How well a bar can be read off a published figure by eye: about +-0.03 (the error of
reading only, not the published error bars)."""

WANG2018_STAY = _stay(0.99, 0.63, 0.61, 0.99)
"""Wang et al. 2018, Fig. 5b: the trained meta-RL LSTM, test episodes (read by eye, +-0.03)."""

WANG2016_STAY = _stay(1.00, 0.00, 0.00, 0.96)
"""Wang et al. 2016 (arXiv:1611.05763, the earlier version of the 2018 paper): the trained
LSTM on the task with transitions 0.75/0.25 (read by eye, +-0.03)."""


@dataclass(frozen=True)
class PublishedTask:
    """A published stay-probability panel and the task it was measured on."""

    source: str
    common_prob: float
    reversal_prob: float
    stay: dict[str, float]


WANG_TASKS: tuple[PublishedTask, ...] = (
    PublishedTask("Wang 2016", 0.75, 0.025, WANG2016_STAY),
    PublishedTask("Wang 2018", 0.8, 0.025, WANG2018_STAY),
)
"""The two published points of the Wang agent's task family. The 2018 paper's reversal rate
is 0.025 per trial; the 2016 version's is taken to be the same (both papers describe one
task, and only the transition probabilities are reported to differ)."""

RITTER2018_STAY: dict[str, dict[str, float]] = {
    "incremental_uncued": _stay(1.00, 0.13, 0.08, 1.00),
    "incremental_cued": _stay(0.72, 0.46, 0.42, 0.78),
    "episodic": _stay(0.84, 0.30, 0.35, 0.72),
}
"""Ritter et al. 2018, episodic two-step task: the "incremental" panels, uncued and cued
trials each against trial t-1 (which agent they come from the papers do not settle, as
far as we could read them), and the "episodic" panel, cued trials against the recalled
past trial (read by eye, +-0.03; their own error bars: :data:`RITTER2018_ERROR_BAR`)."""

RITTER2018_ERROR_BAR_RANGE: tuple[float, float] = (0.05, 0.10)
"""The half-widths of the error bars on the published Ritter 2018 stay-probability bars:
roughly +-0.05 to +-0.10. Approximate: this range was read off the figures as a whole,
not bar by bar."""

RITTER2018_ERROR_BAR: dict[str, dict[str, float]] = {
    panel: dict.fromkeys(CONDITIONS, sum(RITTER2018_ERROR_BAR_RANGE) / 2)
    for panel in RITTER2018_STAY
}
"""Approximate half-width of each published Ritter 2018 error bar: the middle of
:data:`RITTER2018_ERROR_BAR_RANGE` (0.075) for every bar, since we could not read them
one by one. Drawn as bands; a difference within it is "within the published error bar"."""

WANG2018_SPREAD = _stay(0.02, 0.04, 0.075, 0.02)
"""Approximate half-range of the published networks' dots in Wang et al. 2018, Fig. 5b:
RU 0.59-0.67 and UC 0.53-0.68 (read by eye); RC and UU sit at the ceiling, where the
dots overlap, so 0.02 is a guess of the same order as the reading error."""

DAW2011_MEDIAN_W = 0.39
"""Daw et al. 2011: the median model-based weight w of the hybrid model fitted to their 17
human subjects (201 trials each; transitions 0.7 / 0.3, four slowly drifting reward
probabilities). Compare with :mod:`twostep.core.fit`'s w of an agent."""

DAW2011_REWARD_RANGE: tuple[float, float] = (0.25, 0.75)
"""Daw et al. 2011: the bounds within which each second-stage option's reward probability
drifted, trial by trial (a random walk kept inside them)."""

IDEAL_OBSERVER_WANG = _stay(1.00, 0.66, 0.66, 1.00)
"""A Bayes-optimal greedy agent on the Wang 2018 task (exact belief about the good state,
always choosing the action that commonly leads to it), as measured with
:class:`twostep.core.agents.IdealObserverAgent` (chapter 1)."""

IDEAL_OBSERVER_WANG_REWARD = 70.7
"""That ideal observer's reward per 100 trials on the Wang 2018 task."""


REIMPLEMENTATION_STAY: dict[str, dict[str, float]] = {
    "incremental_uncued": _stay(0.98, 0.67, 0.35, 0.95),
    "incremental_cued": _stay(0.96, 0.72, 0.44, 0.91),
    "episodic": _stay(0.81, 0.65, 0.67, 0.80),
    "episodic_rerun": _stay(0.70, 0.67, 0.69, 0.69),
}
"""What the best public PyTorch reimplementation of Ritter et al. 2018 reported for the three
panels (not a paper's numbers), and what a fresh single-seed rerun of it gave on the episodic
panel: its episodic effect is far weaker than published, and flat in the rerun."""

# ---------------------------------------------------------------------- panels
PUBLISHED_FOR_PANEL: dict[str, tuple[str, dict[str, float]]] = {
    "all_vs_previous": ("Wang 2018, Fig. 5b", WANG2018_STAY),
    "uncued_vs_previous": ("Ritter 2018, incremental, uncued",
                           RITTER2018_STAY["incremental_uncued"]),
    "cued_vs_previous": ("Ritter 2018, incremental, cued", RITTER2018_STAY["incremental_cued"]),
    "cued_vs_recalled": ("Ritter 2018, episodic", RITTER2018_STAY["episodic"]),
}
"""The published panel each of our panels is compared with, and where it comes from."""

PUBLISHED_ERROR_FOR_PANEL: dict[str, dict[str, float]] = {
    "all_vs_previous": WANG2018_SPREAD,
    "uncued_vs_previous": RITTER2018_ERROR_BAR["incremental_uncued"],
    "cued_vs_previous": RITTER2018_ERROR_BAR["incremental_cued"],
    "cued_vs_recalled": RITTER2018_ERROR_BAR["episodic"],
}
"""Approximate half-width of each published bar's error bar (or spread of runs), by
panel and condition (read approximately, see above)."""


@dataclass(frozen=True)
class PanelSource:
    """Which run, tested how, reproduces which published panel."""

    experiment: str
    panel: str
    retrieval: str | None = None
    """Memory rule at test time, if not the trained one (``"off"``: retrieval lesioned)."""
    agent: str = ""
    reading: str = "unfitted"
    """Which reading of the paper this row is: ``"unfitted"`` (no parameter chosen on the
    published panel: the Wang panel, the episodic panel), one of
    :data:`INCREMENTAL_READINGS`, or ``"fitted"`` (a variant with a parameter chosen to
    match the very panel it is scored against)."""
    headline: bool = False
    """Whether this row is the book's headline for its panel: the Wang panel, the unfitted
    episodic panel and, of the readings of "incremental", the one the book argues for
    (:data:`HEADLINE_INCREMENTAL_READING`). One row per published panel."""
    protocol: str = "batched"
    """How the run was trained: ``"batched"`` (the book's protocol: 16 episodes per update
    per seed, lr 1e-2, gradient clipping) or ``"paper"`` (one episode per update, lr 7e-4,
    no clipping, 10,000 episodes; see :data:`PROTOCOLS`)."""


INCREMENTAL_READINGS: dict[str, str] = {
    "one agent": "the episodic agent itself, memory on, scored against trial t-1",
    "lesion": "the trained episodic network with retrieval switched off at test",
    "trained without memory": "a network of the same kind trained without memory",
}
"""The three readings of Ritter 2018's "incremental" panels. The papers, as far as we
could read them, do not settle which is meant. The book argues for "one agent" from the
figures' axis labels and the behaviour (chapter 6); all three are reported side by side."""

HEADLINE_INCREMENTAL_READING = "one agent"
"""The reading of :data:`INCREMENTAL_READINGS` that the book argues for."""

_EPISODIC = "ritter2018-episodic"
_AGENT_OF_READING = {
    "one agent": (_EPISODIC, None, "epLSTM with memory (1-NN)"),
    "lesion": (_EPISODIC, "off", "epLSTM (1-NN), retrieval off at test"),
    "trained without memory": ("ritter2018-incremental", None, "epLSTM trained without memory"),
}

PANEL_SOURCES: list[PanelSource] = [
    PanelSource("wang2018", "all_vs_previous", agent="LSTM", headline=True),
    # Ritter 2018, the unfitted headline: 1-NN retrieval, fresh seeds 1000-1007
    PanelSource(_EPISODIC, "cued_vs_recalled", agent="epLSTM with memory (1-NN)", headline=True),
    # the three readings of the "incremental" panels, side by side
    *(PanelSource(experiment, panel, retrieval, agent=agent, reading=reading,
                  headline=reading == HEADLINE_INCREMENTAL_READING)
      for reading, (experiment, retrieval, agent) in _AGENT_OF_READING.items()
      for panel in ("uncued_vs_previous", "cued_vs_previous")),
    # the calibrated variant: its temperature was chosen on the published episodic panel
    PanelSource("ritter2018-episodic-fitted", "cued_vs_recalled",
                agent="epLSTM with memory (k-NN, tau 0.25, fitted)", reading="fitted"),
]
"""Every published panel and the run that reproduces it (see :data:`twostep.analysis.stats.PANELS`).

Each row names its reading (``"unfitted"``, a reading of "incremental" from
:data:`INCREMENTAL_READINGS`, or ``"fitted"``) and whether it is the book's headline for
its panel (one headline row per panel)."""


PROTOCOLS: dict[str, str] = {
    "batched": "16 episodes per update per seed, RMSProp lr 1e-2, gradient-norm clip 1.0",
    "paper": "one episode per update, RMSProp lr 7e-4, no clipping, 10,000 episodes, "
             "seeds 3000-3007 (the configs *-paper-protocol)",
}
"""The two protocols the panels are trained with. The book's headline is trained batched;
the paper protocol is what the public reimplementations attribute to the papers, run once
on fresh seeds with nothing chosen on its results."""

_PAPER_EPISODIC = "ritter2018-episodic-paper-protocol"
PAPER_PROTOCOL_SOURCES: list[PanelSource] = [
    PanelSource("wang2018-paper-protocol", "all_vs_previous", agent="LSTM, paper protocol",
                protocol="paper"),
    PanelSource(_PAPER_EPISODIC, "cued_vs_recalled",
                agent="epLSTM with memory (1-NN), paper protocol", protocol="paper"),
    *(PanelSource(experiment, panel, retrieval, agent=f"{agent}, paper protocol",
                  reading=reading, protocol="paper")
      for reading, (experiment, retrieval, agent) in {
          "one agent": (_PAPER_EPISODIC, None, "epLSTM with memory (1-NN)"),
          "lesion": (_PAPER_EPISODIC, "off", "epLSTM (1-NN), retrieval off at test"),
          "trained without memory": ("ritter2018-incremental-paper-protocol", None,
                                     "epLSTM trained without memory"),
      }.items()
      for panel in ("uncued_vs_previous", "cued_vs_previous")),
]
"""The same panels from the runs trained with the paper protocol (:data:`PROTOCOLS`); never
a headline. ``python -m twostep reproduce`` lists them after :data:`PANEL_SOURCES`."""
