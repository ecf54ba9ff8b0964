"""Parsing YAML strictly: safe YAML, no key given twice, ``1e-3`` read as a number.

PyYAML's ``safe_load`` lets the last of two equal keys win silently and reads
``1e-3`` (no dot) as a string; this loader refuses the first and reads the second
as the number it looks like. Everything it raises is a one-line
:class:`TwostepError` naming the source and, where it can, the line.
"""

from __future__ import annotations

import re

import yaml

from twostep.errors import TwostepError


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
