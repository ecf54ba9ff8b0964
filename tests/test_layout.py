"""The package's map (twostep/__init__.py) names every module, and every layer says what it is."""

import importlib
from pathlib import Path

import pytest

import twostep

PACKAGE = Path(twostep.__file__).parent
MODULES = sorted(p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=str)
def test_the_package_map_names_every_module(path):
    name = path.parent.name if path.name == "__init__.py" else path.stem
    if path == Path("__init__.py"):
        return
    marker = f"``{name}/``" if path.name == "__init__.py" and path.parent.parent == Path() \
        else f"``{name}``"
    assert marker in twostep.__doc__, f"twostep/__init__.py does not map {path}"


@pytest.mark.parametrize("layer", ["files", "trials", "core", "analysis", "runs", "interfaces"])
def test_every_layer_says_what_it_is(layer):
    doc = importlib.import_module(f"twostep.{layer}").__doc__ or ""
    assert len(doc.split()) > 20, f"twostep/{layer}/__init__.py should say what the layer is"
