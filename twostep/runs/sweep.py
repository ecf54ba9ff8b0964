"""Sweeps: one experiment trained at many points of the task family, one tidy table out.

A sweep file names an experiment and the field changes that make its points::

    experiment: wang2018            # a bundled experiment, or a config file
    grid:                           # every combination of these values ...
      task.common_prob: [0.6, 0.7, 0.75, 0.8, 0.9]
      task.reversal_prob: [0.0125, 0.025, 0.05, 0.1]
    points:                         # ... and/or single points, one mapping each
      - {model.hidden_size: 12}
    set:                            # changes made at every point (a smaller budget, say)
      train.seeds: 2

Every point is validated by the same strict rules as a config file before anything runs
(:func:`load_sweep`; one line naming the point and the field otherwise). Each point is then a
normal run of the run cache (:func:`twostep.runs.store.train_or_load`, locked, resumable), tested
(:func:`~twostep.runs.store.evaluate_or_load`) and summarised per seed
(:func:`twostep.analysis.signature.signature_per_seed`, cached beside the run as
``signature.csv``). A point that equals a bundled experiment is that experiment's run, trained once.

:func:`run_sweep` hands the points that are not done to Dask (:mod:`twostep.runs.cluster`): on
this machine's cores by default, or on a cluster. It returns one row per point and seed
(:func:`results_table`); interrupted and run again, it trains only what is missing.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from twostep.analysis.signature import signature_per_seed
from twostep.core.config import (
    MAX_CONFIG_BYTES,
    SECTIONS,
    ExperimentConfig,
    load_experiment,
    parse_experiment,
    parse_setting,
)
from twostep.core.fit import fitted_w
from twostep.core.strict_yaml import parse_yaml
from twostep.errors import TwostepError
from twostep.files.read import read_text
from twostep.runs.checkpoints import is_finished
from twostep.runs.cluster import dask_client, progress_reporter, run_tasks
from twostep.runs.store import cached_table, evaluate_or_load, run_dir_for, runs_root, train_or_load

SWEEP_KEYS = ("experiment", "grid", "points", "set")
"""The keys of a sweep file."""

SIGNATURE_FILE = "signature.csv"
"""Each run's per-seed signature, w included, cached beside its test trials."""


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: its index, its field changes (``section.field``: value) and the
    experiment they make."""

    index: int
    changes: dict[str, Any]
    config: ExperimentConfig

    @property
    def label(self) -> str:
        """``task.common_prob=0.6, task.reversal_prob=0.05``, or the experiment's name."""
        return _label(self.changes) or self.config.name

    def run_name(self) -> str:
        """The run's folder name in the cache, ``<name>-<config hash>``."""
        return run_dir_for(self.config, ".").name


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its name, its source text, the changed fields and the points."""

    name: str
    text: str
    fields: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    settings: tuple[str, ...] = ()


@dataclass
class SweepResult:
    """What :func:`run_sweep` did: the results table, and per point the seconds its training
    took and whether this call trained it (``trained``) or found it done."""

    table: pd.DataFrame
    train_seconds: dict[int, float] = field(default_factory=dict)
    trained: set[int] = field(default_factory=set)
    seconds: float = 0.0


# ---------------------------------------------------------------------- the sweep file
def _label(changes: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in changes.items())


def bundled_sweeps() -> list[str]:
    """Names of the sweeps shipped with the package (``twostep/sweeps/<name>.yaml``)."""
    folder = resources.files("twostep") / "sweeps"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _field_of(name: object, source: str) -> tuple[str, str]:
    """``section.field`` as ``(section, field)``, after checking both exist."""
    section, dot, key = name.partition(".") if isinstance(name, str) else ("", "", "")
    if not dot:
        raise TwostepError(f"{source}: {name!r} is not a field: write section.field, "
                           "e.g. task.common_prob")
    if section not in SECTIONS:
        raise TwostepError(f"{source}: {name}: unknown section '{section}' (task, model or train)")
    if key not in SECTIONS[section].model_fields:
        raise TwostepError(f"{source}: {name}: unknown field")
    return section, key


def apply_changes(config: ExperimentConfig, changes: Mapping[str, Any], source: str
                  ) -> ExperimentConfig:
    """``config`` with ``{"section.field": value}`` changes, validated as strictly as a config
    file (no coercion: ``"12"`` is not 12); errors are one line starting with ``source``."""
    data = config.model_dump()
    for name, value in changes.items():
        section, key = _field_of(name, source)
        if isinstance(value, dict | list):
            raise TwostepError(f"{source}: {name}: expected one value, not a "
                               f"{'mapping' if isinstance(value, dict) else 'list'}")
        data[section][key] = value
    return parse_experiment(data, source=source, strict=True)


def _mapping(value: object, source: str, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TwostepError(f"{source}: expected a mapping of {what}")
    return value


def load_sweep(name_or_path: str | Path, settings: Iterable[str] = ()) -> Sweep:
    """Read and validate a sweep: a bundled name (``smoke``) or a YAML file.

    ``settings`` (``section.field=value``, the command line's ``--set``) change every point,
    after the file's own ``set``. Every point is validated before anything runs; two points
    that are the same run are refused.
    """
    settings = list(settings)
    source = str(name_or_path)
    if source in bundled_sweeps():
        text = (resources.files("twostep") / "sweeps" / f"{source}.yaml").read_text()
        name = source
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise TwostepError(f"unknown sweep '{source}': not a bundled name "
                               f"({', '.join(bundled_sweeps())}) nor a YAML file")
        text = read_text(path, MAX_CONFIG_BYTES, "sweep file")
        name = path.stem
    data = _mapping(parse_yaml(text, source), source,
                    "experiment, grid, points and set at the top level")
    for key in data:
        if key not in SWEEP_KEYS:
            raise TwostepError(f"{source}: {key}: unknown key (a sweep has "
                               f"{', '.join(SWEEP_KEYS)})")
    if "experiment" not in data or not isinstance(data["experiment"], str):
        raise TwostepError(f"{source}: experiment: missing (a bundled experiment's name or a "
                           "config file)")
    base = load_experiment(data["experiment"])
    base = apply_changes(base, _mapping(data.get("set"), f"{source}: set", "section.field: value"),
                         f"{source}: set")
    for setting in settings:
        section, key, value = parse_setting(setting)
        base = apply_changes(base, {f"{section}.{key}": value}, f"--set {setting}")

    grid = _mapping(data.get("grid"), f"{source}: grid", "section.field: [values]")
    if "grid" in data and not grid:
        raise TwostepError(f"{source}: grid: empty (give section.field: [values], or leave it out)")
    for name_, values in grid.items():
        _field_of(name_, f"{source}: grid")
        if not isinstance(values, list) or not values:
            raise TwostepError(f"{source}: grid: {name_}: expected a non-empty list of values")
    points = data.get("points") or []
    if not isinstance(points, list):
        raise TwostepError(f"{source}: points: expected a list of mappings (section.field: value)")
    changes = [dict(zip(grid, combination, strict=True))
               for combination in itertools.product(*grid.values())] if grid else []
    for i, point in enumerate(points):
        changes.append(_mapping(point, f"{source}: points[{i}]", "section.field: value"))
    if not changes:
        raise TwostepError(f"{source}: no points: give a grid, points, or both")

    sweep_points: list[SweepPoint] = []
    seen: dict[str, int] = {}
    for index, change in enumerate(changes):
        config = apply_changes(base, change, f"{source}: point {index} ({_label(change)})")
        point = SweepPoint(index, change, config)
        if point.run_name() in seen:
            raise TwostepError(f"{source}: point {index} ({point.label}) is the same run as "
                               f"point {seen[point.run_name()]}")
        seen[point.run_name()] = index
        sweep_points.append(point)
    fields = tuple(dict.fromkeys(name_ for point in sweep_points for name_ in point.changes))
    return Sweep(name, text, fields, tuple(sweep_points), tuple(settings))


# ---------------------------------------------------------------------- one point
def signature_or_load(run_dir: str | Path) -> pd.DataFrame:
    """The run's per-seed signature (:func:`~twostep.analysis.signature.signature_per_seed` of
    its test trials, with the hybrid model's w fitted per seed by
    :func:`twostep.core.fit.fitted_w`), cached as ``RUN_DIR/signature.csv``."""
    return cached_table(run_dir, SIGNATURE_FILE,
                        lambda: signature_per_seed(evaluate_or_load(run_dir), fitted_w))


def _signature_if_done(config: ExperimentConfig, root: Path) -> pd.DataFrame | None:
    """The cached signature of a finished run, or None if anything is missing or stale."""
    run_dir = run_dir_for(config, root)
    path = run_dir / SIGNATURE_FILE
    if not (path.is_file() and is_finished(run_dir)):
        return None
    if path.stat().st_mtime < (run_dir / "checkpoint.pt").stat().st_mtime:
        return None
    return pd.read_csv(path)


def _train_seconds(metrics: pd.DataFrame) -> float:
    return float(metrics["seconds"].max()) if "seconds" in metrics.columns else float("nan")


def run_point(config_data: dict, root: str, key: str = "point") -> tuple[pd.DataFrame, float, bool]:
    """Train (or load), test and summarise one point, on the CPU with one thread: what a
    Dask worker runs. Returns the per-seed signature, the training's seconds and whether
    this call trained (any of) it."""
    import torch
    from tqdm.auto import tqdm

    torch.set_num_threads(1)
    # tqdm's default lock is a process-shared semaphore that a worker stopped halfway leaves
    # behind (a warning at exit); this process shows no bar, so a thread lock does.
    tqdm.set_lock(threading.RLock())
    config = parse_experiment(config_data, source=key)
    trained = not is_finished(run_dir_for(config, root))
    run_dir, metrics = train_or_load(config, root, device="cpu", progress=False,
                                     on_update=progress_reporter(key))
    return signature_or_load(run_dir), _train_seconds(metrics), trained


# ---------------------------------------------------------------------- the sweep
def run_sweep(sweep: Sweep, root: str | Path | None = None, engine: Any = "local",
              workers: int | None = None, progress: bool = True) -> SweepResult:
    """Every point of ``sweep``, trained where missing; one row per point and seed.

    Args:
        root: the run cache (:func:`twostep.runs.store.runs_root`: ``$TWOSTEP_RUNS`` or
            ``./runs`` by default). On a cluster, a folder every worker sees.
        engine: ``"local"``, a Dask scheduler's address, or a Dask Client or cluster
            (:mod:`twostep.runs.cluster`). Points already done are read here and need none.
        workers: worker processes of the local cluster (default: one per core).
        progress: one progress bar for the sweep, in training updates.

    A point that fails (or whose workers die too often) does not stop the others; the
    failures are raised together at the end as one :class:`TwostepError`.
    """
    started = time.perf_counter()
    root = runs_root(root).resolve()
    result = SweepResult(table=pd.DataFrame())
    signatures: dict[int, pd.DataFrame] = {}
    missing = []
    for point in sweep.points:
        table = _signature_if_done(point.config, root)
        if table is None:
            missing.append(point)
        else:
            signatures[point.index] = table
            result.train_seconds[point.index] = _train_seconds(
                pd.read_csv(run_dir_for(point.config, root) / "metrics.csv"))
    if missing:
        _run_missing(missing, root, engine, workers, progress, signatures, result)
    result.table = results_table(sweep, signatures, root)
    result.seconds = time.perf_counter() - started
    return result


def _run_missing(points: list[SweepPoint], root: Path, engine: Any, workers: int | None,
                 progress: bool, signatures: dict[int, pd.DataFrame], result: SweepResult) -> None:
    """Run ``points`` on Dask, filling ``signatures`` and ``result`` as they finish."""
    from tqdm.auto import tqdm

    by_key = {f"twostep-sweep-{point.run_name()}": point for point in points}
    updates = dict.fromkeys(by_key, 0)
    failures: list[str] = []
    bar = tqdm(total=sum(p.config.train.updates for p in points), desc=f"sweep {len(points)} "
               f"point{'s' * (len(points) > 1)}", unit="update", disable=not progress)

    def on_progress(key: str, update: int) -> None:
        updates[key] = max(updates[key], update)
        bar.update(sum(updates.values()) - bar.n)

    def on_done(key: str, value: Any, error: BaseException | None) -> None:
        point = by_key[key]
        if error is not None:
            if type(error).__name__ == "KilledWorker":
                reason = "its worker died too often (killed, or out of memory)"
            else:
                reason = " ".join(str(error).split())[:300] or type(error).__name__
            failures.append(f"point {point.index} ({point.label}): {reason}")
            return
        signatures[point.index], result.train_seconds[point.index], trained = value
        if trained:
            result.trained.add(point.index)
        on_progress(key, point.config.train.updates)

    try:
        with dask_client(engine, workers) as client:
            run_tasks(client, run_point,
                      {key: (point.config.model_dump(), str(root), key)
                       for key, point in by_key.items()},
                      on_progress, on_done)
    finally:
        bar.close()
    if failures:
        raise TwostepError(f"{len(failures)} of {len(points)} point(s) failed (the others are "
                           f"kept; run again to retry): " + "; ".join(failures))


def results_table(sweep: Sweep, signatures: Mapping[int, pd.DataFrame],
                  root: str | Path | None = None) -> pd.DataFrame:
    """One row per point and seed: ``point``, each changed field (its value at that point),
    ``run`` and ``config_hash`` (the run folder and its hash), then the signature
    (``seed``, :data:`~twostep.analysis.signature.SIGNATURE_COLUMNS`, ``w`` if fitted)."""
    frames = []
    for point in sweep.points:
        front: dict[str, Any] = {"point": point.index}
        for name in sweep.fields:
            section, key = name.split(".")
            front[name] = getattr(getattr(point.config, section), key)
        run = point.run_name()
        front["run"], front["config_hash"] = run, run.rsplit("-", 1)[1]
        table = signatures[point.index]
        frames.append(pd.concat([pd.DataFrame(front, index=table.index), table], axis=1))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------- the results folder
RESULTS_FILE = "results.csv"
PROVENANCE_FILE = "provenance.yaml"


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def provenance(sweep: Sweep, result: SweepResult, command: str) -> dict[str, Any]:
    """Where a results table comes from: the command, the versions, the sweep file, and per
    point its changes, run folder, config hash and training seconds."""
    import twostep

    return {
        "command": command,
        "twostep": twostep.__version__,
        "versions": {name: _version(name) for name in ("torch", "dask", "distributed")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sweep": sweep.text,
        "settings": list(sweep.settings),
        "points": [{
            "point": point.index,
            "changes": dict(point.changes),
            "run": point.run_name(),
            "config_hash": point.run_name().rsplit("-", 1)[1],
            "seeds": point.config.train.seeds,
            "train_seconds": round(result.train_seconds.get(point.index, float("nan")), 1),
        } for point in sweep.points],
    }


def write_results(sweep: Sweep, result: SweepResult, out: str | Path, command: str) -> Path:
    """Write ``out/results.csv`` (:func:`results_table`) and ``out/provenance.yaml``
    (:func:`provenance`); files in ``out`` that the tool did not write are never replaced."""
    import yaml

    from twostep.files.owned import write_owned
    from twostep.files.paths import check_output_folder

    out = check_output_folder(out)
    write_owned(out / RESULTS_FILE, lambda p: result.table.to_csv(p, index=False))
    text = yaml.safe_dump(provenance(sweep, result, command), sort_keys=False, allow_unicode=True)
    write_owned(out / PROVENANCE_FILE, lambda p: p.write_text(text))
    return out / RESULTS_FILE


def shipped_results(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The results table shipped with the package for the bundled sweep ``name``
    (``twostep/sweeps/<name>/results.csv``) and its provenance, after checking that it holds
    every point of the sweep as the file now reads (with the ``--set`` settings it was made
    with), each with its config hash, once per seed."""
    import yaml

    folder = resources.files("twostep") / "sweeps" / name
    remake = f"make it with: python -m twostep sweep {name} --out twostep/sweeps/{name}"
    if not (folder / RESULTS_FILE).is_file() or not (folder / PROVENANCE_FILE).is_file():
        raise TwostepError(f"no results table is shipped for the sweep '{name}'; {remake}")
    with (folder / RESULTS_FILE).open() as file:
        table = pd.read_csv(file)
    record = yaml.safe_load((folder / PROVENANCE_FILE).read_text())
    sweep = load_sweep(name, record.get("settings") or [])
    expected = {point.index: point.run_name().rsplit("-", 1)[1] for point in sweep.points}
    found = table.groupby("point")["config_hash"].first().to_dict()
    if found != expected:
        raise TwostepError(f"the results table shipped for the sweep '{name}' is not the sweep "
                           f"file's points (config hashes differ); {remake}")
    seeds = {point.index: point.config.train.seeds for point in sweep.points}
    if table.groupby("point").size().to_dict() != seeds:
        raise TwostepError(f"the results table shipped for the sweep '{name}' lacks seeds; {remake}")
    return table, record
