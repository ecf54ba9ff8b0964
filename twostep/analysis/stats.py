r"""Behavioural analyses of trial tables: stay probabilities and logistic regressions.

Every function takes a trial table (one row per trial, see :mod:`twostep.trials.columns`) and
returns a tidy :class:`pandas.DataFrame`; nothing loops over trials in Python.

**Reference trial.** A choice on trial :math:`t` is scored against a *reference trial*
of the same seed and episode (never across episodes):

* ``reference="previous"``: trial :math:`t-1` (Daw 2011; Wang 2018);
* ``reference="cue"``: on a cued trial of the episodic task, the recalled past trial
  ``cue_trial`` (Ritter 2018). Only cued trials have one.

``trials`` picks which trials are scored: ``"all"``, ``"uncued"`` (``cued == 0``) or
``"cued"`` (``cued == 1``). The reference trial itself may be of any kind.

**Stay probability** (Daw 2011): :math:`\mathrm{stay}_t = [c_t = c_{\mathrm{ref}}]`,
averaged within the four conditions of the reference trial (rewarded or not, common
or uncommon transition; :data:`CONDITIONS`).

**One-trial-back regression** (Daw 2011), with every predictor coded :math:`\pm 1`
(:math:`R = +1` rewarded, :math:`T = +1` common):

.. math::  \operatorname{logit} P(\mathrm{stay}_t) = \beta_0 + \beta_R R + \beta_T T + \beta_{RT} R T

:math:`\beta_0` is perseveration. A model-free learner shows a main effect of reward
(:math:`\beta_R`), a model-based one the interaction (:math:`\beta_{RT}`).

**Corrected regression** (Akam et al. 2015) adds :math:`C = +1` when the reference
choice is the one that commonly leads to the good state (choice :math:`k` commonly
leads to state :math:`k`; by default the state good on the reference trial itself,
see :func:`corrected_regression`). A model-free learner prefers the
correct choice, and "rewarded-common" and "unrewarded-uncommon" outcomes follow correct
choices more often, so without :math:`C` it shows a spurious :math:`\beta_{RT}`.

**Lagged regression** (Miller et al. 2017): with :math:`y_t = [c_t = 1]`,

.. math::

   \operatorname{logit} P(y_t) = \beta_0 + \sum_{l=1}^{L} \sum_{k} \beta_{k,l}\, x_{k,t-l},

   x_{k,t-l} = (2 c_{t-l} - 1)\,[\text{trial } t-l \text{ is of type } k]

(:math:`x = 0` before the episode start), for the four types
:math:`k \in \{RC, RU, UC, UU\}`. Summed over lags,
:math:`\mathrm{MB} = \Sigma RC - \Sigma UC + \Sigma UU - \Sigma RU` and
:math:`\mathrm{MF} = \Sigma RC - \Sigma UC - \Sigma UU + \Sigma RU`.

**How the regressions are fitted.** Each fit is a :mod:`statsmodels` GLM (binomial,
logit link, Newton's method) on the trials grouped into binomial counts per distinct
predictor pattern, plus one *pseudo-observation* per coefficient: half a success and
half a failure at :math:`x = e_j`. That is the data-augmentation form of a log-F(1, 1)
prior on every coefficient (Greenland & Mansournia 2015, Stat Med 34:3133). A trained
agent often stays in every trial of a condition (perfect separation), where maximum
likelihood diverges; the prior keeps the estimate finite (about :math:`\log 2n` for
:math:`n` trials in the cell). Its gradient is bounded by 1/2, so with thousands of
trials it moves non-separated estimates by about :math:`10^{-3}` or less. Standard
errors and Wald p-values are the GLM's, at the posterior mode. Where an agent is
(nearly) deterministic, separated coefficients are set by the prior, not the data:
read their sign, not their size (the ideal observer's lagged MB index is in the
hundreds for this reason).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from twostep.errors import TwostepError
from twostep.trials.columns import KEY, STAY_COLUMNS
from twostep.trials.read import checked_table

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

REFERENCES = ("previous", "cue")
TRIAL_SELECTIONS = ("all", "uncued", "cued")
DAW_TERMS = ("intercept", "reward", "transition", "reward:transition")
"""The terms of :func:`daw_regression`, in the order of its rows."""
CORRECTED_TERMS = (*DAW_TERMS, "correct")
"""The terms of :func:`corrected_regression`: :data:`DAW_TERMS` and the correct-choice term."""
POOLED = "pooled"
"""The ``seed`` label of a fit to all seeds' trials together."""

_REFERENCE_COLUMNS = ["choice", "state", "common", "reward"]

PANELS: dict[str, dict[str, str]] = {
    "all_vs_previous": {"reference": "previous", "trials": "all",
                        "title": "all trials vs trial t-1"},
    "uncued_vs_previous": {"reference": "previous", "trials": "uncued",
                           "title": "uncued trials vs trial t-1"},
    "cued_vs_previous": {"reference": "previous", "trials": "cued",
                         "title": "cued trials vs trial t-1"},
    "cued_vs_recalled": {"reference": "cue", "trials": "cued",
                         "title": "cued trials vs the recalled trial"},
}
"""The stay-probability panels, by name: which reference trial, which trials scored."""

# ---------------------------------------------------------------------------- input
def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise TwostepError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def _select(frame: pd.DataFrame, trials: str) -> pd.DataFrame:
    """The rows whose choices are scored: all, uncued or cued trials."""
    _check_choice("trials", trials, TRIAL_SELECTIONS)
    if trials == "all":
        return frame
    if "cued" not in frame.columns:
        raise TwostepError(f"trials={trials!r} needs a 'cued' column (episodic task)")
    selected = frame[frame["cued"] == (1 if trials == "cued" else 0)]
    if selected.empty:
        raise TwostepError(f"trial table: no {trials} trials")
    return selected


def _lookup(frame: pd.DataFrame, rows: pd.DataFrame, trial: pd.Series,
            columns: Sequence[str]) -> pd.DataFrame:
    """``columns`` of trial ``trial`` in each row's own seed and episode; NaN where none.

    ``rows`` and ``trial`` share an index; so does the result.
    """
    table = frame.set_index(KEY)[list(columns)]
    wanted = pd.MultiIndex.from_arrays([rows["seed"], rows["episode"], trial], names=KEY)
    return table.reindex(wanted).set_axis(rows.index)


def _condition_codes(reward: Sequence | pd.Series, common: Sequence | pd.Series) -> np.ndarray:
    """Index into :data:`CONDITIONS`: 0 rewarded-common .. 3 unrewarded-uncommon."""
    unrewarded = ~(np.asarray(reward) > 0)
    uncommon = np.asarray(common) != 1
    return 2 * unrewarded.astype(np.int8) + uncommon.astype(np.int8)


def condition_of(reward: Sequence | pd.Series, common: Sequence | pd.Series) -> pd.Categorical:
    """The condition name (:data:`CONDITIONS`) of trials with these rewards and transitions."""
    return pd.Categorical.from_codes(_condition_codes(reward, common),
                                     categories=list(CONDITIONS), ordered=True)


# ----------------------------------------------------------------- reference pairs
def reference_trials(frame: pd.DataFrame, reference: str = "previous",
                     trials: str = "all") -> pd.DataFrame:
    """Scored trials, each beside its reference trial (same seed and episode).

    Returns the scored rows that have a reference trial, with added columns
    ``prev_trial``, ``prev_choice``, ``prev_state``, ``prev_common``, ``prev_reward``
    and ``prev_good_state`` if the table has ``good_state`` (the *reference* trial's
    values: trial t-1, or the recalled trial) and ``stay`` (1 when
    ``choice == prev_choice``).
    """
    _check_choice("reference", reference, REFERENCES)
    needed = STAY_COLUMNS + ["state"] + (["cued", "cue_trial"] if reference == "cue" else [])
    frame = checked_table(frame, needed)
    scored = _select(frame, trials)
    if reference == "previous":
        target = scored["trial"] - 1
    else:
        if trials == "uncued":
            raise TwostepError("reference='cue' scores cued trials only; trials='uncued' "
                               "leaves none")
        scored = scored[(scored["cued"] == 1) & (scored["cue_trial"] >= 0)]
        if scored.empty:
            raise TwostepError("trial table: no cued trials with a recalled trial (cue_trial)")
        target = scored["cue_trial"]
    copied = _REFERENCE_COLUMNS + (["good_state"] if "good_state" in frame.columns else [])
    found = _lookup(frame, scored, target, copied)
    has_reference = found["choice"].notna()
    if not has_reference.any():
        raise TwostepError(f"trial table: no {trials} trials with a {reference} trial")
    pairs = scored[has_reference].copy()
    pairs["prev_trial"] = target[has_reference].astype(frame["trial"].dtype)
    for name in copied:
        values = found.loc[has_reference, name]
        pairs[f"prev_{name}"] = values.astype(frame[name].dtype)
    pairs["stay"] = (pairs["choice"] == pairs["prev_choice"]).astype(int)
    return pairs


def previous_trial(frame: pd.DataFrame, trials: str = "all") -> pd.DataFrame:
    """:func:`reference_trials` against trial t-1 of the same episode."""
    return reference_trials(frame, "previous", trials)


def recalled_trial(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`reference_trials` of cued trials against their recalled trial ``cue_trial``."""
    return reference_trials(frame, "cue", "cued")


# ------------------------------------------------------------- stay probabilities
def stay_probabilities(frame: pd.DataFrame, reference: str = "previous",
                       trials: str = "all") -> pd.DataFrame:
    """P(stay) per seed and condition of the reference trial.

    Returns one row per seed x condition (conditions in :data:`CONDITIONS` order):
    ``seed``, ``condition`` (ordered categorical), ``stay_probability`` (NaN where the
    seed has no such trial) and ``n`` (scored trials).
    """
    pairs = reference_trials(frame, reference, trials)
    pairs["condition"] = condition_of(pairs["prev_reward"], pairs["prev_common"])
    grouped = pairs.groupby(["seed", "condition"], observed=False, sort=True)["stay"]
    table = grouped.agg(stay_probability="mean", n="size").reset_index()
    table["n"] = table["n"].astype(int)
    return table


def summarize_stay(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean and s.e.m. over seeds of :func:`stay_probabilities`, one row per condition.

    ``sem = std(ddof=1) / sqrt(seeds)``: NaN with one seed. Seeds without trials in a
    condition are left out of that condition (``seeds`` counts the rest); ``n`` sums trials.
    """
    missing = [c for c in ("condition", "stay_probability") if c not in per_seed.columns]
    if missing:
        raise TwostepError(f"stay table: missing column(s) {', '.join(missing)}")
    grouped = per_seed.groupby(per_seed["condition"].astype(str))["stay_probability"]
    count = grouped.count()
    table = pd.DataFrame({
        "mean": grouped.mean(),
        "sem": grouped.std(ddof=1) / np.sqrt(count),
        "seeds": count,
    })
    if "n" in per_seed.columns:
        table["n"] = per_seed.groupby(per_seed["condition"].astype(str))["n"].sum()
    table = table.reindex(list(CONDITIONS))
    table.index.name = "condition"
    table["seeds"] = table["seeds"].fillna(0).astype(int)
    return table.reset_index()


# --------------------------------------------------------------- logistic fitting
def _fit_logistic(design: pd.DataFrame, outcome: np.ndarray) -> pd.DataFrame:
    """Penalised logistic regression of ``outcome`` (0/1) on ``design`` (see module doc).

    ``design`` holds the intercept column too. Returns ``term``, ``estimate``, ``se``,
    ``z``, ``p_value``, one row per design column.
    """
    terms = list(design.columns)
    counts = design.assign(_outcome=np.asarray(outcome, dtype=float))
    grouped = counts.groupby(terms, sort=False)["_outcome"].agg(["sum", "count"]).reset_index()
    n_terms = len(terms)
    patterns = np.vstack([grouped[terms].to_numpy(dtype=float), np.eye(n_terms)])
    successes = np.concatenate([grouped["sum"].to_numpy(float), np.full(n_terms, 0.5)])
    totals = np.concatenate([grouped["count"].to_numpy(float), np.ones(n_terms)])
    model = sm.GLM(np.column_stack([successes, totals - successes]), patterns,
                   family=sm.families.Binomial(), hasconst=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is checked here
        # Newton's method from the empirical logits (one weighted least-squares step) is
        # fast; IRLS is the slower fallback if Newton overshoots on separated data.
        result = model.fit(start_params=_empirical_logit_start(patterns, successes, totals),
                           method="newton", maxiter=100, disp=0)
        if not _finished(result, result.mle_retvals.get("converged", False)):
            result = model.fit(method="IRLS", maxiter=200)
            if not _finished(result, result.converged):
                raise TwostepError("logistic regression did not converge")
    params = np.asarray(result.params)
    se = np.asarray(result.bse)
    return pd.DataFrame({"term": terms, "estimate": params, "se": se,
                         "z": params / se, "p_value": np.asarray(result.pvalues)})


def _empirical_logit_start(patterns: np.ndarray, successes: np.ndarray,
                           totals: np.ndarray) -> np.ndarray:
    """Weighted least squares of the empirical logits on the patterns: IRLS's first step."""
    p = (successes + 0.5) / (totals + 1.0)
    weight = totals * p * (1 - p)
    gram = patterns.T @ (weight[:, None] * patterns)
    return np.linalg.solve(gram, patterns.T @ (weight * np.log(p / (1 - p))))


def _finished(result, converged: bool) -> bool:
    return bool(converged) and bool(np.all(np.isfinite(result.params))
                                    and np.all(np.isfinite(result.bse)))


def _fit_pooled_and_per_seed(design: pd.DataFrame, outcome: np.ndarray,
                             seeds: np.ndarray) -> pd.DataFrame:
    """One fit to all trials (seed ``"pooled"``), then one per seed."""
    fits = []
    for label, rows in [(POOLED, np.ones(len(seeds), dtype=bool))] + [
        (int(s), seeds == s) for s in np.unique(seeds)
    ]:
        table = _fit_logistic(design[rows].reset_index(drop=True), outcome[rows])
        table.insert(0, "seed", label)
        table["n"] = int(rows.sum())
        fits.append(table)
    table = pd.concat(fits, ignore_index=True)
    table["seed"] = table["seed"].astype(object)
    return table


def _plus_minus(flag: pd.Series | np.ndarray) -> np.ndarray:
    return np.where(np.asarray(flag, dtype=bool), 1, -1)


def _daw_design(pairs: pd.DataFrame) -> pd.DataFrame:
    reward = _plus_minus(pairs["prev_reward"] > 0)
    transition = _plus_minus(pairs["prev_common"] == 1)
    return pd.DataFrame({"intercept": 1, "reward": reward, "transition": transition,
                         "reward:transition": reward * transition})


def daw_regression(frame: pd.DataFrame, reference: str = "previous",
                   trials: str = "all") -> pd.DataFrame:
    """Daw 2011 one-trial-back regression of stay on reward x transition.

    Returns ``seed`` (``"pooled"`` first, then each seed), ``term`` (:data:`DAW_TERMS`),
    ``estimate``, ``se``, ``z``, ``p_value``, ``n`` (trials in the fit).
    """
    pairs = reference_trials(frame, reference, trials)
    design = _daw_design(pairs)
    return _fit_pooled_and_per_seed(design, pairs["stay"].to_numpy(),
                                    pairs["seed"].to_numpy())


def corrected_regression(frame: pd.DataFrame, reference: str = "previous",
                         trials: str = "all", good_state_of: str = "reference") -> pd.DataFrame:
    """:func:`daw_regression` plus Akam 2015's ``correct`` predictor (:data:`CORRECTED_TERMS`).

    ``correct = +1`` when the reference trial's choice is the one that commonly leads
    to the good state, else -1. ``good_state_of`` says on which trial the good state is
    read: ``"reference"`` (default: the trial on which that choice was made and paid) or
    ``"current"`` (the scored trial). They differ only across a reversal, but that
    matters: for the default model-free agent the raw interaction of about 0.49 drops
    to about 0.04 with ``"reference"`` and only to about 0.14 with ``"current"``
    (8,000 episodes), because the outcome's odds were set by the good state of the
    trial that produced it.
    """
    _check_choice("good_state_of", good_state_of, ("reference", "current"))
    checked_table(frame, [*STAY_COLUMNS, "good_state"])
    pairs = reference_trials(frame, reference, trials)
    good = pairs["prev_good_state" if good_state_of == "reference" else "good_state"]
    design = _daw_design(pairs)
    design["correct"] = _plus_minus(pairs["prev_choice"].to_numpy() == good.to_numpy())
    return _fit_pooled_and_per_seed(design, pairs["stay"].to_numpy(),
                                    pairs["seed"].to_numpy())


def lagged_design(frame: pd.DataFrame, lags: int = 5, trials: str = "all") -> pd.DataFrame:
    """Miller 2017 predictors of each scored trial's choice.

    Returns the scored rows' ``seed`` and ``choice`` and one column per lag and type,
    named ``"{type}@{lag}"`` (type in :data:`CONDITIONS`): ``+1`` if trial t-lag was of
    that type and its choice was 1, ``-1`` if of that type with choice 0, else 0
    (also 0 before the episode start).
    """
    if not isinstance(lags, int) or lags < 1:
        raise TwostepError(f"lags must be a positive integer, not {lags!r}")
    frame = checked_table(frame, STAY_COLUMNS)
    scored = _select(frame, trials)
    columns: dict[str, np.ndarray] = {}
    for lag in range(1, lags + 1):
        past = _lookup(frame, scored, scored["trial"] - lag, ["choice", "common", "reward"])
        exists = past["choice"].notna().to_numpy()
        side = np.where(exists, _plus_minus(past["choice"].to_numpy() == 1), 0)
        kind = _condition_codes(past["reward"].fillna(0), past["common"].fillna(0))
        for code, name in enumerate(CONDITIONS):
            columns[f"{name}@{lag}"] = np.where(kind == code, side, 0).astype(np.int8)
    design = pd.DataFrame(columns, index=scored.index)
    return pd.concat([scored[["seed", "choice"]], design], axis=1).reset_index(drop=True)


def lagged_regression(frame: pd.DataFrame, lags: int = 5, trials: str = "all") -> pd.DataFrame:
    """Miller 2017 lagged regression of choice (coded as choosing option 1).

    Returns ``seed`` (``"pooled"`` first, then each seed), ``term`` (``"intercept"`` or
    a type in :data:`CONDITIONS`), ``lag`` (1..lags; <NA> for the intercept),
    ``estimate``, ``se``, ``z``, ``p_value``, ``n``.
    """
    table = lagged_design(frame, lags, trials)
    predictors = table.drop(columns=["seed", "choice"])
    design = pd.concat([pd.DataFrame({"intercept": np.ones(len(table), dtype=np.int8)}),
                        predictors], axis=1)
    fits = _fit_pooled_and_per_seed(design, (table["choice"] == 1).to_numpy(dtype=float),
                                    table["seed"].to_numpy())
    parts = fits["term"].str.split("@", expand=True)
    fits["term"] = parts[0]
    lag = pd.to_numeric(parts[1], errors="coerce") if parts.shape[1] > 1 else np.nan
    fits.insert(2, "lag", pd.array(lag, dtype="Int64"))
    return fits


def model_indices(coefs: pd.DataFrame) -> pd.DataFrame:
    """Model-based and model-free indices of :func:`lagged_regression` weights, per fit.

    ``mb_index = sum(RC) - sum(UC) + sum(UU) - sum(RU)`` and
    ``mf_index = sum(RC) - sum(UC) - sum(UU) + sum(RU)``, sums over lags.
    Returns ``seed``, ``mb_index``, ``mf_index``.
    """
    missing = [c for c in ("seed", "term", "estimate") if c not in coefs.columns]
    if missing:
        raise TwostepError(f"coefficient table: missing column(s) {', '.join(missing)}")
    mb_sign = {"rewarded_common": 1, "unrewarded_common": -1,
               "unrewarded_uncommon": 1, "rewarded_uncommon": -1}
    mf_sign = {"rewarded_common": 1, "unrewarded_common": -1,
               "unrewarded_uncommon": -1, "rewarded_uncommon": 1}
    weights = coefs[coefs["term"].isin(CONDITIONS)]
    if weights.empty:
        raise TwostepError("coefficient table: no lagged trial-type weights")
    mb = (weights["estimate"] * weights["term"].map(mb_sign)).groupby(weights["seed"], sort=False)
    mf = (weights["estimate"] * weights["term"].map(mf_sign)).groupby(weights["seed"], sort=False)
    table = pd.DataFrame({"mb_index": mb.sum(), "mf_index": mf.sum()})
    table.index.name = "seed"
    table = table.reset_index()
    table["seed"] = table["seed"].astype(object)
    return table


# ------------------------------------------------------------------------- reward
def reward_per_episode(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean total reward per episode, per seed; also over uncued and cued trials if present.

    Returns ``seed``, ``trials`` (``"all"``, ``"uncued"``, ``"cued"``),
    ``reward_per_episode`` (mean over episodes of the summed reward),
    ``reward_per_100_trials`` and ``episodes``.
    """
    frame = checked_table(frame, [*KEY, "reward"])
    selections = ["all"] + (["uncued", "cued"] if "cued" in frame.columns else [])
    tables = []
    for trials in selections:
        rows = frame if trials == "all" else frame[frame["cued"] == int(trials == "cued")]
        if rows.empty:
            continue
        per_episode = rows.groupby(["seed", "episode"])["reward"].agg(["sum", "size"])
        per_seed = per_episode.groupby(level="seed").agg(
            reward_per_episode=("sum", "mean"), trials_total=("size", "sum"),
            reward_total=("sum", "sum"), episodes=("sum", "size"))
        per_seed["reward_per_100_trials"] = 100 * per_seed["reward_total"] / per_seed["trials_total"]
        per_seed = per_seed.reset_index()
        per_seed.insert(1, "trials", trials)
        tables.append(per_seed[["seed", "trials", "reward_per_episode",
                                "reward_per_100_trials", "episodes"]])
    return pd.concat(tables, ignore_index=True)
