"""Trial logs: one row per trial, as a tidy :class:`pandas.DataFrame`.

Columns (0/1 integers unless said): ``seed``, ``episode``, ``trial``, ``choice``,
``state`` (second-stage state reached), ``common`` (the transition was common),
``reward``, ``good_state`` (the second-stage state with the high reward probability
on that trial); the episodic task adds ``cued`` and ``cue_trial`` (index of the
past trial whose context is the cue, -1 when none).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch

from twostep.errors import TwostepError
from twostep.tasks import TrialOutcome

TRIAL_COLUMNS = ["seed", "episode", "trial", "choice", "state", "common", "reward", "good_state"]
EPISODIC_COLUMNS = ["cued", "cue_trial"]


def trial_frame(outcomes: Sequence[TrialOutcome], seeds: Sequence[int],
                episode_offset: int = 0) -> pd.DataFrame:
    """Stack one episode batch's per-trial outcomes into a trial table.

    Args:
        outcomes: one :class:`TrialOutcome` per trial, each field ``[S, B]``
            (S seeds, B episodes per seed).
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

