"""``python -m twostep reproduce``: every published panel, ours beside theirs.

For each bundled experiment: train (or load the finished run, or resume an
interrupted one), evaluate with frozen weights (cached beside the run), compute the
stay-probability panels the paper reports, draw them with the published values,
and collect one table of every published number beside ours.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from twostep.analysis.published import (
    PANEL_SOURCES,
    PAPER_PROTOCOL_SOURCES,
    PUBLISHED_ERROR_FOR_PANEL,
    PUBLISHED_FOR_PANEL,
    PanelSource,
)
from twostep.analysis.report import format_summary, panel_summary, panel_table
from twostep.analysis.stats import PANELS, stay_probabilities
from twostep.core.config import load_experiment, with_settings
from twostep.files.failures import shown
from twostep.files.owned import check_folder_not_in_run, claim, write_owned
from twostep.files.paths import check_output_folder
from twostep.runs.parallel import train_or_load_many
from twostep.runs.store import evaluate_or_load, train_or_load

SOURCES = [*PANEL_SOURCES, *PAPER_PROTOCOL_SOURCES]
"""What ``reproduce`` lists: every panel from the book's batched runs, then from the runs
trained with the papers' protocol."""


def source_table(source: PanelSource, trials: pd.DataFrame) -> pd.DataFrame:
    """One row per condition of ``source``'s panel, scored on ``trials`` (its run's test
    trials, played with ``source.retrieval``): :func:`~twostep.analysis.report.panel_table`
    with the source's ``agent``, ``reading``, ``headline`` and ``protocol``."""
    return _labelled(source, panel_table(trials, source.experiment, source.panel))


def source_summary(source: PanelSource, per_seed: pd.DataFrame) -> pd.DataFrame:
    """:func:`source_table` from the panel's stay probabilities per seed instead of the
    trials (as the shipped tables keep them)."""
    return _labelled(source, panel_summary(per_seed, source.experiment, source.panel))


def _labelled(source: PanelSource, table: pd.DataFrame) -> pd.DataFrame:
    table.insert(2, "agent", source.agent)
    table.insert(3, "reading", source.reading)
    table.insert(4, "headline", source.headline)
    table.insert(5, "protocol", source.protocol)
    return table


def reproduce(out: Path, device: str = "auto", experiments: list[str] | None = None,
              runs_root: Path | None = None, progress: bool = True,
              processes: int | None = None, settings: Sequence[str] = ()) -> pd.DataFrame:
    """Train/evaluate every experiment; write figures and ``summary.csv`` into ``out``.

    ``experiments`` (names or YAML paths) limits the run; an experiment that no
    :data:`SOURCES` entry names is compared with Wang 2018 on all trials. The runs
    not trained yet train side by side in up to ``processes`` processes (default: one per
    core; see :func:`twostep.runs.parallel.train_or_load_many`). ``settings``
    (``section.field=value``, see :func:`twostep.core.config.with_settings`) change every
    experiment alike.
    """
    import matplotlib.pyplot as plt

    from twostep.analysis import plots

    out = check_output_folder(check_folder_not_in_run(out))
    claim(out, ["summary.csv", "timings.csv", "learning_curves.png"])  # fail before training
    names = experiments or list(dict.fromkeys(s.experiment for s in SOURCES))
    configs = {config.name: with_settings(config, settings)
               for config in map(load_experiment, names)}
    train_or_load_many(configs, root=runs_root, device=device, processes=processes,
                       progress=progress)
    tables, timings, curves = [], [], {}
    for name, config in configs.items():
        started = time.perf_counter()
        run_dir, metrics = train_or_load(config, root=runs_root, device=device, progress=progress)
        curves[name] = metrics
        sources = [s for s in SOURCES if s.experiment == name] or [
            PanelSource(name, "all_vs_previous", agent=name, headline=True)]
        for source in sources:
            trials = evaluate_or_load(run_dir, retrieval=source.retrieval)
            tables.append(source_table(source, trials))
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
    print(f"\nfigures and summary.csv written to {shown(out)}/")
    return summary
