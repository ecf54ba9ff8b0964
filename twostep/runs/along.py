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

The three paper-protocol runs at their own budget (10,000 episodes) take about ten minutes
on two cores, more than the README's test command can add, so their panels are shipped
too (:data:`SHIPPED_10K`): every panel of
:data:`~twostep.analysis.published.PAPER_PROTOCOL_SOURCES` per seed on the same 300 test
episodes as the headline, the reward on them, and the learning curves.
:func:`paper_protocol_rows` turns them into the rows ``reproduce`` lists.
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
from twostep.analysis.stats import PANELS, reward_per_episode, stay_probabilities
from twostep.core.config import load_experiment
from twostep.core.evaluation import evaluate
from twostep.errors import TwostepError
from twostep.files.owned import write_owned
from twostep.files.paths import check_output_folder
from twostep.runs.parallel import train_or_load_many
from twostep.runs.reproduce import source_summary
from twostep.runs.store import (
    evaluate_or_load,
    load_snapshot,
    snapshot_updates,
    train_or_load,
)

CONTINUED = {"wang2018-paper-protocol": "wang2018-paper-protocol-30k",
             "ritter2018-episodic-paper-protocol": "ritter2018-episodic-paper-protocol-30k"}
"""The paper-protocol runs continued to 30,000 episodes, by the run they continue."""

EPISODES = 100
"""Test episodes per seed at each snapshot (the final panels use 300; 100 episodes of 100
trials give each bar a few hundred trials per seed)."""

SHIPPED = "paper-protocol-30k"
"""The folder under ``twostep/results`` that holds the shipped table (``stays.csv``) and its
provenance (``provenance.yaml``)."""

SHIPPED_10K = "paper-protocol-10k"
"""The folder under ``twostep/results`` that holds the paper-protocol runs' panels at their
10,000 episodes (``stays.csv``), their test reward (``rewards.csv``), their learning curves
(``curves.csv``) and the provenance of the runs (``provenance.yaml``)."""

CURVE_BLOCK = 100
"""The shipped learning curves are the mean training reward per block of this many updates."""


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
    provenance = _provenance(runs, episodes,
                             f"python scripts/along_training.py --out twostep/results/{SHIPPED}")
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


def _provenance(runs: dict, episodes: int, remake: str) -> dict[str, Any]:
    return {"made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "runs": runs, "test_episodes_per_seed": episodes, "device": "cpu",
            "torch": str(torch.__version__), "python": platform.python_version(),
            "remake": remake}


def make_paper_protocol_table(out: str | Path, root: str | Path | None = None,
                              progress: bool = True, processes: int | None = None
                              ) -> pd.DataFrame:
    """Train (or load) the three paper-protocol runs (side by side, up to ``processes`` at
    once) and write, per seed, every panel of their sources on their test episodes to
    ``out/stays.csv``, the test reward to ``out/rewards.csv``, the training reward per block
    of :data:`CURVE_BLOCK` updates to ``out/curves.csv``, and ``out/provenance.yaml``."""
    import yaml

    out = check_output_folder(Path(out))
    names = list(dict.fromkeys(s.experiment for s in PAPER_PROTOCOL_SOURCES))
    configs = {name: load_experiment(name) for name in names}
    train_or_load_many(configs, root=root, device="cpu", processes=processes,
                       progress=progress)
    stays, rewards, curves, runs = [], [], [], {}
    for name, config in configs.items():
        run_dir, metrics = train_or_load(config, root, device="cpu", progress=progress)
        runs[name] = {"run": run_dir.name, "training_seconds": float(metrics["seconds"].max())}
        for source in (s for s in PAPER_PROTOCOL_SOURCES if s.experiment == name):
            trials = evaluate_or_load(run_dir, retrieval=source.retrieval)
            spec = PANELS[source.panel]
            stays.append(stay_probabilities(trials, spec["reference"], spec["trials"]).assign(
                experiment=name, agent=source.agent, reading=source.reading,
                protocol=source.protocol, panel=source.panel,
                retrieval=source.retrieval or "trained"))
        for retrieval in dict.fromkeys(s.retrieval for s in PAPER_PROTOCOL_SOURCES
                                       if s.experiment == name):
            reward = reward_per_episode(evaluate_or_load(run_dir, retrieval=retrieval))
            rewards.append(reward.assign(experiment=name, retrieval=retrieval or "trained"))
        block = (metrics["update"] - 1) // CURVE_BLOCK
        curve = metrics.groupby([metrics["seed"], block])
        curves.append(pd.DataFrame({
            "episodes": curve["episodes"].max(), "reward": curve["reward"].mean()}
        ).reset_index(level="seed").reset_index(drop=True).assign(experiment=name))
    first = ["experiment", "agent", "reading", "protocol", "panel", "retrieval", "seed",
             "condition"]
    table = pd.concat(stays, ignore_index=True)
    table["condition"] = table["condition"].astype(str)
    table = table[first + [c for c in table.columns if c not in first]]
    reward_table = pd.concat(rewards, ignore_index=True)
    reward_table = reward_table[["experiment", "retrieval", *(
        c for c in reward_table.columns if c not in ("experiment", "retrieval"))]]
    curve_table = pd.concat(curves, ignore_index=True)[["experiment", "seed", "episodes",
                                                        "reward"]]
    episodes = {configs[name].train.eval_episodes for name in names}
    provenance = _provenance(runs, episodes.pop() if len(episodes) == 1 else sorted(episodes),
                             f"python scripts/along_training.py --paper-protocol "
                             f"--out twostep/results/{SHIPPED_10K}")
    for file, frame in (("stays.csv", table), ("rewards.csv", reward_table),
                        ("curves.csv", curve_table)):
        write_owned(out / file, lambda p, frame=frame: frame.to_csv(p, index=False))
    write_owned(out / "provenance.yaml",
                lambda p: p.write_text(yaml.safe_dump(provenance, sort_keys=False)))
    return table


def shipped_paper_protocol() -> dict[str, Any]:
    """The shipped paper-protocol runs at 10,000 episodes: ``stays``, ``rewards`` and
    ``curves`` (tables) and ``provenance`` (a dict)."""
    import yaml

    folder = resources.files("twostep") / "results" / SHIPPED_10K
    if not (folder / "stays.csv").is_file():
        raise TwostepError(f"no table is shipped in twostep/results/{SHIPPED_10K}; make it "
                           f"with: python scripts/along_training.py --paper-protocol "
                           f"--out twostep/results/{SHIPPED_10K}")
    tables: dict[str, Any] = {}
    for name in ("stays", "rewards", "curves"):
        with (folder / f"{name}.csv").open() as file:
            tables[name] = pd.read_csv(file)
    tables["provenance"] = yaml.safe_load((folder / "provenance.yaml").read_text())
    return tables


def paper_protocol_rows(stays: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows ``reproduce`` lists for :data:`~twostep.analysis.published.PAPER_PROTOCOL_SOURCES`
    (one per bar: mean, s.e.m., published value, difference, flags), from the shipped
    per-seed panels (or from ``stays``, a table like them)."""
    stays = shipped_paper_protocol()["stays"] if stays is None else stays
    rows = []
    for source in PAPER_PROTOCOL_SOURCES:
        per_seed = stays[(stays["experiment"] == source.experiment)
                         & (stays["panel"] == source.panel)
                         & (stays["reading"] == source.reading)
                         & (stays["retrieval"] == (source.retrieval or "trained"))]
        if per_seed.empty:
            raise TwostepError(f"the paper-protocol table has no rows for {source.experiment}"
                               f", {source.panel} ({source.reading})")
        rows.append(source_summary(source, per_seed))
    return pd.concat(rows, ignore_index=True)
