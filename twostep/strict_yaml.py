"""Reading a config file strictly: UTF-8 text, safe YAML, no key given twice.

PyYAML's ``safe_load`` lets the last of two equal keys win silently and reads
``1e-3`` (no dot) as a string; this loader refuses the first and reads the second
as the number it looks like. Everything it raises is a one-line
:class:`TwostepError` naming the file and, where it can, the line.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from twostep.errors import TwostepError

MAX_CONFIG_BYTES = 1_000_000
"""A config is a few dozen lines; anything far larger is not one."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reads ``1e-3`` as a float."""

    yaml_implicit_resolvers = {key: list(value) for key, value in
                               yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key '{key}' appears twice (lines {seen[key] + 1} and "
                        f"{key_node.start_mark.line + 1})", key_node.start_mark)
            except TypeError:  # an unhashable key: let SafeLoader say so
                break
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def read_text(path: Path) -> str:
    """The file's text, or a one-line error (unreadable, too large, not UTF-8)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise TwostepError(f"{path}: {size:,} bytes is too large for a config file "
                               f"(at most {MAX_CONFIG_BYTES:,})")
        data = path.read_bytes()
    except OSError as err:
        raise TwostepError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TwostepError(f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at "
                           f"offset {err.start}); save it as UTF-8") from None


def parse_yaml(text: str, source: str) -> object:
    """Safe, strict YAML; :class:`TwostepError` with the line of the first problem."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise TwostepError(f"{source}: malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise TwostepError(f"{source}: YAML nested too deeply") from None
