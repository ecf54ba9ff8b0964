r"""The model-based signature of each seed, as one row: what a sweep maps across the task family.

For a trial table (one row per trial, :mod:`twostep.trials`), :func:`signature_per_seed` gives
one row per seed with

* ``reward``: reward per 100 trials;
* ``stay_rewarded_common`` .. ``stay_unrewarded_uncommon``: the four stay probabilities
  against trial :math:`t-1` (:func:`~twostep.analysis.stats.stay_probabilities`);
* ``daw_reward``, ``daw_interaction``: :math:`\beta_R` and :math:`\beta_{RT}` of the Daw 2011
  one-trial-back regression; ``corrected_interaction``: :math:`\beta_{RT}` once Akam 2015's
  "correct" predictor is added (a model-free agent's spurious interaction removed);
* ``mb_index``, ``mf_index``: Miller 2017's lagged-regression indices (five lags);
* ``w``: the hybrid model's fitted weight on model-based values, when a fit is given
  (``fit_w``); the column is absent otherwise.

Each number is a per-seed fit of :mod:`twostep.analysis.stats`; nothing new is estimated here.
On the episodic task the rows score every trial against trial :math:`t-1`.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from twostep.analysis.stats import (
    CONDITIONS,
    POOLED,
    corrected_regression,
    daw_regression,
    lagged_regression,
    model_indices,
    reward_per_episode,
    stay_probabilities,
)

STAY_COLUMNS: tuple[str, ...] = tuple(f"stay_{condition}" for condition in CONDITIONS)
"""The four stay-probability columns, in :data:`~twostep.analysis.stats.CONDITIONS` order."""

SIGNATURE_COLUMNS: tuple[str, ...] = ("reward", *STAY_COLUMNS, "daw_reward", "daw_interaction",
                                      "corrected_interaction", "mb_index", "mf_index")
"""The columns of :func:`signature_per_seed` after ``seed`` (and before the optional ``w``)."""


def _per_seed(fits: pd.DataFrame) -> pd.DataFrame:
    """A per-seed coefficient table (``seed``, ``term``, ``estimate``) as seed x term."""
    fits = fits[fits["seed"] != POOLED]
    table = fits.pivot(index="seed", columns="term", values="estimate")
    table.index = table.index.astype(int)
    return table


def signature_per_seed(trials: pd.DataFrame,
                       fit_w: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
    """One row per seed: ``seed``, then :data:`SIGNATURE_COLUMNS` (and ``w`` with ``fit_w``).

    Args:
        trials: a trial table of one or more seeds.
        fit_w: ``fit_w(trials)`` returns the fitted hybrid-model w per seed (a Series
            indexed by seed); without it there is no ``w`` column.
    """
    reward = reward_per_episode(trials)
    reward = reward[reward["trials"] == "all"].set_index("seed")["reward_per_100_trials"]
    reward.index = reward.index.astype(int)
    stay = stay_probabilities(trials).pivot(index="seed", columns="condition",
                                            values="stay_probability")
    stay = stay[list(CONDITIONS)].set_axis(list(STAY_COLUMNS), axis=1)
    stay.index = stay.index.astype(int)
    daw = _per_seed(daw_regression(trials))
    corrected = _per_seed(corrected_regression(trials))
    indices = model_indices(lagged_regression(trials))
    indices = indices[indices["seed"] != POOLED].set_index("seed")
    indices.index = indices.index.astype(int)
    table = pd.concat([
        reward.rename("reward"), stay,
        daw["reward"].rename("daw_reward"), daw["reward:transition"].rename("daw_interaction"),
        corrected["reward:transition"].rename("corrected_interaction"),
        indices["mb_index"], indices["mf_index"],
    ], axis=1)
    if fit_w is not None:
        w = fit_w(trials)
        w.index = w.index.astype(int)
        table["w"] = w
    table.index.name = "seed"
    return table.sort_index().reset_index()
