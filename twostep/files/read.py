"""Bounded reads: a file someone hands us is checked for size before it is read whole.

Each check raises :class:`TwostepError` with one line naming the file, so a pathological
file (a 10 GB "config", one 10 MB line in a CSV) stops at once instead of after minutes.
"""

from __future__ import annotations

from pathlib import Path

from twostep.errors import TwostepError


def read_text(path: Path, max_bytes: int, kind: str) -> str:
    """The file's UTF-8 text, or a one-line error (unreadable, larger than ``max_bytes``,
    not UTF-8); ``kind`` names what the file should be (``"config file"``)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise TwostepError(f"{path}: {size:,} bytes is too large for a {kind} "
                               f"(at most {max_bytes:,})")
        data = path.read_bytes()
    except OSError as err:
        raise TwostepError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TwostepError(f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at "
                           f"offset {err.start}); save it as UTF-8") from None


def check_line_lengths(path: Path, max_line_bytes: int, kind: str) -> None:
    """Every line of ``path`` at most ``max_line_bytes`` long; reads the file once in
    bounded pieces. ``kind`` names what the file should be (``"trial table"``)."""
    with path.open("rb") as file:
        number = 0
        while True:
            line = file.readline(max_line_bytes + 1)
            if not line:
                return
            number += 1
            if len(line) > max_line_bytes:
                raise TwostepError(f"{path}: line {number} is longer than {max_line_bytes:,} "
                                   f"bytes; not a {kind}")
