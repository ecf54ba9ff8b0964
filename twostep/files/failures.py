"""Failures of the system, not of the input: a full disk, a folder that vanished or turned
read-only, a permission, a name too long. Each is said in one line that says what to do.

:func:`shown` writes a path as one printable line (a name may hold a newline, a control
character or bytes that are not UTF-8); :func:`explain` says an :class:`OSError`;
:func:`why_unwritable` finds the reason a write failed when the writer did not say it (torch
reports a full disk as "file write failed").
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

MIN_FREE_BYTES = 2**20
"""A write that fails with less free space than this (or than it had written) failed for
want of space."""


def shown(path: str | os.PathLike) -> str:
    """``path`` as one printable line: bytes that are not UTF-8 as ``\\xNN``, control
    characters (a newline, say) as their escapes."""
    text = os.fsencode(os.fspath(path)).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def explain(err: OSError, path: str | os.PathLike | None = None, option: str = "--out") -> str:
    """One line for an :class:`OSError` about ``path`` (else the error's own file name)."""
    where = shown(path if path is not None else err.filename) if (
        path is not None or err.filename) else "a file"
    code = err.errno
    if code in _FULL:
        return (f"cannot write {where}: the disk is full (no space left on the device); "
                f"free some space, or choose another {option}")
    if code == errno.EROFS:
        return f"cannot write {where}: the file system is read-only; choose another {option}"
    if code in (errno.EACCES, errno.EPERM):
        return f"{where}: permission denied; check its permissions, or choose another {option}"
    if code == errno.ENAMETOOLONG:
        return f"{where}: a name in it is too long (at most 255 bytes each); choose a shorter one"
    if code == errno.ELOOP:
        return f"{where}: too many levels of symbolic links (a loop?)"
    if code == errno.EIO:
        return f"{where}: input/output error (a failing disk or a removed device?)"
    return f"{where}: {err.strerror or err}; check the path and its permissions, or choose another {option}"


def why_unwritable(folder: str | os.PathLike, written: int = 0) -> str | None:
    """Why writing into ``folder`` fails, when the system says why: the folder is gone, the
    file system is read-only or the disk is full (less than :data:`MIN_FREE_BYTES`, or less
    than the ``written`` bytes of the failed write, free); None when none of these holds."""
    folder = Path(folder)
    if not folder.is_dir():
        return (f"the folder {shown(folder)} no longer exists (deleted or moved while the "
                "command ran?); nothing more was saved there")
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows), or it failed: cannot tell
        return None
    if stat.f_flag & getattr(os, "ST_RDONLY", 1):
        return f"{shown(folder)} is on a read-only file system; choose another folder"
    free = stat.f_bavail * stat.f_frsize
    if free < max(MIN_FREE_BYTES, written):
        return (f"the disk is full ({free:,} bytes free in {shown(folder)}); free some space, "
                "or choose another folder")
    return None


KNOWN_ERRNOS = {*_FULL, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.ELOOP,
                errno.EIO, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}
"""The OS errors a write reports as an expected failure (one line, exit 2)."""
