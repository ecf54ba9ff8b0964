"""``python -m twostep reproduce``: every published panel, ours beside theirs.

For each bundled experiment: train (or load the finished run, or resume an
interrupted one), evaluate with frozen weights (cached beside the run), compute the
stay-probability panels the paper reports, draw them with the published values,
and collect one table of every published number beside ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from twostep.analysis import (
    PANELS,
    PUBLISHED_ERROR_FOR_PANEL,
    PUBLISHED_FOR_PANEL,
    stay_probabilities,
    summarize_stay,
)
from twostep.config import load_experiment
from twostep.parallel import train_or_load_many
from twostep.published import CONDITION_SHORT, CONDITIONS
from twostep.safe_io import check_output_folder, claim, write_owned
from twostep.train import evaluate_or_load, train_or_load


@dataclass(frozen=True)
class PanelSource:
    """Which run, tested how, reproduces which published panel."""

    experiment: str
    panel: str
    retrieval: str | None = None
    """Memory rule at test time, if not the trained one (``"off"``: retrieval lesioned)."""
    agent: str = ""
    reading: str = "headline"
    """Which reading of the paper this row is: ``"headline"`` (the Wang panel, the
    unfitted episodic panel, and the reading of "incremental" that the book argues
    for), one of :data:`INCREMENTAL_READINGS`, or ``"fitted"`` (a variant with a
    parameter chosen to match the very panel it is scored against)."""


INCREMENTAL_READINGS: dict[str, str] = {
    "one agent": "the episodic agent itself, memory on, scored against trial t-1",
    "lesion": "the trained episodic network with retrieval switched off at test",
    "trained without memory": "a network of the same kind trained without memory",
}
"""The three readings of Ritter 2018's "incremental" panels. The papers, as far as we
could read them, do not settle which is meant. The book argues for "one agent" from the
figures' axis labels and the behaviour (chapter 5); all three are reported side by side."""

HEADLINE_INCREMENTAL_READING = "one agent"

_EPISODIC = "ritter2018-episodic"
_AGENT_OF_READING = {
    "one agent": (_EPISODIC, None, "epLSTM with memory (1-NN)"),
    "lesion": (_EPISODIC, "off", "epLSTM (1-NN), retrieval off at test"),
    "trained without memory": ("ritter2018-incremental", None, "epLSTM trained without memory"),
}

PANEL_SOURCES: list[PanelSource] = [
    PanelSource("wang2018", "all_vs_previous", agent="LSTM"),
    # Ritter 2018, the unfitted headline: 1-NN retrieval, fresh seeds 1000-1007
    PanelSource(_EPISODIC, "cued_vs_recalled", agent="epLSTM with memory (1-NN)"),
    # the three readings of the "incremental" panels, side by side
    *(PanelSource(experiment, panel, retrieval, agent=agent,
                  reading="headline" if reading == HEADLINE_INCREMENTAL_READING else reading)
      for reading, (experiment, retrieval, agent) in _AGENT_OF_READING.items()
      for panel in ("uncued_vs_previous", "cued_vs_previous")),
    # the calibrated variant: its temperature was chosen on the published episodic panel
    PanelSource("ritter2018-episodic-fitted", "cued_vs_recalled",
                agent="epLSTM with memory (k-NN, tau 0.25, fitted)", reading="fitted"),
]
"""Every published panel and the run that reproduces it (see :data:`twostep.analysis.PANELS`).

Rows whose ``reading`` is ``"headline"`` are the book's headline; the other readings of
"incremental" carry their name (:data:`INCREMENTAL_READINGS`), and the calibrated
variant is marked ``"fitted"``."""


def reading_of(source: PanelSource) -> str:
    """The reading a row stands for, naming the headline reading of "incremental" too."""
    if source.reading != "headline":
        return source.reading
    if source.panel in ("uncued_vs_previous", "cued_vs_previous"):
        return HEADLINE_INCREMENTAL_READING
    return "unfitted" if source.panel == "cued_vs_recalled" else source.reading


EXPERIMENT_PANELS: dict[str, list[str]] = {
    name: [s.panel for s in PANEL_SOURCES if s.experiment == name and s.retrieval is None]
    for name in dict.fromkeys(s.experiment for s in PANEL_SOURCES)
}
"""Panels each experiment reproduces as trained (no test-time change of memory rule)."""


def panel_table(trials: pd.DataFrame, experiment: str, panel: str) -> pd.DataFrame:
    """One row per condition: our mean and s.e.m. over seeds beside the published value."""
    spec = PANELS[panel]
    per_seed = stay_probabilities(trials, spec["reference"], spec["trials"])
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


def reproduce(out: Path, device: str = "auto", experiments: list[str] | None = None,
              runs_root: Path | None = None, progress: bool = True,
              processes: int | None = None) -> pd.DataFrame:
    """Train/evaluate every experiment; write figures and ``summary.csv`` into ``out``.

    ``experiments`` (names or YAML paths) limits the run; an experiment that no
    :data:`PANEL_SOURCES` entry names is compared with Wang 2018 on all trials. The runs
    not trained yet train side by side in up to ``processes`` processes (default: one per
    core; see :func:`twostep.parallel.train_or_load_many`).
    """
    import matplotlib.pyplot as plt

    from twostep import plots

    out = check_output_folder(out)
    claim(out, ["summary.csv", "timings.csv", "learning_curves.png"])  # fail before training
    names = experiments or list(dict.fromkeys(s.experiment for s in PANEL_SOURCES))
    configs = {config.name: config for config in map(load_experiment, names)}
    train_or_load_many(configs, root=runs_root, device=device, processes=processes,
                       progress=progress)
    tables, timings, curves = [], [], {}
    for name, config in configs.items():
        started = time.perf_counter()
        run_dir, metrics = train_or_load(config, root=runs_root, device=device, progress=progress)
        curves[name] = metrics
        sources = [s for s in PANEL_SOURCES if s.experiment == name] or [
            PanelSource(name, "all_vs_previous", agent=name)]
        for source in sources:
            trials = evaluate_or_load(run_dir, retrieval=source.retrieval)
            table = panel_table(trials, name, source.panel)
            table.insert(2, "agent", source.agent)
            table.insert(3, "reading", reading_of(source))
            table.insert(4, "headline", source.reading == "headline")
            tables.append(table)
            spec = PANELS[source.panel]
            per_seed = stay_probabilities(trials, spec["reference"], spec["trials"])
            label, published = PUBLISHED_FOR_PANEL[source.panel]
            suffix = "" if source.retrieval is None else f"_retrieval-{source.retrieval}"
            figure = plots.stay_bars(per_seed, published=published, published_label=label,
                                     published_error=PUBLISHED_ERROR_FOR_PANEL[source.panel],
                                     title=f"{source.agent or name}: {spec['title']}")
            write_owned(out / f"{name}{suffix}_{source.panel}.png",
                        lambda p, figure=figure: figure.savefig(p, dpi=150, bbox_inches="tight"))
            plt.close(figure)
        timings.append({"experiment": name, "seconds": round(time.perf_counter() - started, 1),
                        "training_seconds": float(metrics["seconds"].max()),
                        "run_dir": str(run_dir)})
    figure = plots.learning_curves(curves, smooth=10, references={"chance": 50})
    write_owned(out / "learning_curves.png",
                lambda p: figure.savefig(p, dpi=150, bbox_inches="tight"))
    plt.close(figure)

    summary = pd.concat(tables, ignore_index=True)
    write_owned(out / "summary.csv", lambda p: summary.to_csv(p, index=False))
    write_owned(out / "timings.csv", lambda p: pd.DataFrame(timings).to_csv(p, index=False))
    print(format_summary(summary))
    print(f"\nfigures and summary.csv written to {out}/")
    return summary


def format_summary(summary: pd.DataFrame) -> str:
    """Plain-text table of ours beside the published values, reading by reading.

    Flags: ``5`` within 0.05, ``10`` within 0.10, ``e`` within the published error bar
    (approximate, see :mod:`twostep.published`); differences as shown, rounded."""
    lines = [f"{'reading':<24}{'agent':<40}{'panel':<20}{'cond':<6}{'ours':>6}{'sem':>6}"
             f"{'publ.':>7}{'diff':>7}  flags"]
    for row in summary.itertuples():
        reading = getattr(row, "reading", "headline")
        if getattr(row, "headline", reading == "headline"):
            reading = f"* {reading}"
        agent = getattr(row, "agent", "") or row.experiment
        flags = "".join(mark if getattr(row, column, False) else "." for mark, column in
                        (("5", "within_0_05"), ("10", "within_0_10"), ("e", "within_error_bar")))
        lines.append(f"{reading:<24}{agent[:39]:<40}{row.panel:<20}"
                     f"{CONDITION_SHORT[row.condition]:<6}{row.mean:>6.2f}{row.sem:>6.2f}"
                     f"{row.published:>7.2f}{row.difference:>+7.2f}  {flags}")
    headline = summary[summary["headline"]] if "headline" in summary else summary
    worst = headline["difference"].abs().max()
    lines.append(f"headline (rows marked *): largest |difference| {worst:.2f} over "
                 f"{len(headline)} bars ({len(headline) // len(CONDITIONS)} panels)")
    if "reading" in summary:
        for reading, rows in summary.groupby("reading", sort=False):
            within = rows["within_error_bar"].sum() if "within_error_bar" in rows else 0
            lines.append(f"  {reading:<24} mean |difference| {rows['difference'].abs().mean():.2f}"
                         f" over {len(rows)} bars, {within} within the published error bar")
    lines.append('"fitted": a parameter chosen to match the very panel it is scored against. '
                 'The papers do not settle which reading of "incremental" is meant.')
    return "\n".join(lines)
