"""One process per run folder: a lock file inside the folder, ``RUN_DIR/.twostep-lock``.

The lock is on the folder itself, not on a name for it: a symbolic link to the folder, a
path through ``..``, a trailing slash, a relative or an absolute path all open the same
file, so they all meet the same lock. A second process is refused (or waits, if asked to);
within one process the lock is re-entrant, so a function holding it may call another that
takes it too. The lock file stays in the folder (removing a lock file others may be waiting
on would let two processes in); nothing is left beside the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from twostep.errors import TwostepError
from twostep.files.failures import explain, shown

try:
    import fcntl
except ImportError:  # Windows: filelock's msvcrt locks on the same file
    fcntl = None

LOCK_FILE = ".twostep-lock"
"""The lock file's name, inside each run folder."""

_HELD: dict[tuple[int, int], list] = {}  # (device, inode) of a lock file -> [handle, depth]
_GUARD = threading.Lock()


def lock_path(run_dir: str | Path) -> Path:
    """``RUN_DIR/.twostep-lock``."""
    return Path(run_dir) / LOCK_FILE


def _open_lock_file(folder: Path) -> int | None:
    """A read-only descriptor of the folder's lock file, made if needed (read-only, so the
    lock holds no file open for writing: an administrator may still remount the disk
    read-only); None where the folder is read-only to us and has none (nobody can be
    writing there through the tool)."""
    flags = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    path = folder / LOCK_FILE
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_RDONLY | flags)
            break
        except FileNotFoundError:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o644))
            except OSError as err:
                if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    return None
                raise TwostepError(explain(err, path)) from None
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise TwostepError(f"{shown(path)} is a symbolic link, not the tool's lock "
                                   "file; remove it") from None
            raise TwostepError(explain(err, path)) from None
    else:
        raise TwostepError(f"cannot open {shown(path)}")
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise TwostepError(f"{shown(path)} is not a regular file, so it cannot be the tool's "
                           "lock file; remove it")
    return descriptor


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise TwostepError(f"{shown(folder)} is a file; a run needs a folder (choose another "
                           "--out)") from None
    except NotADirectoryError:
        raise TwostepError(f"{shown(folder)}: a part of the path is a file, not a folder "
                           "(choose another --out)") from None


@contextlib.contextmanager
def folder_lock(run_dir: str | Path, wait: bool = False) -> Iterator[None]:
    """Hold the folder's lock while the block runs; the folder is made if needed.

    ``wait=False`` refuses at once (:class:`TwostepError`) when another process holds
    it; ``wait=True`` blocks until it is free (two notebooks asking for the same run).
    Re-entrant within one process, whatever path names the folder.
    """
    folder = Path(run_dir)
    _make_folder(folder)
    descriptor = _open_lock_file(folder)
    if descriptor is None:  # read-only and never locked: nobody trains here
        yield
        return
    info = os.fstat(descriptor)
    key = (info.st_dev, info.st_ino)
    with _GUARD:
        held = _HELD.get(key)
        if held is not None:
            held[1] += 1
    if held is not None:
        os.close(descriptor)
    else:
        handle = _acquire(descriptor, folder, wait)  # closes the descriptor if it fails
        with _GUARD:
            _HELD[key] = [handle, 1]
    try:
        yield
    finally:
        with _GUARD:
            entry = _HELD[key]
            entry[1] -= 1
            last = entry[1] == 0
            if last:
                del _HELD[key]
        if last:
            _release(entry[0])


def _acquire(descriptor: int, folder: Path, wait: bool):
    """Lock the folder through ``descriptor``; the lock's handle. On any failure (another
    process holds it, Ctrl-C while waiting) the descriptor is closed."""
    if fcntl is None:  # pragma: no cover (Windows)
        from filelock import FileLock, Timeout

        os.close(descriptor)
        lock = FileLock(str(folder / LOCK_FILE), thread_local=False)
        try:
            lock.acquire(timeout=-1 if wait else 0)
        except Timeout:
            raise _in_use(folder) from None
        return lock
    mode = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
    try:
        try:
            fcntl.flock(descriptor, mode)
        except OSError as err:  # NFS emulates flock by locks that need a file open for writing
            if isinstance(err, BlockingIOError) or err.errno != errno.EBADF:
                raise
            writable = os.open(folder / LOCK_FILE, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) |
                               getattr(os, "O_CLOEXEC", 0))
            os.close(descriptor)
            descriptor = writable
            fcntl.flock(descriptor, mode)
    except BlockingIOError:
        os.close(descriptor)
        raise _in_use(folder) from None
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _release(handle) -> None:
    if isinstance(handle, int):
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)
    else:  # pragma: no cover (Windows)
        handle.release()


def _in_use(folder: Path) -> TwostepError:
    return TwostepError(f"{shown(folder)} is in use by another twostep process (lock "
                        f"{shown(folder / LOCK_FILE)}); wait for it to finish, or choose "
                        "another folder")


def folder_in_use(run_dir: str | Path) -> bool:
    """Whether another process holds the folder's lock now; makes nothing (a folder that
    does not exist, or has no lock file, is not in use)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(Path(run_dir) / LOCK_FILE, flags)
    except OSError:
        return False
    try:
        info = os.fstat(descriptor)
        with _GUARD:
            if (info.st_dev, info.st_ino) in _HELD:  # this process holds it
                return False
        if fcntl is None:  # pragma: no cover (Windows)
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)
