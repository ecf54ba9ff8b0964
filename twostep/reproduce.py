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

from twostep.analysis import PANELS, PUBLISHED_FOR_PANEL, stay_probabilities, summarize_stay
from twostep.config import load_experiment
from twostep.published import CONDITIONS
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
    summary["source"] = source
    return summary


def reproduce(out: Path, device: str = "auto", experiments: list[str] | None = None,
              runs_root: Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Train/evaluate every experiment; write figures and ``summary.csv`` into ``out``.

    ``experiments`` (names or YAML paths) limits the run; an experiment that no
    :data:`PANEL_SOURCES` entry names is compared with Wang 2018 on all trials.
    """
    import matplotlib.pyplot as plt

    from twostep import plots

    out = check_output_folder(out)
    claim(out, ["summary.csv", "timings.csv", "learning_curves.png"])  # fail before training
    names = experiments or list(dict.fromkeys(s.experiment for s in PANEL_SOURCES))
    tables, timings, curves = [], [], {}
    for name in names:
        config = load_experiment(name)
        name = config.name
        started = time.perf_counter()
        run_dir, metrics = train_or_load(config, root=runs_root, device=device, progress=progress)
        curves[name] = metrics
        sources = [s for s in PANEL_SOURCES if s.experiment == name] or [
            PanelSource(name, "all_vs_previous", agent=name)]
        for source in sources:
            trials = evaluate_or_load(run_dir, retrieval=source.retrieval)
            table = panel_table(trials, name, source.panel)
            table.insert(2, "agent", source.agent)
            table.insert(3, "reading", source.reading)
            tables.append(table)
            spec = PANELS[source.panel]
            per_seed = stay_probabilities(trials, spec["reference"], spec["trials"])
            label, published = PUBLISHED_FOR_PANEL[source.panel]
            suffix = "" if source.retrieval is None else f"_retrieval-{source.retrieval}"
            figure = plots.stay_bars(per_seed, published=published, published_label=label,
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
    """Plain-text table of ours beside the published values."""
    lines = [f"{'agent':<32}{'panel':<20}{'condition':<22}{'ours':>7}{'s.e.m.':>8}"
             f"{'published':>11}{'diff':>7}"]
    for row in summary.itertuples():
        agent = getattr(row, "agent", "") or row.experiment
        if getattr(row, "reading", "headline") != "headline":
            agent = f"({agent})"
        lines.append(f"{agent:<32}{row.panel:<20}{row.condition:<22}{row.mean:>7.2f}"
                     f"{row.sem:>8.2f}{row.published:>11.2f}{row.difference:>+7.2f}")
    headline = summary[summary["reading"] == "headline"] if "reading" in summary else summary
    worst = headline["difference"].abs().max()
    lines.append(f"largest |difference|: {worst:.2f} over {len(headline)} bars "
                 f"({len(headline) // len(CONDITIONS)} panels); rows in parentheses are the "
                 "alternative reading")
    return "\n".join(lines)
