"""Output paths: a command checks where it will write before it does any work."""

from __future__ import annotations

import os
from pathlib import Path

from twostep.errors import TwostepError


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
