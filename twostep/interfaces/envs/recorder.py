"""The trial table of any agent, from the ``info`` of its environment steps.

>>> recorder = TrialRecorder()
>>> observation, info = env.reset(seed=0)
>>> while True:
...     observation, reward, terminated, truncated, info = env.step(agent(observation))
...     recorder.record(info)
...     if terminated or truncated:
...         break
>>> recorder.to_csv("trials.csv")   # then: python -m twostep analyze trials.csv

It reads both :class:`~twostep.interfaces.envs.TwoStepEnv`'s ``info`` (Python ints) and
:class:`~twostep.interfaces.envs.TwoStepVectorEnv`'s (``[num_envs]`` arrays with ``_name``
masks; steps without trial columns, such as autoreset steps, are skipped). A new
episode starts wherever a sub-environment reports trial 0; episodes are numbered
in the order they start. The table has :mod:`twostep.trials`' columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twostep.errors import TwostepError
from twostep.files.owned import write_owned
from twostep.trials.columns import EPISODIC_COLUMNS, TRIAL_COLUMNS

TRIAL_INFO = [name for name in TRIAL_COLUMNS if name not in ("seed", "episode")]


class TrialRecorder:
    """Collects trials from step ``info`` into a trial table.

    ``seed`` fills the table's ``seed`` column: it labels the agent (one trained
    network), so tables of several agents can be concatenated and analysed together.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._chunks: list[dict[str, np.ndarray]] = []
        self._episode: np.ndarray | None = None  # current episode of each sub-environment
        self._episodes = 0

    def record(self, info: dict) -> None:
        """Add the trials in one step's ``info`` (single or vector environment)."""
        if "trial" not in info:
            return
        missing = [name for name in TRIAL_INFO if name not in info]
        if missing:
            raise TwostepError(f"step info lacks {', '.join(missing)}: not a twostep environment?")
        trial = np.atleast_1d(np.asarray(info["trial"]))
        present = np.asarray(info.get("_trial", np.ones(trial.shape, bool)), dtype=bool)
        if self._episode is None:
            self._episode = np.full(trial.shape, -1)
        if trial.shape != self._episode.shape:
            raise TwostepError(f"info for {trial.size} environments after {self._episode.size}")
        starting = present & (trial == 0)
        self._episode[starting] = self._episodes + np.arange(int(starting.sum()))
        self._episodes += int(starting.sum())
        if (self._episode[present] < 0).any():
            raise TwostepError("recording started mid-episode: record from the first step")
        names = TRIAL_INFO + [name for name in EPISODIC_COLUMNS if name in info]
        chunk = {name: np.atleast_1d(np.asarray(info[name]))[present].astype(np.int64)
                 for name in names}
        chunk["episode"] = self._episode[present].copy()
        self._chunks.append(chunk)

    def __len__(self) -> int:
        return sum(len(chunk["trial"]) for chunk in self._chunks)

    def frame(self) -> pd.DataFrame:
        """The trial table: one row per recorded trial, ordered by episode and trial."""
        if not self._chunks:
            raise TwostepError("no trials recorded")
        names = [name for name in self._chunks[0] if name != "episode"]
        columns = {"seed": np.full(len(self), self.seed, dtype=np.int64),
                   "episode": np.concatenate([c["episode"] for c in self._chunks])}
        columns.update({name: np.concatenate([c[name] for c in self._chunks]) for name in names})
        table = pd.DataFrame(columns)
        ordered = TRIAL_COLUMNS + [name for name in EPISODIC_COLUMNS if name in table.columns]
        return table[ordered].sort_values(["episode", "trial"], kind="stable").reset_index(drop=True)

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`frame` as CSV (readable by ``python -m twostep analyze``), as every
        writer of the package writes (:mod:`twostep.files`): atomically, never over a file
        the tool did not write nor into a run folder; :class:`TwostepError` otherwise."""
        path = Path(path)
        table = self.frame()
        write_owned(path, lambda tmp: table.to_csv(tmp, index=False), option="path")
        return path
