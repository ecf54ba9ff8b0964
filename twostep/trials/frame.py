"""Building a trial table (:mod:`twostep.trials.columns`) from a batch of episodes, and back.

:func:`trial_frame` reads any outcome object with tensor fields and a ``columns()``
method (the tasks' :class:`~twostep.core.tasks.TrialOutcome`, say) without importing the
tasks, so the trial layer sits below the science that fills it. :func:`column_tensor`
turns a column of a table back into a ``[seeds, episodes, trials]`` tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import pandas as pd
import torch

from twostep.errors import TwostepError
from twostep.trials.columns import KEY


class Outcome(Protocol):
    """What happened on one trial of every episode: ``choice`` and every other column
    ``[S, B]``, by name, in the order of the trial table's columns."""

    choice: torch.Tensor

    def columns(self) -> dict[str, torch.Tensor]: ...


def trial_frame(outcomes: Sequence[Outcome], seeds: Sequence[int],
                episode_offset: int = 0) -> pd.DataFrame:
    """Stack one episode batch's per-trial outcomes into a trial table.

    Args:
        outcomes: one outcome per trial, each field ``[S, B]`` (S seeds, B episodes per
            seed), e.g. :class:`~twostep.core.tasks.TrialOutcome`.
        seeds: the seed number of each of the S rows.
        episode_offset: number given to the first episode of this batch.
    """
    first = outcomes[0]
    n_seeds, n_episodes = first.choice.shape
    if len(seeds) != n_seeds:
        raise TwostepError(f"{len(seeds)} seed labels for {n_seeds} seed rows")
    n_trials = len(outcomes)
    columns: dict[str, object] = {
        "seed": torch.tensor(list(seeds)).view(n_seeds, 1, 1).expand(n_seeds, n_episodes, n_trials),
        "episode": (torch.arange(n_episodes) + episode_offset).view(1, n_episodes, 1)
        .expand(n_seeds, n_episodes, n_trials),
        "trial": torch.arange(n_trials).view(1, 1, n_trials).expand(n_seeds, n_episodes, n_trials),
    }
    for name in first.columns():
        stacked = torch.stack([getattr(o, name) for o in outcomes], dim=-1)
        columns[name] = stacked
    return pd.DataFrame({name: value.reshape(-1).cpu().long().numpy()
                         for name, value in columns.items()})


def column_tensor(table: pd.DataFrame, column: str,
                  shape: tuple[int, int, int] | None = None) -> torch.Tensor:
    """One column of a trial table as a tensor ``[S, B, T]`` (seeds, episodes, trials): what
    :func:`trial_frame` flattened, put back.

    The rows are taken in seed, episode, trial order; ``shape`` defaults to the numbers of
    distinct seeds, episodes and trials, which every seed and episode must fill.
    """
    ordered = table.sort_values(KEY, kind="stable")
    if shape is None:
        shape = tuple(int(ordered[name].nunique()) for name in KEY)
    values = ordered[column].to_numpy()
    if values.size != math.prod(shape):
        raise TwostepError(f"trial table: {values.size:,} rows of {column!r} do not fill "
                           f"[seeds, episodes, trials] = {list(shape)}")
    return torch.tensor(values).view(shape)
