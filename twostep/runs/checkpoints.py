"""Checkpoints: what a run folder keeps to continue training, saved, read and checked.

``RUN_DIR/checkpoint.pt`` holds the weights, the optimiser's state, the generators'
states, the metrics so far and the config, each field checked for its type when read
(a damaged or foreign file is refused with one line); ``RUN_DIR/metrics.csv`` beside it
is the same metrics as a table. Both are written atomically
(:func:`twostep.files.write.atomic_write`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from twostep.core.config import ExperimentConfig, parse_experiment
from twostep.core.devices import resolve_device
from twostep.core.models import RecurrentActorCritic
from twostep.core.train import TrainState, new_state
from twostep.errors import TwostepError
from twostep.files.write import atomic_write

CHECKPOINT_FORMAT = 1
"""The checkpoint layout this version writes and reads."""


def check_checkpoint_fields(payload: dict, path) -> None:
    """The types of a checkpoint's fields, before anything uses them."""
    problems = []
    if not isinstance(payload["update"], int) or isinstance(payload["update"], bool) \
            or payload["update"] < 0:
        problems.append("update is not a non-negative whole number")
    if not isinstance(payload["config"], dict):
        problems.append("config is not a mapping")
    if not isinstance(payload["model"], dict) or not all(
            isinstance(v, torch.Tensor) for v in payload["model"].values()):
        problems.append("model is not a mapping of tensors")
    if not isinstance(payload["optimizer"], dict):
        problems.append("optimizer is not a mapping")
    if not isinstance(payload["generators"], list) or not all(
            isinstance(g, torch.Tensor) and g.dtype == torch.uint8
            for g in payload["generators"]):
        problems.append("generators is not a list of generator states")
    if not isinstance(payload["metrics"], list) or not all(
            isinstance(m, dict) for m in payload["metrics"]):
        problems.append("metrics is not a list of rows")
    if problems:
        raise TwostepError(f"{path}: damaged checkpoint ({problems[0]})")


def save_checkpoint(state: TrainState, config: ExperimentConfig, run_dir: Path) -> None:
    """Write ``checkpoint.pt`` and ``metrics.csv`` of ``run_dir``, each atomically."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": config.model_dump(),
        "update": state.update,
        "model": {k: v.cpu() for k, v in state.model.state_dict().items()},
        "optimizer": state.optimizer.state_dict(),
        "generators": [g.get_state() for g in state.generators],
        "metrics": state.metrics,
        "device": state.model.weight.device.type,
        "engine": state.engine,
    }
    write_checkpoint(payload, run_dir)


def write_checkpoint(payload: dict, run_dir: Path) -> None:
    """Write a checkpoint's payload as ``checkpoint.pt`` and its metrics as ``metrics.csv``."""
    atomic_write(run_dir / "checkpoint.pt", lambda p: torch.save(payload, p))
    atomic_write(run_dir / "metrics.csv",
                 lambda p: pd.DataFrame(payload["metrics"]).to_csv(p, index=False))


def _concatenate(parts: list, where: str):
    """Per-seed values of several shards as one: tensors with a seed dimension are joined
    along it, equal scalars kept, mappings merged key by key."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        if first.dim() == 0:
            if not all(torch.equal(part, first) for part in parts):
                raise TwostepError(f"shards disagree on {where}")
            return first
        return torch.cat(parts)
    if isinstance(first, dict):
        return {key: _concatenate([part[key] for part in parts], f"{where}.{key}") for key in first}
    if any(part != first for part in parts):
        raise TwostepError(f"shards disagree on {where}")
    return first


def merge_checkpoints(payloads: list[dict], config: ExperimentConfig) -> dict:
    """One checkpoint from the checkpoints of runs that trained consecutive seeds of
    ``config`` apart (:func:`twostep.runs.parallel.shard_configs`), in seed order: bitwise
    the checkpoint of the seeds trained together, since every seed trains on its own."""
    if len({(p["update"], *trained_with(p)) for p in payloads}) != 1:
        raise TwostepError("shards stopped at different updates, or trained differently")
    merged = dict(payloads[0])
    merged["config"] = config.model_dump()
    merged["model"] = _concatenate([p["model"] for p in payloads], "model")
    optimizer = [p["optimizer"] for p in payloads]
    merged["optimizer"] = {"state": _concatenate([o["state"] for o in optimizer], "optimizer"),
                           "param_groups": _concatenate([o["param_groups"] for o in optimizer],
                                                        "optimizer groups")}
    merged["generators"] = [g for p in payloads for g in p["generators"]]
    merged["metrics"] = sorted((row for p in payloads for row in p["metrics"]),
                               key=lambda row: (row["update"], row["seed"]))
    return merged


def read_checkpoint(run_dir: str | Path) -> dict:
    """The checkpoint of a run folder, checked; :class:`TwostepError` if missing or corrupt."""
    path = Path(run_dir) / "checkpoint.pt"
    if not path.is_file():
        raise TwostepError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds on a damaged file
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise TwostepError(f"{path}: corrupt checkpoint ({reason})") from None
    needed = {"format", "config", "update", "model", "optimizer", "generators", "metrics"}
    if not isinstance(payload, dict) or not needed <= payload.keys():
        raise TwostepError(f"{path}: not a twostep checkpoint")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise TwostepError(f"{path}: checkpoint format {payload['format']}, "
                           f"this version reads {CHECKPOINT_FORMAT}")
    check_checkpoint_fields(payload, path)
    return payload


def checkpoint_config(payload: dict, run_dir: str | Path, strict: bool = False
                      ) -> ExperimentConfig:
    """The experiment a checkpoint was trained with (``strict``: no unknown fields)."""
    return parse_experiment(payload["config"], source=f"{run_dir}/checkpoint.pt", strict=strict)


def state_from_checkpoint(payload: dict, config: ExperimentConfig, device: torch.device,
                          run_dir: str | Path = "run") -> TrainState:
    """A :class:`~twostep.core.train.TrainState` restored from a checkpoint already read."""
    state = new_state(config, device)
    try:
        state.model.load_state_dict(payload["model"])
        state.optimizer.load_state_dict(payload["optimizer"])
        for g, saved in zip(state.generators, payload["generators"], strict=True):
            g.set_state(saved)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as err:
        raise TwostepError(f"{run_dir}/checkpoint.pt does not fit the run's config "
                           f"({str(err).splitlines()[0][:120]})") from None
    state.update = int(payload["update"])
    state.metrics = list(payload["metrics"])
    return state


def trained_with(payload: dict) -> tuple[str, str]:
    """The device type and the engine a checkpoint was trained with (checkpoints written
    before they were recorded: the CPU and the reference engine, the only ones then)."""
    device, engine = payload.get("device", "cpu"), payload.get("engine", "reference")
    if not isinstance(device, str) or not isinstance(engine, str):
        raise TwostepError("damaged checkpoint (its device or engine is not a name)")
    return device, engine


def load_model(run_dir: str | Path, device: str | torch.device = "cpu"
               ) -> tuple[RecurrentActorCritic, ExperimentConfig]:
    """The trained networks of a run folder and the config they were trained with."""
    payload = read_checkpoint(run_dir)
    config = checkpoint_config(payload, run_dir, strict=True)
    state = state_from_checkpoint(payload, config, resolve_device(device), run_dir)
    return state.model, config


def is_finished(run_dir: str | Path) -> bool:
    """Whether a run folder holds a checkpoint with its whole training budget done."""
    try:
        payload = read_checkpoint(run_dir)
        config = checkpoint_config(payload, run_dir)
    except TwostepError:
        return False
    return int(payload["update"]) >= config.train.updates
