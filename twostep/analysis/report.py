"""Reports: a trial table's analyses as a JSON-ready summary and as text, and tables of
our numbers beside the published ones.

:func:`analyze` gathers :mod:`twostep.analysis.stats`'s statistics for every panel that fits a
table; :func:`format_analysis` prints them with the published values of
:mod:`twostep.analysis.published` beside ours; :func:`panel_table` and :func:`format_summary`
do the same for the reproduced panels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from twostep.analysis.published import PUBLISHED_ERROR_FOR_PANEL, PUBLISHED_FOR_PANEL
from twostep.analysis.stats import (
    CONDITION_LABELS,
    CONDITION_SHORT,
    CONDITIONS,
    PANELS,
    POOLED,
    corrected_regression,
    daw_regression,
    lagged_regression,
    model_indices,
    reward_per_episode,
    stay_probabilities,
    summarize_stay,
)
from twostep.trials.columns import STAY_COLUMNS
from twostep.trials.read import checked_table


def _number(value: Any) -> float | int | None:
    """A JSON-safe number: NaN becomes None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def _mean_sem(values: pd.Series) -> tuple[float | None, float | None]:
    values = values.dropna().astype(float)
    if values.empty:
        return None, None
    sem = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return _number(values.mean()), _number(sem)


def panels_for(frame: pd.DataFrame) -> list[str]:
    """The :data:`PANELS` that make sense for this table: three for episodic tables
    (those with a ``cued`` column), else all trials against trial t-1."""
    if "cued" in frame.columns:
        return ["uncued_vs_previous", "cued_vs_previous", "cued_vs_recalled"]
    return ["all_vs_previous"]


def _regression_summary(table: pd.DataFrame) -> dict[str, Any]:
    pooled = table[table["seed"] == POOLED]
    seeds = table[table["seed"] != POOLED]
    terms = list(dict.fromkeys(table["term"]))
    summary: dict[str, Any] = {
        "terms": terms,
        "pooled": {row.term: {"estimate": _number(row.estimate), "se": _number(row.se),
                              "p_value": _number(row.p_value)}
                   for row in pooled.itertuples()},
        "seed_mean": {}, "seed_sem": {},
        "per_seed": {str(seed): dict(zip(group["term"], map(_number, group["estimate"]),
                                         strict=True))
                     for seed, group in seeds.groupby("seed", sort=False)},
    }
    for term in terms:
        mean, sem = _mean_sem(seeds.loc[seeds["term"] == term, "estimate"])
        summary["seed_mean"][term] = mean
        summary["seed_sem"][term] = sem
    return summary


def _stay_summary(per_seed: pd.DataFrame) -> dict[str, Any]:
    summary = summarize_stay(per_seed)
    return {
        "mean": dict(zip(CONDITIONS, map(_number, summary["mean"]), strict=True)),
        "sem": dict(zip(CONDITIONS, map(_number, summary["sem"]), strict=True)),
        "n": dict(zip(CONDITIONS, map(_number, summary["n"]), strict=True)),
        "per_seed": {str(seed): dict(zip(group["condition"].astype(str),
                                         map(_number, group["stay_probability"]), strict=True))
                     for seed, group in per_seed.groupby("seed", sort=True)},
    }


def analyze(frame: pd.DataFrame, lags: int = 5) -> dict[str, Any]:
    """Everything :func:`format_analysis` reports, as a JSON-serialisable dict.

    Keys: ``table`` (seeds, episodes, trials, episodic), ``reward`` (per trial
    selection: mean and s.e.m. over seeds of the reward per episode and per 100 trials,
    and per seed), ``panels`` (per panel of :func:`panels_for`: stay probabilities,
    Daw and corrected regressions) and ``lagged`` (Miller 2017 indices on the first
    panel's trials). Missing numbers (NaN) are ``None``.
    """
    frame = checked_table(frame, [*STAY_COLUMNS, "state", "good_state"])
    episodic = "cued" in frame.columns
    summary: dict[str, Any] = {
        "table": {
            "seeds": [int(s) for s in sorted(frame["seed"].unique())],
            "episodes": int(frame[["seed", "episode"]].drop_duplicates().shape[0]),
            "trials": len(frame),
            "episodic": episodic,
        },
        "reward": {},
        "panels": {},
    }
    rewards = reward_per_episode(frame)
    for trials, group in rewards.groupby("trials", sort=False):
        mean, sem = _mean_sem(group["reward_per_episode"])
        mean100, sem100 = _mean_sem(group["reward_per_100_trials"])
        summary["reward"][trials] = {
            "mean": mean, "sem": sem, "per_100_trials_mean": mean100,
            "per_100_trials_sem": sem100,
            "per_seed": dict(zip(group["seed"].astype(str),
                                 map(_number, group["reward_per_episode"]), strict=True)),
        }
    for name in panels_for(frame):
        spec = PANELS[name]
        reference, trials = spec["reference"], spec["trials"]
        summary["panels"][name] = {
            **spec,
            "stay": _stay_summary(stay_probabilities(frame, reference, trials)),
            "daw_regression": _regression_summary(daw_regression(frame, reference, trials)),
            "corrected_regression": _regression_summary(
                corrected_regression(frame, reference, trials)),
        }
    lag_trials = PANELS[panels_for(frame)[0]]["trials"]
    indices = model_indices(lagged_regression(frame, lags, lag_trials))
    seeds = indices[indices["seed"] != POOLED]
    pooled = indices[indices["seed"] == POOLED].iloc[0]
    summary["lagged"] = {
        "trials": lag_trials,
        "lags": lags,
        "pooled": {"mb_index": _number(pooled["mb_index"]),
                   "mf_index": _number(pooled["mf_index"])},
        "per_seed": {str(row.seed): {"mb_index": _number(row.mb_index),
                                     "mf_index": _number(row.mf_index)}
                     for row in seeds.itertuples()},
    }
    for index in ("mb_index", "mf_index"):
        mean, sem = _mean_sem(seeds[index])
        summary["lagged"][f"{index}_seed_mean"] = mean
        summary["lagged"][f"{index}_seed_sem"] = sem
    return summary


# ---------------------------------------------------------------------- formatting
def _fmt(value: float | None, spec: str = ".3f", signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, ("+" if signed else "") + spec)


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "-"
    return "<1e-10" if p < 1e-10 else f"{p:.2g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    """Columns right-aligned except the first; two spaces between columns."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(cell).rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def _published_for(published: Mapping | None, panel: str) -> tuple[str, Mapping[str, float]] | None:
    if published is None:
        return PUBLISHED_FOR_PANEL.get(panel)
    if set(published) == set(CONDITIONS):
        return "published", published
    entry = published.get(panel)
    if entry is None:
        return None
    if isinstance(entry, tuple):
        return entry
    return "published", entry


def _format_regression(title: str, regression: Mapping[str, Any]) -> str:
    rows = []
    for term in regression["terms"]:
        pooled = regression["pooled"].get(term, {})
        mean, sem = regression["seed_mean"].get(term), regression["seed_sem"].get(term)
        rows.append([term, _fmt(pooled.get("estimate"), "+.3f"), _fmt(pooled.get("se")),
                     _fmt_p(pooled.get("p_value")),
                     f"{_fmt(mean, '+.3f')} ± {_fmt(sem)}" if mean is not None else "-"])
    header = ["term", "pooled", "s.e.", "p", "seeds: mean ± s.e.m."]
    return f"{title}\n{_table(header, rows)}"


def format_analysis(summary: Mapping[str, Any], published: Mapping | None = None) -> str:
    """A plain-text report of :func:`analyze`'s summary.

    ``published`` sets the published stay probabilities printed beside ours: ``None``
    uses :data:`PUBLISHED_FOR_PANEL` (Wang 2018 for the two-step task, Ritter 2018 for
    the episodic one); a dict keyed by :data:`CONDITIONS` applies to every panel; a
    dict keyed by panel name (values: such a dict, or ``(source, dict)``) to those
    panels only; ``{}`` prints none.
    """
    table = summary["table"]
    seeds = table["seeds"]
    lines = [f"Trial table: {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), "
             f"{table['episodes']:,} episodes, {table['trials']:,} trials"
             f"{' (episodic task)' if table['episodic'] else ''}", ""]

    rows = []
    for trials, reward in summary["reward"].items():
        rows.append([f"{trials} trials", _fmt(reward["mean"], ".2f"), _fmt(reward["sem"], ".2f"),
                     _fmt(reward["per_100_trials_mean"], ".2f")])
    lines += ["Reward per episode (mean and s.e.m. over seeds)",
              _table(["trials", "per episode", "s.e.m.", "per 100 trials"], rows), ""]

    for name, panel in summary["panels"].items():
        source = _published_for(published, name)
        stay = panel["stay"]
        header = ["reference trial", "stay", "s.e.m."]
        if source is not None:
            header += ["published", "ours - pub."]
        header += ["trials"]
        rows = []
        for condition in CONDITIONS:
            ours = stay["mean"][condition]
            row = [CONDITION_LABELS[condition], _fmt(ours), _fmt(stay["sem"][condition])]
            if source is not None:
                theirs = source[1].get(condition)
                difference = None if ours is None or theirs is None else ours - theirs
                row += [_fmt(theirs, ".2f"), _fmt(difference, ".2f", signed=True)]
            row.append(f"{stay['n'][condition] or 0:,}")
            rows.append(row)
        where = f"   (published: {source[0]})" if source is not None and source[0] != "published" \
            else ""
        lines += [f"Stay probability: {panel['title']}{where}", _table(header, rows), ""]
        lines += [_format_regression(f"Daw regression, {panel['title']}: "
                                     "stay ~ reward * transition (logit, ±1 coding)",
                                     panel["daw_regression"]), ""]
        lines += [_format_regression(f"Corrected regression (Akam 2015), {panel['title']}: "
                                     "+ correct", panel["corrected_regression"]), ""]

    lagged = summary["lagged"]
    rows = [["pooled", _fmt(lagged["pooled"]["mb_index"], "+.2f"),
             _fmt(lagged["pooled"]["mf_index"], "+.2f")]]
    rows += [[f"seed {seed}", _fmt(values["mb_index"], "+.2f"), _fmt(values["mf_index"], "+.2f")]
             for seed, values in lagged["per_seed"].items()]
    if len(lagged["per_seed"]) > 1:
        rows.append(["seeds: mean ± s.e.m.",
                     f"{_fmt(lagged['mb_index_seed_mean'], '+.2f')} ± "
                     f"{_fmt(lagged['mb_index_seed_sem'], '.2f')}",
                     f"{_fmt(lagged['mf_index_seed_mean'], '+.2f')} ± "
                     f"{_fmt(lagged['mf_index_seed_sem'], '.2f')}"])
    lines += [f"Lagged regression (Miller 2017), {lagged['trials']} trials, "
              f"{lagged['lags']} lags: summed weights",
              _table(["fit", "MB index", "MF index"], rows)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- ours vs published
def panel_table(trials: pd.DataFrame, experiment: str, panel: str) -> pd.DataFrame:
    """One row per condition: our mean and s.e.m. over seeds beside the published value,
    the published error bar, and whether the difference (as shown, rounded to 0.01) is
    within 0.05, 0.10 and that error bar."""
    spec = PANELS[panel]
    return panel_summary(stay_probabilities(trials, spec["reference"], spec["trials"]),
                         experiment, panel)


def panel_summary(per_seed: pd.DataFrame, experiment: str, panel: str) -> pd.DataFrame:
    """:func:`panel_table` from the panel's stay probabilities per seed (the rows of
    :func:`~twostep.analysis.stats.stay_probabilities` for ``panel``), for tables that keep
    those rather than the trials."""
    summary = summarize_stay(per_seed)
    source, published = PUBLISHED_FOR_PANEL[panel]
    summary.insert(0, "panel", panel)
    summary.insert(0, "experiment", experiment)
    summary["published"] = [published[c] for c in summary["condition"]]
    summary["difference"] = summary["mean"] - summary["published"]
    summary["published_error"] = [PUBLISHED_ERROR_FOR_PANEL[panel][c]
                                  for c in summary["condition"]]
    shown = summary["difference"].round(2).abs()  # flag what the tables show
    summary["within_0_05"] = shown <= 0.05 + 1e-9
    summary["within_0_10"] = shown <= 0.10 + 1e-9
    summary["within_error_bar"] = shown <= summary["published_error"] + 1e-9
    summary["source"] = source
    return summary


def format_summary(summary: pd.DataFrame) -> str:
    """Plain-text table of ours beside the published values, reading by reading.

    Flags: ``5`` within 0.05, ``10`` within 0.10, ``e`` within the published error bar
    (approximate, see :mod:`twostep.analysis.published`); differences as shown, rounded."""
    lines = [f"{'reading':<32}{'agent':<40}{'panel':<20}{'cond':<6}{'ours':>6}{'sem':>6}"
             f"{'publ.':>7}{'diff':>7}  flags"]
    for row in summary.itertuples():
        reading = getattr(row, "reading", "")
        if getattr(row, "protocol", "batched") != "batched":
            reading = f"{row.protocol}: {reading}"
        if getattr(row, "headline", False):
            reading = f"* {reading}"
        agent = getattr(row, "agent", "") or row.experiment
        flags = "".join(mark if getattr(row, column, False) else "." for mark, column in
                        (("5", "within_0_05"), ("10", "within_0_10"), ("e", "within_error_bar")))
        lines.append(f"{reading:<32}{agent[:39]:<40}{row.panel:<20}"
                     f"{CONDITION_SHORT[row.condition]:<6}{row.mean:>6.2f}{row.sem:>6.2f}"
                     f"{row.published:>7.2f}{row.difference:>+7.2f}  {flags}")
    headline = summary[summary["headline"]] if "headline" in summary else summary
    worst = headline["difference"].abs().max()
    lines.append(f"headline (rows marked *): largest |difference| {worst:.2f} over "
                 f"{len(headline)} bars ({len(headline) // len(CONDITIONS)} panels)")
    if "reading" in summary:
        protocols = (summary["protocol"] if "protocol" in summary
                     else pd.Series("batched", index=summary.index))
        for (protocol, reading), rows in summary.groupby([protocols, "reading"], sort=False):
            within = rows["within_error_bar"].sum() if "within_error_bar" in rows else 0
            label = reading if protocol == "batched" else f"{protocol}: {reading}"
            lines.append(f"  {label:<31} mean |difference| {rows['difference'].abs().mean():.2f}"
                         f" over {len(rows)} bars, {within} within the published error bar")
    lines.append('"fitted": a parameter chosen to match the very panel it is scored against. '
                 'The papers do not settle which reading of "incremental" is meant. '
                 '"paper": trained with the papers\' protocol (one episode per update), '
                 'on fresh seeds.')
    return "\n".join(lines)
