"""Files the tool writes: whole or not at all, never over a file it did not write.

Three promises, each kept by one function here:

* **Atomic writes** (:func:`atomic_write`): every file goes to a temporary file in
  the same folder and is renamed over the target (``os.replace``), so a reader, or
  an interrupted command, sees either the old file or the new one, never half.
* **Ownership** (:func:`claim`): each folder the tool writes into keeps a list of
  the files it wrote, ``.twostep-files``. A file that exists but is not on the list
  (a user's ``config.yaml``, say) is never replaced; the command stops and says how
  to proceed. Run folders written before the list existed are recognised by their
  checkpoint.
* **One process per run folder** (:func:`folder_lock`): a lock file beside the
  folder, ``RUN_DIR.lock``; a second process is refused (or waits, if asked to).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from twostep.errors import TwostepError

MANIFEST = ".twostep-files"
"""Per folder: the names of the files the tool wrote there, one per line."""

RUN_FILES = ("config.yaml", "checkpoint.pt", "metrics.csv")
"""What a run folder holds besides trial tables (``trials*.csv``)."""


# ------------------------------------------------------------------ atomic writes
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
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ------------------------------------------------------------------ ownership
def _manifest(folder: Path) -> set[str]:
    try:
        return set((folder / MANIFEST).read_text(encoding="utf-8").split("\n")) - {""}
    except FileNotFoundError:
        return set()
    except (OSError, UnicodeDecodeError):
        return set()


def _is_legacy_run_file(folder: Path, name: str) -> bool:
    """A run folder from before the manifest: its checkpoint vouches for the usual files."""
    usual = name in RUN_FILES or (name.startswith("trials") and name.endswith(".csv"))
    return usual and (folder / "checkpoint.pt").is_file() and (folder / "config.yaml").is_file()


def owned(path: str | Path) -> bool:
    """Whether ``path`` is absent or a file the tool wrote (so it may be replaced)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return True
    return path.name in _manifest(path.parent) or _is_legacy_run_file(path.parent, path.name)


def check_replaceable(path: str | Path, option: str = "--out") -> Path:
    """``path``, after checking the tool may write it: absent, or a file the tool wrote."""
    path = Path(path)
    if path.is_dir():
        raise TwostepError(f"{path} is a folder; choose another {option}")
    if not owned(path):
        raise TwostepError(f"{path} exists and was not written by twostep; move it away "
                           f"or choose another {option}")
    return path


def claim(folder: str | Path, names: Iterable[str], option: str = "--out") -> None:
    """Record ``names`` in ``folder`` as the tool's, after checking none is someone else's.

    Raises :class:`TwostepError` naming the first file that exists and that the tool
    did not write, and saying how to proceed.
    """
    folder = Path(folder)
    names = list(names)
    for name in names:
        check_replaceable(folder / name, option)
    known = _manifest(folder)
    if not set(names) <= known:
        lines = sorted(known | set(names))
        write_text(folder / MANIFEST, "\n".join(lines) + "\n")


def write_owned(path: str | Path, write: Callable[[Path], object],
                option: str = "--out") -> None:
    """:func:`claim` ``path``, then :func:`atomic_write` it."""
    path = Path(path)
    claim(path.parent, [path.name], option)
    atomic_write(path, write)


# ------------------------------------------------------------------ output paths
def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """A file the command may write: its folder exists (or is made) and it is not a folder."""
    path = Path(path)
    if path.is_dir():
        raise TwostepError(f"{option} {path} is a folder; give a file name, "
                           f"e.g. {path / 'trials.csv'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise TwostepError(f"{option} {path}: {path.parent} is a file, not a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):
        raise TwostepError(f"{option} {path}: cannot write in {path.parent}; choose another "
                           f"{option}")
    return path


def check_output_folder(path: str | Path, option: str = "--out") -> Path:
    """A folder the command may write into: made if needed; not a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TwostepError(f"{option} {path} is a file; give a folder")
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK):
        raise TwostepError(f"{option} {path}: cannot write in it; choose another {option}")
    return path


# ------------------------------------------------------------------ locks
_LOCKS: dict[str, object] = {}
_LOCKS_GUARD = threading.Lock()


def lock_path(run_dir: str | Path) -> Path:
    """``RUN_DIR.lock``, beside the folder (so a folder can be locked before it exists)."""
    return Path(str(run_dir).rstrip("/\\") + ".lock")


@contextlib.contextmanager
def folder_lock(run_dir: str | Path, wait: bool = False) -> Iterator[None]:
    """Hold ``RUN_DIR.lock`` while the block runs; re-entrant within one process.

    ``wait=False`` refuses at once (:class:`TwostepError`) when another process holds
    it; ``wait=True`` blocks until it is free (two notebooks asking for the same run).
    """
    from filelock import FileLock, Timeout

    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.abspath(path)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(key, FileLock(key, thread_local=False))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise TwostepError(f"{run_dir} is in use by another twostep process (lock {path}); "
                           "wait for it to finish, or choose another folder") from None
    try:
        yield
    finally:
        lock.release()
