"""Ownership: the tool replaces only files it wrote, and never a run's own files from outside.

Each folder the tool writes into keeps the list of the files it wrote there,
``.twostep-files`` (:data:`MANIFEST`): a header line, then one JSON line per file,
``["run", "checkpoint.pt"]`` or ``["output", "trials.csv"]``. The rules of the file policy
(:mod:`twostep.files`) are one function each here:

1. :func:`check_not_in_run_folder`: a run folder's files are never an ``--out``.
2. :func:`record`: a name joins the list only once its file is whole on disk.
3. :func:`listed` and :func:`record`: the list holds any name, and concurrent writers
   lose no entry.
4. :func:`owned`: only the list vouches for a file.
5. :func:`write_owned` (outputs) and :func:`write_run_file` (a run's own files): the two
   writers every command and library function goes through.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from twostep.errors import TwostepError
from twostep.files.failures import explain, shown, why_unwritable
from twostep.files.locks import LOCK_FILE
from twostep.files.read import read_bytes
from twostep.files.write import _fsync_folder, atomic_write

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows: appends of one short line, unlocked)
    fcntl = None

MANIFEST = ".twostep-files"
"""Per folder: the files the tool wrote there."""

HEADER = "twostep-files 2"
"""The list's first line; a list without it is the earlier format, one name per line."""

RUN = "run"
"""Kind of a run's own file: written by training or by the run's evaluation, never an --out."""

OUTPUT = "output"
"""Kind of a command's output (``--out``, reproduce's figures and tables)."""

RUN_FILES = ("config.yaml", "checkpoint.pt", "metrics.csv")
"""What training writes into a run folder (besides ``snapshots/`` and evaluation tables)."""

BOOKKEEPING = (MANIFEST, LOCK_FILE)
"""The tool's own bookkeeping, in any folder: never an output."""

MAX_LIST_BYTES = 64 * 2**20
"""A list of a million names is far smaller; anything larger is not one."""


# ------------------------------------------------------------------ rule 3: the list
def _parse(text: str) -> dict[str, str]:
    lines = text.split("\n")
    entries: dict[str, str] = {}
    if lines[0] != HEADER:  # the earlier format: one name per line, all written at once
        names = [name for name in lines[:-1] if name]
        kind = RUN if "checkpoint.pt" in names else OUTPUT
        return {name: kind if name in RUN_FILES else OUTPUT for name in names}
    for line in lines[1:-1]:  # the last piece is "" or a line a crash left unfinished
        try:
            kind, name = json.loads(line)
        except (ValueError, TypeError):  # a damaged line vouches for nothing
            continue
        if kind in (RUN, OUTPUT) and isinstance(name, str):
            entries[name] = kind
    return entries


def listed(folder: str | Path) -> dict[str, str]:
    """``{name: kind}`` of the files the tool wrote in ``folder`` (empty without a list)."""
    path = Path(folder) / MANIFEST
    try:
        data = read_bytes(path, MAX_LIST_BYTES, "list of the tool's files", follow_links=False)
    except TwostepError:
        if not os.path.lexists(path):
            return {}
        raise
    return _parse(data.decode("utf-8", "surrogateescape"))


def _open_list(folder: Path) -> int:
    path = folder / MANIFEST
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | \
        getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise TwostepError(f"{shown(path)} is not a regular file, so it cannot be the "
                               "tool's list of its files; move it away") from None
        reason = why_unwritable(folder)
        raise TwostepError(f"cannot write {shown(path)}: {reason}" if reason else
                           explain(err, path)) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise TwostepError(f"{shown(path)} is not a regular file, so it cannot be the tool's "
                           "list of its files; move it away")
    return descriptor


def _read_all(descriptor: int, path: Path) -> str:
    size = os.fstat(descriptor).st_size
    if size > MAX_LIST_BYTES:
        raise TwostepError(f"{shown(path)}: {size:,} bytes is too large for the tool's list of "
                           "its files; move it away")
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(descriptor, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def _entry(kind: str, name: str) -> str:
    return json.dumps([kind, name]) + "\n"  # ASCII: any character, a newline too, escaped


def _write_all(descriptor: int, text: str) -> None:
    data = text.encode("ascii")
    while data:
        written = os.write(descriptor, data)
        data = data[written:]


# ------------------------------------------------------------------ rule 2: whole, then listed
def record(folder: str | Path, name: str, kind: str = OUTPUT) -> None:
    """Add ``name`` to ``folder``'s list as ``kind``, once its file is whole on disk.

    Refuses a name whose file is not a regular file there (the writer must have written,
    flushed and renamed it first: :func:`~twostep.files.write.atomic_write`). Appends one
    line under an exclusive lock on the list, so concurrent writers lose no entry, and
    never rewrites the list (but once, to bring a list of the earlier format to this one).
    """
    folder = Path(folder)
    if kind not in (RUN, OUTPUT):
        raise ValueError(f"kind must be {RUN!r} or {OUTPUT!r}, not {kind!r}")
    try:
        mode = os.lstat(folder / name).st_mode
    except OSError:
        mode = 0
    if not stat.S_ISREG(mode):
        reason = why_unwritable(folder)
        raise TwostepError(f"cannot list {shown(folder / name)} as the tool's: "
                           f"{reason or 'not a whole file on disk'}")
    path = folder / MANIFEST
    descriptor = _open_list(folder)
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        text = _read_all(descriptor, path)
        if _parse(text).get(name) == kind and text.startswith(HEADER + "\n"):
            return
        new = not text
        if text and not text.startswith(HEADER + "\n"):  # the earlier format: convert once
            entries = _parse(text)
            os.ftruncate(descriptor, 0)
            _write_all(descriptor, HEADER + "\n" + "".join(_entry(k, n) for n, k in entries.items()))
        elif new:
            _write_all(descriptor, HEADER + "\n")
        elif not text.endswith("\n"):  # a line a crash left unfinished: end it, it is skipped
            _write_all(descriptor, "\n")
        _write_all(descriptor, _entry(kind, name))
        os.fsync(descriptor)
    except OSError as err:
        reason = why_unwritable(folder)
        raise TwostepError(f"cannot write {shown(path)}: {reason}" if reason else
                           explain(err, path)) from None
    finally:
        if fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)
    if new:
        _fsync_folder(folder)


# ------------------------------------------------------------------ rule 4: only the list vouches
def owned(path: str | Path) -> bool:
    """Whether ``path`` is absent or a regular file on its folder's list (so the tool may
    replace it). Nothing else vouches: not a name that a run folder usually holds, not a
    checkpoint beside it; a symbolic link, a folder or a FIFO is never the tool's."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return True
    except NotADirectoryError:
        return True  # a part of the path is a file: the write itself will say so
    if not stat.S_ISREG(mode):
        return False
    return path.name in listed(path.parent)


def check_replaceable(path: str | Path, option: str = "--out") -> Path:
    """``path``, after checking the tool may write it: absent, or a file the tool wrote."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise TwostepError(f"{shown(path)} is a folder; choose another {option}")
    if not owned(path):
        raise TwostepError(f"{shown(path)} exists and was not written by twostep; move it away "
                           f"or choose another {option}")
    return path


# ------------------------------------------------------------------ rule 1: a run's files
def _real(folder: Path) -> Path:
    return Path(os.path.realpath(folder))


def enclosing_run(folder: str | Path) -> Path | None:
    """The run folder that ``folder`` is or lies in, at any depth (a run's ``snapshots/``,
    the ``shards/`` a run trains its seeds in), as ``folder`` names it where it can; None if
    none. A run folder: its list names a run's own files, or it holds a run folder's lock."""
    named = Path(folder)
    real = _real(named)
    if RUN in listed(real).values():  # a list that is no list: refused, saying so
        return named
    if real.name == "snapshots" and RUN in listed(real.parent).values():
        return named.parent
    for above in (real, *real.parents):
        if os.path.lexists(above / LOCK_FILE):
            names = [name for name in (named, *named.parents) if _real(name) == above]
            return names[0] if names else above
    return None


def run_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is a run folder or lies anywhere inside one
    (:func:`enclosing_run`)."""
    return enclosing_run(folder) is not None


def check_not_in_run_folder(path: str | Path, option: str = "--out") -> Path:
    """``path``, after checking it is no run's own file: not in a run folder or its
    snapshots (a checkpoint, a config, metrics, a cached evaluation), and not the tool's
    bookkeeping (the list, a lock) anywhere. Rule 1 of the policy."""
    path = Path(path)
    run = enclosing_run(path.parent)
    if run is not None:
        raise TwostepError(f"{option} {shown(path)} is inside the run folder {shown(run)}, "
                           "which holds the run's own files; choose a path outside it")
    if path.name in BOOKKEEPING:
        raise TwostepError(f"{option} {shown(path)}: {path.name} is the tool's own bookkeeping; "
                           "choose another name")
    return path


def check_folder_not_in_run(folder: str | Path, option: str = "--out", itself: bool = True
                            ) -> Path:
    """A folder a command writes into (``reproduce --out``): not inside a run folder, and
    (``itself``) not a run folder itself (``train --out`` continues its own run)."""
    folder = Path(folder)
    for candidate in (folder, folder.parent)[0 if itself else 1:]:
        run = enclosing_run(candidate)
        if run is not None:
            raise TwostepError(f"{option} {shown(folder)} is inside the run folder "
                               f"{shown(run)}, which holds the run's own files; choose "
                               "a folder outside it")
    return folder


# ------------------------------------------------------------------ rule 5: the writers
def claim(folder: str | Path, names: Iterable[str], option: str = "--out") -> None:
    """Check, before any work, that ``names`` may be written in ``folder`` as outputs
    (rules 1 and 4); nothing is listed until each file is whole (:func:`write_owned`)."""
    for name in names:
        path = check_not_in_run_folder(Path(folder) / name, option)
        check_replaceable(path, option)


def write_owned(path: str | Path, write: Callable[[Path], object],
                option: str = "--out") -> None:
    """Write an output (``--out``, a figure, a table): not in a run folder (rule 1), not
    over a file the tool did not write (rule 4), atomically, then listed (rule 2)."""
    path = Path(path)
    check_not_in_run_folder(path, option)
    check_replaceable(path, option)
    atomic_write(path, write)
    record(path.parent, path.name, OUTPUT)


def check_run_files(folder: str | Path, names: Iterable[str]) -> None:
    """Check, before training, that the run's own ``names`` may be written in ``folder``."""
    for name in names:
        check_replaceable(Path(folder) / name, "--out")


def write_run_file(folder: str | Path, name: str, write: Callable[[Path], object]) -> None:
    """Write one of a run's own files (training's, or its evaluation's table): not over a
    file the tool did not write (rule 4), atomically, then listed as the run's (rule 2)."""
    folder = Path(folder)
    if not owned(folder / name) and not os.path.lexists(folder / MANIFEST):
        reason = why_unwritable(folder) or (
            f"{shown(folder / MANIFEST)}, the list of the tool's files, is gone (was the folder "
            "deleted while the command ran?)")
        raise TwostepError(f"cannot write {shown(folder / name)}: {reason}")
    check_replaceable(folder / name, "--out")
    atomic_write(folder / name, write)
    record(folder, name, RUN)


def remove_run_folder(folder: str | Path) -> list[Path]:
    """Remove a run folder the tool made for its own use (the ``shards/`` of a run, once
    merged): every file its lists name as a run's own, its lists, its lock files and the
    temporary files of dead writers, folder by folder, and each folder left empty. Nothing
    else is removed and no link is followed: what is left (a user's file) is returned."""
    from twostep.files.write import remove_stale_temporaries

    folder = Path(folder)
    left: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return left
    except OSError as err:
        raise TwostepError(explain(err, folder)) from None
    remove_stale_temporaries(folder)
    theirs = {name for name, kind in listed(folder).items() if kind == RUN}
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            left += remove_run_folder(entry.path)
        elif entry.name not in theirs and entry.name not in BOOKKEEPING:
            if os.path.lexists(entry.path):  # not a temporary file removed above
                left.append(Path(entry.path))
        elif entry.is_file(follow_symlinks=False) and entry.name != MANIFEST:
            os.unlink(entry.path)
    if not left:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / MANIFEST)
        os.rmdir(folder)
    return left
