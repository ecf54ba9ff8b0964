"""One process per run folder: a lock file beside the folder, ``RUN_DIR.lock``.

A second process is refused (or waits, if asked to); within one process the lock is
re-entrant, so a function holding it may call another that takes it too.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from twostep.errors import TwostepError

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
