"""Bounded reads: a file someone hands us is checked before it is read, and read in bounds.

* Only a regular file is opened as one (:func:`open_regular`): a folder, a FIFO (which would
  block the reader forever), a character device (``/dev/zero`` never ends) or a socket is
  refused at once, whatever its size claims.
* Text is read up to a limit, whatever ``st_size`` says (:func:`read_text`).
* Tables are read through a stream that stops at a line or a total size over the limits,
  counted after decompression (:func:`open_lines`), so a small ``.gz`` cannot unpack into
  one 10 GB line.

Each check raises :class:`TwostepError` with one line naming the file.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from twostep.errors import TwostepError
from twostep.files.failures import explain, shown


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a file"


def open_regular(path: str | Path, kind: str, follow_links: bool = True) -> BinaryIO:
    """``path`` opened for reading in binary, if it is a regular file.

    Opened without blocking (a FIFO would block an ordinary ``open`` until a writer comes)
    and checked on the open descriptor, so what is checked is what is read. A missing file
    raises :class:`FileNotFoundError` (the caller knows how to say it); anything else that
    is wrong, one :class:`TwostepError` naming ``kind`` (``"config file"``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | \
        getattr(os, "O_BINARY", 0) | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0))
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as err:
        if not follow_links and os.path.islink(path):
            raise TwostepError(f"{shown(path)} is a symbolic link, not a regular file; "
                               f"expected a {kind}") from None
        raise TwostepError(f"cannot read {explain(err, path)}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        what = _what(mode)
        if what == "a folder":
            raise TwostepError(f"{shown(path)} is a folder, not a {kind}")
        raise TwostepError(f"{shown(path)} is {what}, not a regular file; expected a {kind}")
    if hasattr(os, "set_blocking"):
        os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def read_bytes(path: str | Path, max_bytes: int, kind: str, follow_links: bool = True) -> bytes:
    """At most ``max_bytes`` of a regular file, read as such whatever its size claims;
    :class:`TwostepError` if it holds more."""
    try:
        with open_regular(path, kind, follow_links) as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError as err:
        raise TwostepError(f"cannot read {explain(err, path)}") from None
    except OSError as err:
        raise TwostepError(f"cannot read {explain(err, path)}") from None
    if len(data) > max_bytes:
        raise TwostepError(f"{shown(path)}: more than {max_bytes:,} bytes is too large for a "
                           f"{kind}")
    return data


def read_text(path: str | Path, max_bytes: int, kind: str) -> str:
    """The file's UTF-8 text, or a one-line error (not a regular file, unreadable, larger
    than ``max_bytes``, not UTF-8); ``kind`` names what the file should be (``"config file"``)."""
    data = read_bytes(path, max_bytes, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TwostepError(f"{shown(path)}: not UTF-8 text (byte 0x{data[err.start]:02x} at "
                           f"offset {err.start}); save it as UTF-8") from None


def available_memory() -> int:
    """Memory this process can still allocate, by the system's estimate (``MemAvailable``),
    in bytes; a very large number where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2**40  # unknown: do not refuse


# ------------------------------------------------------------------ tables
COMPRESSIONS = {".gz": "gzip", ".tgz": "tar", ".bz2": "bz2", ".xz": "xz", ".lzma": "xz",
                ".zip": "zip", ".zst": "zstd", ".tar": "tar"}
"""The suffixes pandas reads as compressed, and what they are."""


def compression_of(path: str | Path) -> str | None:
    """The compression pandas would infer from ``path``'s suffix (None: plain text)."""
    name = os.fspath(path).lower()
    if any(name.endswith(f".tar{s}") for s in ("", ".gz", ".bz2", ".xz")):
        return "tar"
    return COMPRESSIONS.get(Path(name).suffix)


def _decompressed(raw: BinaryIO, path: Path, compression: str | None, kind: str) -> BinaryIO:
    if compression is None:
        return raw
    if compression == "gzip":
        import gzip
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bz2":
        import bz2
        return bz2.BZ2File(raw, mode="rb")
    if compression == "xz":
        import lzma
        return lzma.LZMAFile(raw, mode="rb")
    if compression == "zip":
        import zipfile
        try:
            archive = zipfile.ZipFile(raw)
            members = [i for i in archive.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise TwostepError(f"{shown(path)}: not a readable zip archive ({err})") from None
        if len(members) != 1:
            raise TwostepError(f"{shown(path)}: a zip archive holding {len(members)} files; "
                               f"a {kind} must be its only file")
        return archive.open(members[0])
    if compression == "zstd":
        try:
            import zstandard
        except ImportError:
            raise TwostepError(f"{shown(path)}: reading .zst files needs the zstandard package "
                               "(pip install zstandard), or decompress it first") from None
        return zstandard.ZstdDecompressor().stream_reader(raw)
    raise TwostepError(f"{shown(path)}: a {compression} archive; unpack it first and give "
                       f"the {kind} itself")


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count:,} bytes"


class _Bounded(io.RawIOBase):
    """A binary stream that stops with :class:`TwostepError` at a line longer than
    ``max_line`` bytes or after more than ``max_total`` bytes in all (counted as read, that
    is after decompression); decompression errors are one line too."""

    def __init__(self, source: BinaryIO, path: Path, max_line: int, max_total: int, kind: str):
        self._source, self._path, self._kind = source, path, kind
        self._max_line, self._max_total = max_line, max_total
        self._total = 0
        self._lines = 0  # complete lines so far
        self._run = 0  # bytes since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._source.read(len(buffer))
        except TwostepError:
            raise
        except Exception as err:  # noqa: BLE001 (gzip, bz2, lzma, zlib, zstd: each its own)
            raise TwostepError(f"{shown(self._path)}: cannot be decompressed "
                               f"({str(err) or type(err).__name__})") from None
        count = len(data)
        self._check(data)
        buffer[:count] = data
        return count

    def _check(self, data: bytes) -> None:
        self._total += len(data)
        if self._total > self._max_total:
            raise TwostepError(f"{shown(self._path)}: more than {_size(self._max_total)} once "
                               f"decompressed is larger than a {self._kind} may be")
        parts = data.split(b"\n")
        lengths = [self._run + len(parts[0]), *map(len, parts[1:])]
        if max(lengths) > self._max_line:
            index = next(i for i, n in enumerate(lengths) if n > self._max_line)
            raise TwostepError(f"{shown(self._path)}: line {self._lines + index + 1} is longer "
                               f"than {self._max_line:,} bytes; not a {self._kind}")
        self._lines += len(parts) - 1
        self._run = lengths[-1]

    def close(self) -> None:
        try:
            self._source.close()
        finally:
            super().close()


def open_lines(path: str | Path, kind: str, max_line_bytes: int, max_bytes: int) -> BinaryIO:
    """A regular file as a binary stream of its (decompressed) bytes, bounded: a line over
    ``max_line_bytes`` or more than ``max_bytes`` in all stops the reader with one line.

    Compressed files are recognised by their suffix, as pandas does (``.gz``, ``.bz2``,
    ``.xz``, ``.zip`` holding one file, ``.zst`` with the zstandard package), and the limits
    apply to what they unpack to. A missing file raises :class:`FileNotFoundError`.
    """
    path = Path(path)
    raw = open_regular(path, kind)
    try:
        size = os.fstat(raw.fileno()).st_size
        if size > max_bytes:
            raise TwostepError(f"{shown(path)}: {_size(size)} is larger than a {kind} may be "
                               f"({_size(max_bytes)})")
        source = _decompressed(raw, path, compression_of(path), kind)
    except BaseException:
        raw.close()
        raise
    return io.BufferedReader(_Bounded(source, path, max_line_bytes, max_bytes, kind),
                             buffer_size=2**16)


def check_line_lengths(path: Path, max_line_bytes: int, kind: str) -> None:
    """Every line of ``path`` (decompressed, if its suffix says so) at most
    ``max_line_bytes`` long; reads the file once in bounded pieces."""
    with open_lines(path, kind, max_line_bytes, 2**62) as stream:
        while stream.read(2**16):
            pass
