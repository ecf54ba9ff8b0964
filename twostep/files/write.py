"""Atomic writes: every file is whole or not there, whatever interrupts the writer.

Every file goes to a temporary file in the same folder, is flushed to the disk
(``fsync``), and is renamed over the target (``os.replace``), so a reader, an
interrupted command or a machine that loses power sees either the old file or the
new one, never half.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def _fsync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (a writer may leave it in the page cache)."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def _fsync_folder(folder: Path) -> None:
    """Best effort: flush the folder entry of a rename (not possible on every system)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    The temporary name keeps the suffix (``.x.1234.tmp.png``), so writers that pick a
    format from it (``savefig``, ``to_csv`` compression) behave as for ``path``. The
    temporary file is flushed to the disk before the rename, and the folder after it
    (where the system allows). On any failure, Ctrl-C included, the temporary file is
    removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
