"""Reading a trial table from a CSV file someone hands us, checking every value; and the
checks any function that takes a trial table in memory makes (:func:`checked_table`).

A trial table (see :mod:`twostep.trials.columns`) is small integers: 0/1 flags, and
non-negative seed, episode and trial numbers. :func:`read_trial_table` refuses
anything else with one line naming the column, the file line and the value, so
``analyze`` never returns plausible statistics of a wrong table. It checks line
lengths before pandas parses anything, so a pathological file (one 10 MB line)
stops at once instead of after minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twostep.errors import TwostepError
from twostep.files.read import check_line_lengths
from twostep.trials.columns import BINARY_COLUMNS, EPISODIC_COLUMNS, INDEX_COLUMNS, KEY, TRIAL_COLUMNS

MAX_LINE_BYTES = 4096
"""A trial row is a few dozen bytes; a header a few hundred."""

MAX_FILE_BYTES = 4 * 2**30
"""4 GiB: about 100 million trials, far more than any experiment here produces."""

MAX_INDEX = 10**12
"""Largest seed, episode or trial number accepted."""


def _bad(path: Path, frame: pd.DataFrame, column: str, rows: np.ndarray, why: str
         ) -> TwostepError:
    row = int(np.flatnonzero(rows)[0])
    value = frame[column].iloc[row]
    count = int(rows.sum())
    more = f" ({count:,} rows in all)" if count > 1 else ""
    return TwostepError(f"{path}: column {column}, line {row + 2}: {value!r} {why}{more}")


def _as_whole_numbers(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    missing = numbers.isna().to_numpy()
    if missing.any():
        blank = raw.isna().to_numpy() & missing
        why = ("is missing (a short or truncated line?)" if blank[np.flatnonzero(missing)[0]]
               else "is not a number")
        raise _bad(path, frame, column, missing, why)
    values = numbers.to_numpy(dtype=float)
    fractional = ~np.isfinite(values) | (values != np.round(values))
    if fractional.any():
        raise _bad(path, frame, column, fractional, "is not a whole number")
    return numbers.astype(np.int64)


def check_trial_values(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """The table with integer columns, after checking every value of the known columns."""
    checked = {}
    for column in [c for c in (*TRIAL_COLUMNS, *EPISODIC_COLUMNS) if c in frame.columns]:
        values = _as_whole_numbers(path, frame, column)
        array = values.to_numpy()
        if column in BINARY_COLUMNS:
            wrong = (array != 0) & (array != 1)
            if wrong.any():
                raise _bad(path, frame, column, wrong, "is not 0 or 1")
        elif column in INDEX_COLUMNS:
            wrong = (array < 0) | (array > MAX_INDEX)
            if wrong.any():
                raise _bad(path, frame, column, wrong,
                           f"is not a whole number from 0 to {MAX_INDEX:g}")
        elif column == "cue_trial":
            wrong = (array < -1) | (array > MAX_INDEX)
            if wrong.any():
                raise _bad(path, frame, column, wrong, "is not -1 or a trial number")
        checked[column] = values
    return frame.assign(**checked)


def check_complete(path: Path, frame: pd.DataFrame) -> None:
    """Every episode has as many trials as the longest one (a truncated file does not)."""
    sizes = frame.groupby(["seed", "episode"], sort=False).size()
    short = sizes[sizes < sizes.max()]
    if len(short):
        (seed, episode), n = short.index[0], int(short.iloc[0])
        raise TwostepError(f"{path}: seed {seed} episode {episode} has {n} trials, others "
                           f"{int(sizes.max())}; the table looks truncated ({len(short)} short "
                           "episode(s))")


def read_trial_table(path: str | Path) -> pd.DataFrame:
    """Read and check a trial CSV; :class:`TwostepError` with one line if anything is off."""
    path = Path(path)
    if not path.is_file():
        raise TwostepError(f"no trial table at {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TwostepError(f"{path}: {size / 2**30:.1f} GiB is larger than a trial table may be "
                           f"({MAX_FILE_BYTES / 2**30:.0f} GiB)")
    check_line_lengths(path, MAX_LINE_BYTES, "trial table")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise TwostepError(f"{path}: not a readable CSV ({first})") from None
    missing = [c for c in TRIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise TwostepError(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise TwostepError(f"{path}: no trials")
    frame = check_trial_values(path, frame)
    check_complete(path, frame)
    return frame


def checked_table(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with a fresh index, after checking it is a non-empty trial table that has
    ``columns`` and no trial twice; :class:`TwostepError` with one line otherwise."""
    if not isinstance(frame, pd.DataFrame):
        raise TwostepError(f"expected a trial table (pandas DataFrame), got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TwostepError(f"trial table: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise TwostepError("trial table: no trials")
    if frame.duplicated(KEY).any():
        raise TwostepError("trial table: some (seed, episode, trial) appear more than once")
    return frame.reset_index(drop=True)
