"""Checks at the edge: what a run may be called, where it may run, what fits in memory.

Each check raises :class:`TwostepError` with one line that names the offending
field or option and the limit, so the command line can print it as it is.
"""

from __future__ import annotations

import math
import os
import re

from twostep.errors import TwostepError

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A plain folder name: letters, digits, ``.``, ``_``, ``-``; no separators, not hidden."""

MAX_SEED = 2**63 - 1
"""Generators are seeded with ``seed + stream`` (stream up to 2,000,000), below 2**63."""

SLOW_BUDGET_SECONDS = 60.0
"""Estimated training times above this are announced before the bulk of the work."""


def check_run_name(name: str) -> str:
    """A run name must be usable as one folder name (``runs/<name>``), nothing more."""
    if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
        raise ValueError(f"must be a plain folder name (letters, digits, '.', '_', '-', "
                         f"starting with a letter or digit, at most 100), not {name!r}")
    return name


def check_device_type(device) -> None:
    """Only devices that hold real numbers: ``meta`` (and other placeholders) are refused."""
    import torch

    if device.type not in ("cpu", "cuda"):
        raise TwostepError(f"device '{device}' is not supported (use cpu, cuda or auto)")
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise TwostepError(f"device '{device}' asked for, but only "
                               f"{torch.cuda.device_count()} CUDA device(s) exist")


# ------------------------------------------------------------------ memory
def available_bytes(device=None) -> int:
    """Memory this process can still allocate: free GPU memory, else the OS's estimate."""
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**40  # unknown: do not refuse


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def training_bytes(config) -> int:
    """Rough peak memory of one update, in bytes (float32).

    Per seed, episode and trial the autograd graph keeps about 16 H numbers (gates,
    cell and hidden states, inputs); on the episodic task each cued read also keeps
    the stacked memory, about (T/2) (H + context) numbers. Weights, gradients and
    RMSProp state add 4 copies of 4 H (I + H) per seed, I < 64.
    """
    t, m, tr = config.task, config.model, config.train
    per_trial = 16 * m.hidden_size + 64
    if t.kind == "episodic-two-step":
        per_trial += (t.trials // 2) * (m.hidden_size + t.context_bits) // 2
    graph = tr.seeds * tr.batch_size * t.trials * per_trial
    weights = tr.seeds * 4 * 4 * m.hidden_size * (64 + m.hidden_size)
    return 4 * (graph + weights)


def table_bytes(rows: int) -> int:
    """A trial table in memory: ~10 int64 columns, plus pandas' working copies."""
    return rows * 10 * 8 * 3


def check_fits(needed: int, what: str, fields: dict[str, int], device=None) -> None:
    """Refuse when ``needed`` bytes exceed what this machine can allocate.

    ``fields`` maps each size that scales ``needed`` linearly (or faster) to its value;
    the error names the largest one and the value that would fit with the others as
    they are.
    """
    free = available_bytes(device)
    if needed <= free:
        return
    name, value = max(fields.items(), key=lambda item: item[1])
    fits = max(1, math.floor(value * free / needed))
    others = ", ".join(f"{k}={v:,}" for k, v in fields.items() if k != name)
    raise TwostepError(f"{name}={value:,} is too large: {what} needs about {_gib(needed)}, "
                       f"this machine has {_gib(free)} free; at most about {fits:,} with "
                       f"{others}")


def check_training_fits(config, device=None) -> None:
    fields = {"model.hidden_size": config.model.hidden_size,
              "train.batch_size": config.train.batch_size,
              "train.seeds": config.train.seeds, "task.trials": config.task.trials}
    check_fits(training_bytes(config), "one training update", fields, device)


def check_table_fits(seeds: int, episodes: int, trials: int, seeds_option: str = "seeds",
                     episodes_option: str = "episodes") -> None:
    fields = {episodes_option: episodes, seeds_option: seeds, "task.trials": trials}
    check_fits(table_bytes(seeds * episodes * trials), "the trial table", fields)


# ------------------------------------------------------------------ training
def check_finite_losses(rows: list[dict], update: int, lr: float) -> None:
    """Stop a run that diverged: a non-finite loss never gets into a checkpoint."""
    for row in rows:
        for key in ("policy_loss", "value_loss", "entropy", "grad_norm"):
            if not math.isfinite(row[key]):
                raise TwostepError(
                    f"training diverged at update {update}: {key} is {row[key]} for seed "
                    f"{row['seed']}; lower train.lr (now {lr:g}) or check the config's "
                    "temperatures; the last finite checkpoint is kept")


def format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365 * 86400):,.3g} years"


def budget_message(seconds_per_update: float, updates_left: int) -> str | None:
    """One line announcing a long run, or None for a short one."""
    total = seconds_per_update * updates_left
    if total < SLOW_BUDGET_SECONDS:
        return None
    return (f"estimated training time: {format_duration(total)} ({updates_left:,} updates "
            f"left at {seconds_per_update:.3g} s each, measured); Ctrl-C keeps the last "
            "checkpoint, continue with --resume")


# ------------------------------------------------------------------ checkpoints
def check_checkpoint_fields(payload: dict, path) -> None:
    """The types of a checkpoint's fields, before anything uses them."""
    import torch

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
