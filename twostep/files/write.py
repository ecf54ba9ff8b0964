"""Atomic writes: every file is whole or not there, whatever interrupts the writer.

Every file goes to a temporary file in the same folder, is flushed to the disk
(``fsync``), and is renamed over the target (``os.replace``), so a reader, an
interrupted command or a machine that loses power sees either the old file or the
new one, never half. A write that fails for a reason of the system (a full disk, a folder
deleted or turned read-only meanwhile) is one :class:`~twostep.errors.TwostepError` that
says so (:mod:`twostep.files.failures`), however the writer reported it.

Temporary files are named ``.NAME.twostep-PID-TOKEN.tmp.SUFFIX``: the writer removes its own
whatever happens to it short of being killed, and removes those of dead processes before it
writes the same target again (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from twostep.errors import TwostepError
from twostep.files.failures import KNOWN_ERRNOS, explain, shown, why_unwritable

MAX_NAME_BYTES = 255
"""The longest file name most file systems take."""

_TEMPORARY = re.compile(r"\.(?P<stem>.*)\.twostep-(?P<pid>\d+)-[0-9a-f]+\.tmp(?:\.[^.]*)?",
                        re.DOTALL)


def temporary_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that keeps its suffix (``savefig`` and
    ``to_csv`` pick a format from it), shortened where ``path``'s name is near the limit."""
    token = f"twostep-{os.getpid()}-{secrets.token_hex(3)}.tmp"
    suffix = path.suffix if len(os.fsencode(path.suffix)) <= 32 else ""
    name = f".{path.stem}.{token}{suffix}"
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        name = f"..{token}{suffix}"
    return path.with_name(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or cannot tell: keep
        return True
    return True


def remove_stale_temporaries(folder: str | Path, target: str | None = None) -> list[str]:
    """Remove the temporary files a killed writer left in ``folder`` (only the tool's, only
    those of processes that no longer run; only those for ``target`` when given). Returns
    the names removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if not match or int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        if target is not None and match["stem"] not in (Path(target).stem, ""):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


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


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    The temporary file is flushed to the disk before the rename, and the folder after it
    (where the system allows). On any failure, Ctrl-C and SIGTERM included, the temporary
    file is removed and ``path`` is untouched; a failure the system explains (a full disk,
    a vanished or read-only folder) is raised as one :class:`TwostepError` naming ``path``.
    """
    path = Path(path)
    remove_stale_temporaries(path.parent, path.name)
    tmp = temporary_path(path)
    try:
        try:
            write(tmp)
            _fsync_file(tmp)
            os.replace(tmp, path)
        except (KeyboardInterrupt, TwostepError):
            raise
        except Exception as err:  # noqa: BLE001 (torch reports a full disk as RuntimeError)
            reason = why_unwritable(path.parent, _size(tmp))
            if reason is not None:
                raise TwostepError(f"cannot write {shown(path)}: {reason}") from err
            if isinstance(err, OSError) and err.errno in KNOWN_ERRNOS:
                raise TwostepError(explain(err, path)) from err
            raise
        _fsync_folder(path.parent)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
