"""Parsing YAML strictly: safe YAML, no key given twice, ``1e-3`` read as a number, and
numbers in decimal only.

PyYAML's ``safe_load`` lets the last of two equal keys win silently, reads ``1e-3`` (no
dot) as a string, and reads YAML 1.1's other number forms as numbers nobody meant: ``012``
is octal 10, ``1:40`` is sexagesimal 100, and ``0x10``, ``0b1010`` and ``1_000`` are numbers
too. This loader refuses duplicate keys, reads ``1e-3`` as the number it looks like, and
refuses every number that is not decimal, naming the field. Everything it raises is a
one-line :class:`TwostepError` naming the source and, where it can, the field and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from twostep.errors import TwostepError

_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


@dataclass(frozen=True)
class NotDecimal:
    """A number written in a form other than decimal; refused once its field is known."""

    text: str
    form: str
    line: int
    reading: object  # what YAML 1.1 would have read, for the message


def _form(text: str) -> str:
    body = text.lstrip("+-").lower()
    if ":" in body:
        return "sexagesimal (base 60)"
    if body.startswith("0x"):
        return "hexadecimal"
    if body.startswith("0b"):
        return "binary"
    if body.startswith("0o") or (body[:1] == "0" and body[1:2].isdigit()):
        return "octal"
    if "_" in body:
        return "a number with underscores"
    return "not a decimal number"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys, reads ``1e-3`` as a float and marks every
    number that is not decimal (:class:`NotDecimal`)."""

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

    def construct_yaml_int(self, node):
        text = str(self.construct_scalar(node)).strip()
        if _DECIMAL_INT.fullmatch(text):
            return int(text)
        try:  # what YAML 1.1 reads (its resolver leaves YAML 1.2's 0o12 as text)
            reading = None if "0o" in text.lower() else yaml.SafeLoader.construct_yaml_int(
                self, node)
        except ValueError:
            reading = None
        return NotDecimal(text, _form(text), node.start_mark.line + 1, reading)

    def construct_yaml_float(self, node):
        text = str(self.construct_scalar(node)).strip()
        if ":" in text or "_" in text:
            return NotDecimal(text, _form(text), node.start_mark.line + 1,
                              yaml.SafeLoader.construct_yaml_float(self, node))
        return yaml.SafeLoader.construct_yaml_float(self, node)


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))
StrictLoader.add_implicit_resolver(  # YAML 1.2's octal, which 1.1 reads as text: refused too
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?0o[0-7_]+$"), list("-+0"))


def _first_not_decimal(data: object, path: tuple = ()) -> tuple[tuple, NotDecimal] | None:
    if isinstance(data, NotDecimal):
        return path, data
    if isinstance(data, dict):
        for key, value in data.items():
            found = _first_not_decimal(key, path) or _first_not_decimal(value, (*path, key))
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = _first_not_decimal(value, (*path, index))
            if found:
                return found
    return None


def parse_yaml(text: str, source: str) -> object:
    """Safe, strict YAML; :class:`TwostepError` with the line of the first problem, and the
    field of a number that is not decimal."""
    try:
        data = yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise TwostepError(f"{source}: malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise TwostepError(f"{source}: YAML nested too deeply") from None
    try:
        found = _first_not_decimal(data)
    except RecursionError:
        raise TwostepError(f"{source}: YAML nested too deeply") from None
    if found:
        path, number = found
        field = "".join(f".{part}" if isinstance(part, str) else f"[{part}]" for part in path)
        where = f"{source}: {field.lstrip('.')}" if field else source
        reading = "" if number.reading is None else f" (YAML 1.1 would read {number.reading})"
        raise TwostepError(f"{where}: {number.text!r} is {number.form}{reading}, not a decimal "
                           f"number (line {number.line}); write numbers in decimal, or quote "
                           "text")
    return data
