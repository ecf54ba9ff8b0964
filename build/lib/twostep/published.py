"""Published numbers, as data, so that tables and figures can sit ours beside theirs.

Stay probabilities are P(repeat the reference trial's first-stage choice), one value
per condition of the reference trial, keyed in the order of :data:`CONDITIONS`.
Values read off published figures are approximate (by eye, about +-0.03); the
sources are in the book's bibliography (book/references.bib).
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
"""Ritter et al. 2018, episodic two-step task: the incremental agent (no retrieval) on
uncued and on cued trials, each against trial t-1, and the episodic agent on cued
trials against the recalled past trial (read by eye, +-0.03)."""

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
