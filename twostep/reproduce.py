"""``python -m twostep reproduce``: every published panel, ours beside theirs.

For each bundled experiment: train (or load the finished run, or resume an
interrupted one), evaluate with frozen weights (cached beside the run), compute the
stay-probability panels the paper reports, draw them with the published values,
and collect one table of every published number beside ours.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from twostep.analysis import PANELS, PUBLISHED_FOR_PANEL, stay_probabilities, summarize_stay
from twostep.config import load_experiment
from twostep.published import CONDITIONS
from twostep.train import evaluate_or_load, train_or_load

EXPERIMENT_PANELS: dict[str, list[str]] = {
    "wang2018": ["all_vs_previous"],
    "ritter2018-incremental": ["uncued_vs_previous", "cued_vs_previous"],
    "ritter2018-episodic": ["cued_vs_recalled"],
}
"""Which published panel each experiment reproduces (see :data:`twostep.analysis.PANELS`)."""


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
    """Train/evaluate every experiment; write figures and ``summary.csv`` into ``out``."""
    import matplotlib.pyplot as plt

    from twostep import plots

    out.mkdir(parents=True, exist_ok=True)
    names = experiments or list(EXPERIMENT_PANELS)
    tables, timings, curves = [], [], {}
    for name in names:
        config = load_experiment(name)
        name = config.name
        started = time.perf_counter()
        run_dir, metrics = train_or_load(config, root=runs_root, device=device, progress=progress)
        trials = evaluate_or_load(run_dir)
        timings.append({"experiment": name, "seconds": round(time.perf_counter() - started, 1),
                        "run_dir": str(run_dir)})
        curves[name] = metrics
        for panel in EXPERIMENT_PANELS.get(name, ["all_vs_previous"]):
            table = panel_table(trials, name, panel)
            tables.append(table)
            spec = PANELS[panel]
            per_seed = stay_probabilities(trials, spec["reference"], spec["trials"])
            source, published = PUBLISHED_FOR_PANEL[panel]
            figure = plots.stay_bars(per_seed, published=published, published_label=source,
                                     title=f"{name}: {spec['title']}")
            figure.savefig(out / f"{name}_{panel}.png", dpi=150, bbox_inches="tight")
            plt.close(figure)
    figure = plots.learning_curves(curves, smooth=10, references={"chance": 50})
    figure.savefig(out / "learning_curves.png", dpi=150, bbox_inches="tight")
    plt.close(figure)

    summary = pd.concat(tables, ignore_index=True)
    summary.to_csv(out / "summary.csv", index=False)
    pd.DataFrame(timings).to_csv(out / "timings.csv", index=False)
    print(format_summary(summary))
    print(f"\nfigures and summary.csv written to {out}/")
    return summary


def format_summary(summary: pd.DataFrame) -> str:
    """Plain-text table of ours beside the published values."""
    lines = [f"{'experiment':<24}{'panel':<20}{'condition':<22}{'ours':>7}{'s.e.m.':>8}"
             f"{'published':>11}{'diff':>7}"]
    for row in summary.itertuples():
        lines.append(f"{row.experiment:<24}{row.panel:<20}{row.condition:<22}{row.mean:>7.2f}"
                     f"{row.sem:>8.2f}{row.published:>11.2f}{row.difference:>+7.2f}")
    worst = summary["difference"].abs().max()
    lines.append(f"largest |difference|: {worst:.2f} over {len(summary)} bars "
                 f"({len(summary) // len(CONDITIONS)} panels)")
    return "\n".join(lines)
