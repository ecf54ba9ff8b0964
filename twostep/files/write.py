"""Atomic writes: every file is whole or not there, whatever interrupts the writer.

Every file goes to a temporary file in the same folder and is renamed over the
target (``os.replace``), so a reader, or an interrupted command, sees either the
old file or the new one, never half.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    The temporary name keeps the suffix (``.x.1234.tmp.png``), so writers that pick a
    format from it (``savefig``, ``to_csv`` compression) behave as for ``path``. On any
    failure, Ctrl-C included, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
