"""Every published panel along training: the stay probabilities of each snapshot of a run.

A run that keeps snapshots (``train.snapshot_every``) can be tested as it was after any of
them. :func:`panels_along_training` plays test episodes with each snapshot's frozen
weights and scores every panel a list of :class:`~twostep.analysis.published.PanelSource`
names for that run, per seed: where each bar stands after 1,000, 2,000, ... episodes.

The paper protocol's runs continued to 30,000 episodes take about an hour on one core,
longer than the book and CI should spend, so their table is made once and shipped with
the package (:data:`SHIPPED`, with the provenance of its runs). Every seed trains exactly
as it would alone (per-seed generators and clipping), so a test retrains one seed for a
few thousand updates and checks its rows of the shipped table, bit for bit.
"""

from __future__ import annotations

import datetime
import platform
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from twostep.analysis.published import PAPER_PROTOCOL_SOURCES, PanelSource
from twostep.analysis.stats import PANELS, stay_probabilities
from twostep.core.config import load_experiment
from twostep.core.evaluation import evaluate
from twostep.errors import TwostepError
from twostep.files.owned import write_owned
from twostep.files.paths import check_output_folder
from twostep.runs.store import load_snapshot, snapshot_updates, train_or_load

CONTINUED = {"wang2018-paper-protocol": "wang2018-paper-protocol-30k",
             "ritter2018-episodic-paper-protocol": "ritter2018-episodic-paper-protocol-30k"}
"""The paper-protocol runs continued to 30,000 episodes, by the run they continue."""

EPISODES = 100
"""Test episodes per seed at each snapshot (the final panels use 300; 100 episodes of 100
trials give each bar a few hundred trials per seed)."""

SHIPPED = "paper-protocol-30k"
"""The folder under ``twostep/results`` that holds the shipped table (``stays.csv``) and its
provenance (``provenance.yaml``)."""


def continued_sources() -> list[PanelSource]:
    """The paper-protocol panels of the runs continued to 30,000 episodes (all but those of
    the network trained without memory, which is not continued)."""
    return [PanelSource(CONTINUED[s.experiment], s.panel, s.retrieval, agent=s.agent,
                        reading=s.reading, protocol=s.protocol)
            for s in PAPER_PROTOCOL_SOURCES if s.experiment in CONTINUED]


def panels_along_training(run_dir: str | Path, sources: Sequence[PanelSource],
                          episodes: int = EPISODES, updates: Sequence[int] | None = None,
                          progress: bool = True) -> pd.DataFrame:
    """Per seed, every panel of ``sources`` at every snapshot of the run in ``run_dir`` (or
    at ``updates`` only): one row per snapshot x source x seed x condition, with
    ``update``, ``episodes_trained``, ``experiment``, ``agent``, ``reading``, ``protocol``,
    ``panel``, ``retrieval``, ``seed``, ``condition``, ``stay_probability`` and ``n``."""
    updates = snapshot_updates(run_dir) if updates is None else list(updates)
    if not updates:
        raise TwostepError(f"{run_dir} kept no snapshots (set train.snapshot_every)")
    retrievals = list(dict.fromkeys(s.retrieval for s in sources))
    frames = []
    for update in tqdm(updates, desc=Path(run_dir).name, unit="snapshot", disable=not progress):
        model, config = load_snapshot(run_dir, update)
        with torch.inference_mode():
            played = {r: evaluate(model, config, episodes=episodes, retrieval=r).trials
                      for r in retrievals}
        for source in sources:
            spec = PANELS[source.panel]
            per_seed = stay_probabilities(played[source.retrieval], spec["reference"],
                                          spec["trials"])
            frames.append(per_seed.assign(
                update=update, episodes_trained=update * config.train.batch_size,
                experiment=config.name, agent=source.agent, reading=source.reading,
                protocol=source.protocol, panel=source.panel,
                retrieval=source.retrieval or "trained"))
    table = pd.concat(frames, ignore_index=True)
    table["condition"] = table["condition"].astype(str)
    first = ["update", "episodes_trained", "experiment", "agent", "reading", "protocol",
             "panel", "retrieval", "seed", "condition"]
    return table[first + [c for c in table.columns if c not in first]]


def make_shipped_table(out: str | Path, root: str | Path | None = None,
                       episodes: int = EPISODES, progress: bool = True) -> pd.DataFrame:
    """Train (or load) the continued paper-protocol runs and write their panels along
    training to ``out/stays.csv``, with ``out/provenance.yaml``."""
    import yaml

    out = check_output_folder(Path(out))
    sources = continued_sources()
    frames, runs = [], {}
    for name in dict.fromkeys(s.experiment for s in sources):
        config = load_experiment(name)
        run_dir, metrics = train_or_load(config, root, device="cpu", progress=progress)
        frames.append(panels_along_training(
            run_dir, [s for s in sources if s.experiment == name], episodes, progress=progress))
        runs[name] = {"run": run_dir.name, "training_seconds": float(metrics["seconds"].max())}
    table = pd.concat(frames, ignore_index=True)
    provenance = {
        "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": runs, "test_episodes_per_seed": episodes, "device": "cpu",
        "torch": str(torch.__version__), "python": platform.python_version(),
        "remake": f"python scripts/along_training.py --out twostep/results/{SHIPPED}",
    }
    write_owned(out / "stays.csv", lambda p: table.to_csv(p, index=False))
    write_owned(out / "provenance.yaml",
                lambda p: p.write_text(yaml.safe_dump(provenance, sort_keys=False)))
    return table


def shipped_table() -> tuple[pd.DataFrame, dict[str, Any]]:
    """The shipped panels along training of the continued runs, and their provenance."""
    import yaml

    folder = resources.files("twostep") / "results" / SHIPPED
    if not (folder / "stays.csv").is_file():
        raise TwostepError(f"no table is shipped in twostep/results/{SHIPPED}; make it with: "
                           f"python scripts/along_training.py --out twostep/results/{SHIPPED}")
    with (folder / "stays.csv").open() as file:
        table = pd.read_csv(file)
    return table, yaml.safe_load((folder / "provenance.yaml").read_text())
