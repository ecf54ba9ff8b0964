"""Published numbers, as data, so that tables and figures can sit ours beside theirs.

Stay probabilities are P(repeat the reference trial's first-stage choice), one value
per condition of the reference trial, keyed in the order of :data:`CONDITIONS`.
Values read off published figures are approximate: reading a bar by eye is good to
about +-0.03, and that is only the error of *reading* the figure. The published bars
carry their own error bars (:data:`RITTER2018_ERROR_BAR`, :data:`WANG2018_SPREAD`),
which are larger. The sources are in the book's bibliography (book/references.bib).
"""

from __future__ import annotations

CONDITIONS: tuple[str, ...] = (
    "rewarded_common",
    "rewarded_uncommon",
    "unrewarded_common",
    "unrewarded_uncommon",
)
"""The four conditions of the reference trial, in the order every table and figure uses."""

CONDITION_LABELS: dict[str, str] = {
    "rewarded_common": "rewarded, common",
    "rewarded_uncommon": "rewarded, uncommon",
    "unrewarded_common": "unrewarded, common",
    "unrewarded_uncommon": "unrewarded, uncommon",
}
"""Readable names for tables."""

CONDITION_SHORT: dict[str, str] = {
    "rewarded_common": "RC",
    "rewarded_uncommon": "RU",
    "unrewarded_common": "UC",
    "unrewarded_uncommon": "UU",
}
"""Two-letter names for tight axes: Rewarded/Unrewarded, then Common/Uncommon."""


def _stay(rc: float, ru: float, uc: float, uu: float) -> dict[str, float]:
    return dict(zip(CONDITIONS, (rc, ru, uc, uu), strict=True))


WANG2018_STAY = _stay(0.99, 0.63, 0.61, 0.99)
"""Wang et al. 2018, Fig. 5b: the trained meta-RL LSTM, test episodes (read by eye, +-0.03)."""

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

IDEAL_OBSERVER_WANG = _stay(1.00, 0.66, 0.66, 1.00)
"""A Bayes-optimal greedy agent on the Wang 2018 task (exact belief about the good state,
always choosing the action that commonly leads to it), as measured in SCIENCE.md."""

IDEAL_OBSERVER_WANG_REWARD = 70.7
"""That ideal observer's reward per 100 trials on the Wang 2018 task."""

PUBLIC_REIMPLEMENTATION: dict[str, dict[str, float]] = {
    "incremental_uncued": _stay(0.98, 0.67, 0.35, 0.95),
    "incremental_cued": _stay(0.96, 0.72, 0.44, 0.91),
    "episodic": _stay(0.81, 0.65, 0.67, 0.80),
}
"""The best public PyTorch reimplementation of Ritter 2018 (the numbers to beat)."""
