"""The columns of a trial table: one home for their names.

Columns (0/1 integers unless said): ``seed``, ``episode``, ``trial``, ``choice``,
``state`` (second-stage state reached), ``common`` (the transition was common),
``reward``, ``good_state`` (the second-stage state with the high reward probability
on that trial); the episodic task adds ``cued`` and ``cue_trial`` (index of the
past trial whose context is the cue, -1 when none).
"""

from __future__ import annotations

TRIAL_COLUMNS = ["seed", "episode", "trial", "choice", "state", "common", "reward", "good_state"]
"""Every trial table's columns, in order."""

EPISODIC_COLUMNS = ["cued", "cue_trial"]
"""The episodic task's two more columns."""

KEY = ["seed", "episode", "trial"]
"""A trial's identity: seed, episode and trial index."""

STAY_COLUMNS = [*KEY, "choice", "common", "reward"]
"""What a stay-probability analysis reads."""

BINARY_COLUMNS = ("choice", "state", "common", "reward", "good_state", "cued")
"""Columns whose every value is 0 or 1."""

INDEX_COLUMNS = ("seed", "episode", "trial")
"""Non-negative whole numbers."""
