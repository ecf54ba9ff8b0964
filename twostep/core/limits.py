"""What fits in memory: rough sizes of an update and a trial table, checked before the work.

Each check raises :class:`TwostepError` with one line that names the largest size
that scales the need and the value that would fit, so the command line can print it
as it is.
"""

from __future__ import annotations

import math

from twostep.errors import TwostepError
from twostep.files.read import available_memory


def available_bytes(device=None) -> int:
    """Memory this process can still allocate: free GPU memory, else the OS's estimate."""
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    return available_memory()


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
    """Refuse a run whose one update would not fit (:func:`training_bytes`)."""
    fields = {"model.hidden_size": config.model.hidden_size,
              "train.batch_size": config.train.batch_size,
              "train.seeds": config.train.seeds, "task.trials": config.task.trials}
    check_fits(training_bytes(config), "one training update", fields, device)


def check_table_fits(seeds: int, episodes: int, trials: int, seeds_option: str = "seeds",
                     episodes_option: str = "episodes") -> None:
    """Refuse a trial table that would not fit (:func:`table_bytes`); the options name the
    sizes as the user set them."""
    fields = {episodes_option: episodes, seeds_option: seeds, "task.trials": trials}
    check_fits(table_bytes(seeds * episodes * trials), "the trial table", fields)
