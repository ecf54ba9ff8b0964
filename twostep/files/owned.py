"""Ownership: the tool never replaces a file it did not write.

Each folder the tool writes into keeps a list of the files it wrote,
``.twostep-files`` (:data:`MANIFEST`). A file that exists but is not on the list (a
user's ``config.yaml``, say) is never replaced; the command stops and says how to
proceed. Run folders written before the list existed are recognised by their
checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from twostep.errors import TwostepError
from twostep.files.write import atomic_write, write_text

MANIFEST = ".twostep-files"
"""Per folder: the names of the files the tool wrote there, one per line."""

RUN_FILES = ("config.yaml", "checkpoint.pt", "metrics.csv")
"""What a run folder holds besides trial tables (``trials*.csv``)."""


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
    """:func:`claim` ``path``, then :func:`~twostep.files.write.atomic_write` it."""
    path = Path(path)
    claim(path.parent, [path.name], option)
    atomic_write(path, write)
