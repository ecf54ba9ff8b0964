"""The book serves MathJax and the widget JavaScript from its own site when npm has run.

Fast checks of book/_ext/offline_assets.py on a stand-in ``node_modules`` folder; no build.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def load_extension():
    spec = importlib.util.spec_from_file_location("offline_assets", BOOK / "_ext" / "offline_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def extension(tmp_path, monkeypatch):
    module = load_extension()
    monkeypatch.setattr(module, "NODE_MODULES", tmp_path / "node_modules")
    return module


def fill_node_modules(module, folder: Path) -> None:
    """A stand-in for what ``npm ci --prefix book`` installs: every source, one file each."""
    for source in module.FILES.values():
        path = folder / source
        if "." in path.name:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("// stand-in\n")
        else:
            path.mkdir(parents=True, exist_ok=True)
            (path / ("embed-amd.js" if path.name == "dist" else "some-part.js")).write_text("//\n")


def configured(module) -> SimpleNamespace:
    config = SimpleNamespace(mathjax_path="unset", nb_ipywidgets_js={})
    module.choose_sources(None, config)
    return config


def test_with_npm_packages_installed_math_and_widgets_load_from_the_site(extension):
    fill_node_modules(extension, extension.NODE_MODULES)
    config = configured(extension)
    assert config.mathjax_path == "vendor/mathjax/tex-mml-chtml.js"
    assert list(config.nb_ipywidgets_js) == ["vendor/requirejs/require.js",
                                             "vendor/widgets-offline.js",
                                             "vendor/html-manager/embed-amd.js"]
    assert not any("://" in str(attributes) for attributes in config.nb_ipywidgets_js.values())


def test_without_npm_packages_math_and_widgets_load_from_cdns(extension):
    config = configured(extension)
    assert config.mathjax_path.startswith("https://cdn.jsdelivr.net/npm/mathjax@3")
    assert all(url.startswith("https://") for url in config.nb_ipywidgets_js)


def test_the_site_gets_every_file_the_pages_point_at(extension, tmp_path):
    fill_node_modules(extension, extension.NODE_MODULES)
    config = configured(extension)
    app = SimpleNamespace(outdir=tmp_path / "html", builder=SimpleNamespace(format="html"))
    extension.copy_assets(app, None)
    static = tmp_path / "html" / "_static"
    for path in [config.mathjax_path, *config.nb_ipywidgets_js]:
        assert (static / path).is_file(), path


def test_a_failed_build_copies_nothing(extension, tmp_path):
    fill_node_modules(extension, extension.NODE_MODULES)
    app = SimpleNamespace(outdir=tmp_path / "html", builder=SimpleNamespace(format="html"))
    extension.copy_assets(app, RuntimeError("build failed"))
    assert not (tmp_path / "html").exists()


def test_each_script_is_listed_once_per_page():
    from sphinx.builders.html._assets import _JavaScript

    module = load_extension()
    body = "const THEBE_JS_URL = 'x'"
    context = {"script_files": [_JavaScript(None, body=body), _JavaScript("", body=body, priority=500),
                                _JavaScript("_static/a.js"), _JavaScript("_static/a.js", defer="")]}
    module.drop_repeated_scripts(None, "page", "page.html", context, None)
    assert [(s.filename or "", s.attributes) for s in context["script_files"]] == [
        ("", {"body": body}), ("_static/a.js", {}), ("_static/a.js", {"defer": ""})]


def test_the_book_config_loads_the_extension_and_npm_versions_are_pinned():
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"]["offline_assets"] == "_ext"
    assert "mathjax_path" not in config["sphinx"]["config"]  # one place decides: the extension
    package = json.loads((BOOK / "package.json").read_text())
    lock = json.loads((BOOK / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert version[0].isdigit(), f"{name} {version}: pin an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
