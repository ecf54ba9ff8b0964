"""The API reference appendix: docstrings read, and cross-references resolved.

**Google-style sections.** A few docstrings have ``Args:`` and ``Returns:`` sections; they
are turned into reST fields by napoleon's reader, applied here to functions, classes and
modules only. (``sphinx.ext.napoleon`` itself also reads an attribute's docstring as
``type: description``, so "Optimiser steps: the episode budget..." would become a type
named "Optimiser steps".)

**Names where a module uses them.** The docstrings refer to objects where a reader imports
them, such as ``:class:`~twostep.core.tasks.TwoStepTask```, or by a short name that the
module imports (``:data:`CONDITIONS``` in a module that imports it from
:mod:`twostep.analysis.stats`), while ``autodoc`` documents each object once, in the module
that defines it (``twostep.core.tasks.two_step.TwoStepTask``). Sphinx then finds no target
and, with ``-n``, warns. This extension imports the referenced name and links to the
documented name that is the same object. A name that imports to an object of another library
(``:class:`Path```) is shown as text: with no intersphinx (the build is offline) it has
nowhere to link. Anything else stays unresolved and is reported as usual.
"""

from __future__ import annotations

import importlib
import inspect

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext.napoleon import Config as NapoleonConfig
from sphinx.ext.napoleon.docstring import GoogleDocstring

NAPOLEON = NapoleonConfig(napoleon_google_docstring=True, napoleon_numpy_docstring=False)
ATTRIBUTE_LIKE = ("attribute", "data", "property")


def read_google_sections(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    """``Args:``/``Returns:`` sections as reST fields, except in attributes' docstrings."""
    if what not in ATTRIBUTE_LIKE:
        lines[:] = GoogleDocstring(lines, NAPOLEON, app, what, name, obj, options).lines()


def _import(dotted: str):
    """The object at a dotted path, importing the longest module prefix; None if none."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


def _documented_as(obj, name: str, documented) -> str | None:
    """The documented full name, ending in ``name``, that is ``obj`` itself."""
    for fullname in documented:
        if (fullname == name or fullname.endswith("." + name)) and _import(fullname) is obj:
            return fullname
    return None


def resolve_where_used(app: Sphinx, env: BuildEnvironment, node: pending_xref,
                       contnode: nodes.Element) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if module and not target.startswith("twostep"):
        candidates = [f"{module}.{cls}.{target}"] if cls else []
        candidates += [f"{module}.{target}"]
    domain = env.get_domain("py")
    for candidate in candidates:
        obj = _import(candidate)
        if obj is None:
            continue
        home = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
        if isinstance(home, str) and home.split(".")[0] != "twostep":
            return contnode  # another library's object: text, not a link
        fullname = _documented_as(obj, target.rsplit(".", 1)[-1], domain.objects)
        if fullname is None:
            continue
        retarget = node.deepcopy()
        retarget["reftarget"] = fullname
        retarget["refspecific"] = False
        for reftype in (node["reftype"], "obj"):
            found = domain.resolve_xref(env, node["refdoc"], app.builder, reftype, fullname,
                                        retarget, contnode)
            if found is not None:
                return found
    return None


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", read_google_sections)
    app.connect("missing-reference", resolve_where_used)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
