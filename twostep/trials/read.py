"""Reading a trial table from a CSV file someone hands us, checking every value and that
the values agree with each other; and the checks any function that takes a trial table in
memory makes (:func:`checked_table`).

A trial table (see :mod:`twostep.trials.columns`) is small integers: 0/1 flags, and
non-negative seed, episode and trial numbers. :func:`read_trial_table` refuses
anything else with one line naming the column, the file line and the value, and then
refuses a table whose values contradict each other (:func:`check_consistency`): trial
numbers with gaps or repeats, a cue that recalls its own trial, a later one or a cued
one, a ``common`` flag that disagrees with the choice and the state. So ``analyze``
never returns plausible statistics of a wrong table. The file is read through a bounded
stream (:func:`twostep.files.read.open_lines`): lines and size are checked as pandas
reads, after decompression, so a pathological file (one 10 MB line, a small ``.gz`` that
unpacks to gigabytes) stops at once instead of after minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from twostep.errors import TwostepError
from twostep.files.failures import shown
from twostep.files.read import available_memory, open_lines
from twostep.trials.columns import BINARY_COLUMNS, EPISODIC_COLUMNS, INDEX_COLUMNS, KEY, TRIAL_COLUMNS

MAX_LINE_BYTES = 4096
"""A trial row is a few dozen bytes; a header a few hundred."""

MAX_FILE_BYTES = 4 * 2**30
"""4 GiB: about 100 million trials, far more than any experiment here produces."""

MEMORY_PER_BYTE = 32
"""Bytes of memory a table takes per byte of CSV while it is read and checked (measured:
about 25, as strings before they are checked); a table is read only where that fits."""

MAX_INDEX = 10**12
"""Largest seed, episode or trial number accepted."""


def _bad(path: Path, frame: pd.DataFrame, column: str, rows: np.ndarray, why: str
         ) -> TwostepError:
    row = int(np.flatnonzero(rows)[0])
    value = frame[column].iloc[row]
    count = int(rows.sum())
    more = f" ({count:,} rows in all)" if count > 1 else ""
    return TwostepError(f"{path}: column {column}, line {row + 2}: {value!r} {why}{more}")


def _plain_integers(raw: pd.Series) -> pd.Series | None:
    """The column as integers when every value is a plain ASCII integer (the common case,
    fast); None otherwise (the careful path decides)."""
    array = raw.to_numpy()
    try:
        joined = "".join(array)
        if not joined.isascii() or "_" in joined:  # int() also reads 1_0 and other digits
            return None
        return pd.Series(array.astype(np.int64), index=raw.index, name=raw.name)
    except (TypeError, ValueError, OverflowError):
        return None


def _as_whole_numbers(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    plain = _plain_integers(raw)
    if plain is not None:
        return plain
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


def _line(order: np.ndarray, sorted_index: int) -> int:
    """The file line of the row at ``sorted_index`` in sorted order (header is line 1)."""
    return int(order[sorted_index]) + 2


def check_consistency(path: Path | str, frame: pd.DataFrame) -> None:
    """The values of a checked table (:func:`check_trial_values`) agree with each other;
    :class:`TwostepError` naming the first line that contradicts them otherwise.

    * trials are numbered ``0 .. n-1`` in each seed's episode: no gap, no repeat;
    * ``common`` is 1 exactly when the state reached has the number of the choice (a
      common transition leads from choice k to state k);
    * ``cued`` and ``cue_trial`` come together; ``cue_trial`` is -1 exactly on uncued
      trials, and on a cued trial names an earlier, uncued trial of the same episode.

    Vectorised: a table of 30,000 trials is checked in milliseconds.
    """
    seed, episode, trial = (frame[c].to_numpy(np.int64) for c in ("seed", "episode", "trial"))
    order = np.lexsort((trial, episode, seed))
    s, e, t = seed[order], episode[order], trial[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    position = np.arange(len(order)) - first
    wrong = np.flatnonzero(t != position)
    if wrong.size:
        at = int(wrong[0])
        where = f"seed {s[at]} episode {e[at]}"
        if at > 0 and not starts[at] and t[at] == t[at - 1]:
            raise TwostepError(f"{path}: {where}: trial {t[at]} appears twice (lines "
                               f"{min(_line(order, at - 1), _line(order, at))} and "
                               f"{max(_line(order, at - 1), _line(order, at))})")
        raise TwostepError(f"{path}: {where} has no trial {position[at]} (line "
                           f"{_line(order, at)} is trial {t[at]}); trials are numbered 0, 1, "
                           "2, ... in each episode")
    if {"choice", "state", "common"} <= set(frame.columns):
        choice, state, common = (frame[c].to_numpy(np.int64) for c in ("choice", "state",
                                                                           "common"))
        wrong = np.flatnonzero(common != (choice == state))
        if wrong.size:
            row = int(wrong[0])
            raise TwostepError(f"{path}: line {row + 2}: common is {common[row]} but choice "
                               f"{choice[row]} led to state {state[row]} (a common transition "
                               f"leads from choice k to state k){_more(wrong)}")
    present = [c for c in EPISODIC_COLUMNS if c in frame.columns]
    if len(present) == 1:
        missing = next(c for c in EPISODIC_COLUMNS if c not in present)
        raise TwostepError(f"{path}: has a {present[0]} column but no {missing}; the episodic "
                           "task's tables have both")
    if present:
        _check_cues(path, frame, order, first)


def _more(rows: np.ndarray) -> str:
    return f" ({rows.size:,} rows in all)" if rows.size > 1 else ""


def _check_cues(path, frame: pd.DataFrame, order: np.ndarray, first: np.ndarray) -> None:
    cued = frame["cued"].to_numpy(np.int64)
    cue = frame["cue_trial"].to_numpy(np.int64)
    trial = frame["trial"].to_numpy(np.int64)
    wrong = np.flatnonzero((cued == 0) & (cue != -1))
    if wrong.size:
        row = int(wrong[0])
        raise TwostepError(f"{path}: line {row + 2}: an uncued trial (cued 0) with cue_trial "
                           f"{cue[row]}; cue_trial is -1 on uncued trials{_more(wrong)}")
    wrong = np.flatnonzero((cued == 1) & (cue == -1))
    if wrong.size:
        row = int(wrong[0])
        raise TwostepError(f"{path}: line {row + 2}: a cued trial (cued 1) with cue_trial -1; "
                           f"a cued trial names the trial it recalls{_more(wrong)}")
    for test, what in ((cue == trial, "recalls itself"),
                       (cue > trial, "recalls a later trial")):
        wrong = np.flatnonzero((cued == 1) & test)
        if wrong.size:
            row = int(wrong[0])
            raise TwostepError(f"{path}: line {row + 2}: cued trial {trial[row]} {what} "
                               f"(cue_trial {cue[row]}); a cue recalls an earlier trial of its "
                               f"episode{_more(wrong)}")
    # the recalled trial, in sorted order: its episode's first row plus its number
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    recalled = first[rank] + np.where(cued == 1, cue, 0)
    wrong = np.flatnonzero((cued == 1) & (cued[order[recalled]] == 1))
    if wrong.size:
        row = int(wrong[0])
        raise TwostepError(f"{path}: line {row + 2}: cued trial {trial[row]} recalls trial "
                           f"{cue[row]}, a cued trial (line {_line(order, recalled[row])}); a "
                           f"cue recalls an uncued trial{_more(wrong)}")


def read_trial_table(path: str | Path) -> pd.DataFrame:
    """Read and check a trial CSV; :class:`TwostepError` with one line if anything is off."""
    path = Path(path)
    limit = min(MAX_FILE_BYTES, available_memory() // MEMORY_PER_BYTE)
    try:
        stream = open_lines(path, "trial table", MAX_LINE_BYTES, limit)
    except FileNotFoundError:
        raise TwostepError(f"no trial table at {shown(path)}") from None
    try:
        with stream:
            frame = pd.read_csv(stream, dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8", compression=None)
    except TwostepError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise TwostepError(f"{shown(path)}: not a readable CSV ({first})") from None
    missing = [c for c in TRIAL_COLUMNS if c not in frame.columns]
    if missing:
        raise TwostepError(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise TwostepError(f"{path}: no trials")
    frame = check_trial_values(path, frame)
    check_consistency(path, frame)
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
