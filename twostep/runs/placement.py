"""Which device trains a run when the user says ``auto``: the faster one, measured.

A GPU is not always faster here. An update is a chain of small steps through 100 trials
of a 48-unit network; on a GPU each step is a kernel launch, and the compiled CPU engine
(:mod:`twostep.core.engine`) runs the same steps without one. Which wins depends on the
model's size and on how many episodes step together, so for ``auto``
:func:`choose_device` times a few updates of the experiment on the CPU and on the first
CUDA device, picks the faster and keeps the choice in ``devices.json`` in the run cache:
later calls, notebooks and processes read it back, so a run's device (part of its
identity) does not change from one call to the next. Without CUDA the CPU is the only
choice and nothing is measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from twostep.core.config import ExperimentConfig
from twostep.core.devices import resolve_device
from twostep.errors import TwostepError
from twostep.files.read import read_text
from twostep.files.write import write_text
from twostep.runs.bench import ms_per_update

CHOICES_FILE = "devices.json"
"""Where the measured choices are kept, in the run cache."""

MEASURE_SECONDS = 0.5
"""Time spent on each device's measurement (after one warm-up update)."""


@dataclass(frozen=True)
class Choice:
    """The device a run trains on, and why, in words (for the book and the command line)."""

    device: torch.device
    reason: str


def workload_key(config: ExperimentConfig, gpu: str) -> str:
    """What the timing depends on: the GPU, torch, the cell and its size, the episodes
    stepped together and their length."""
    model, train = config.model, config.train
    memory = f"+dnd-{model.retrieval}" if model.cell == "eplstm" else ""
    return (f"{gpu} | torch {torch.__version__} | {model.cell}{memory} {model.hidden_size} "
            f"units | {train.seeds}x{train.batch_size} episodes of {config.task.trials} trials")


def choose_device(config: ExperimentConfig, device: str | torch.device | None,
                  root: str | Path) -> Choice:
    """The device to train ``config`` on: ``device`` itself unless it is ``auto`` (or None);
    for ``auto``, the CPU when there is no CUDA device, else whichever of the CPU and the
    first CUDA device ran an update of ``config`` faster (measured once per workload and
    kept in :data:`CHOICES_FILE` in the run cache ``root``)."""
    if device is not None and str(device) != "auto":
        return Choice(resolve_device(device), "asked for")
    if not torch.cuda.is_available():
        return Choice(torch.device("cpu"), "no CUDA device here")
    gpu = torch.device("cuda", 0)
    key = workload_key(config, torch.cuda.get_device_name(gpu))
    path = Path(root) / CHOICES_FILE
    choices = _read_choices(path)
    if key not in choices:
        cpu_ms = ms_per_update(config.with_changes(train={"engine": "auto"}),
                               torch.device("cpu"), MEASURE_SECONDS, most=10)
        gpu_ms = ms_per_update(config.with_changes(train={"engine": "auto"}), gpu,
                               MEASURE_SECONDS, most=10)
        choices[key] = {"device": "cuda" if gpu_ms < cpu_ms else "cpu",
                        "cpu_ms": round(cpu_ms, 1), "cuda_ms": round(gpu_ms, 1)}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(choices, indent=1, sort_keys=True) + "\n")
    chosen = choices[key]
    reason = (f"an update of {config.name} took {chosen['cuda_ms']} ms on "
              f"{torch.cuda.get_device_name(gpu)} and {chosen['cpu_ms']} ms on the CPU "
              f"(measured once, kept in {path})")
    return Choice(torch.device(chosen["device"]), reason)


def _read_choices(path: Path) -> dict:
    """The kept choices; an unreadable file is measured afresh rather than trusted."""
    try:
        choices = json.loads(read_text(path, 1 << 20, "device choices"))
    except (OSError, ValueError, TwostepError):
        return {}
    if not isinstance(choices, dict):
        return {}
    return {key: value for key, value in choices.items() if isinstance(value, dict)
            and value.get("device") in ("cpu", "cuda")
            and all(isinstance(value.get(f), (int, float)) for f in ("cpu_ms", "cuda_ms"))}
