"""Serve MathJax and the Jupyter widget JavaScript from the built site itself.

The book's pages need three pieces of third-party JavaScript: MathJax (to typeset the math),
RequireJS with the Jupyter widget manager (to show the widgets whose state the build saved in
the page) and anywidget's front end (the game in chapter 1 and the views in chapter 4 are
anywidgets: their own JavaScript travels in the widget state). ``book/package.json`` pins them;
``npm ci --prefix book`` puts them in ``book/node_modules``.

When ``book/node_modules`` holds them, this extension copies the files the pages use into
``_static/vendor/`` of the built site and points MathJax and the widget scripts there, so the
book works with no internet. When it does not (nobody ran npm), the pages load the same
versions from public CDNs instead, and the build says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
HERE = Path(__file__).resolve().parent / "offline_static"
VENDOR = "vendor"  # under _static/

# destination under _static/vendor/  <-  source under node_modules/ (a file or a folder)
FILES = {
    "requirejs/require.js": "requirejs/require.js",
    "html-manager": "@jupyter-widgets/html-manager/dist",
    "anywidget/index.js": "anywidget/dist/index.js",
    "mathjax/tex-mml-chtml.js": "mathjax/es5/tex-mml-chtml.js",
    "mathjax/input/tex/extensions": "mathjax/es5/input/tex/extensions",
    "mathjax/input/mml/extensions": "mathjax/es5/input/mml/extensions",
    "mathjax/output/chtml/fonts/woff-v2": "mathjax/es5/output/chtml/fonts/woff-v2",
    "mathjax/a11y": "mathjax/es5/a11y",
    "mathjax/ui": "mathjax/es5/ui",
}
# from the widget manager's dist/ folder: the AMD bundle and the icon fonts it refers to
WIDGET_MANAGER_FILES = ("embed-amd.js", "*.woff", "*.woff2", "*.ttf", "*.eot", "*.svg")

CDN_MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"
CDN_WIDGETS = {
    "https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js": {},
    "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js": {
        "data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/",
    },
}
LOCAL_MATHJAX = f"{VENDOR}/mathjax/tex-mml-chtml.js"
LOCAL_WIDGETS = {
    f"{VENDOR}/requirejs/require.js": {},
    f"{VENDOR}/widgets-offline.js": {},
    f"{VENDOR}/html-manager/embed-amd.js": {},
}


def local_assets_present(node_modules: Path | None = None) -> bool:
    """Whether ``npm ci --prefix book`` left every file the pages need (in ``node_modules``,
    by default ``book/node_modules``)."""
    folder = NODE_MODULES if node_modules is None else node_modules
    return all((folder / source).exists() for source in FILES.values())


def choose_sources(app: Sphinx, config: Config) -> None:
    """Point MathJax and the widget scripts at the site's own copies, or at CDNs."""
    if local_assets_present():
        config.mathjax_path = LOCAL_MATHJAX
        config.nb_ipywidgets_js = dict(LOCAL_WIDGETS)
        logger.info("offline_assets: MathJax and widget JavaScript served from _static/vendor/")
    else:
        config.mathjax_path = CDN_MATHJAX
        config.nb_ipywidgets_js = dict(CDN_WIDGETS)
        logger.info("offline_assets: book/node_modules missing (run  npm ci --prefix book); "
                    "MathJax and widget JavaScript load from CDNs")


def copy_assets(app: Sphinx, exception: Exception | None) -> None:
    """Copy the files into the built site's ``_static/vendor/``."""
    if exception is not None or app.builder.format != "html" or not local_assets_present():
        return
    vendor = Path(app.outdir) / "_static" / VENDOR
    for destination, source in FILES.items():
        source_path, target = NODE_MODULES / source, vendor / destination
        if source == "@jupyter-widgets/html-manager/dist":
            target.mkdir(parents=True, exist_ok=True)
            for pattern in WIDGET_MANAGER_FILES:
                for file in source_path.glob(pattern):
                    shutil.copy2(file, target / file.name)
        elif source_path.is_dir():
            shutil.copytree(source_path, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source_path, target)
    shutil.copy2(HERE / "widgets-offline.js", vendor / "widgets-offline.js")


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                          doctree) -> None:
    """List each script once per page.

    Some extensions register their inline configuration scripts twice (sphinx-thebe's
    ``const THEBE_JS_URL = ...``); a ``const`` declared twice is a JavaScript error on every
    page. Scripts are the same when their source, body and attributes are (priority aside).
    Runs early: Sphinx stops calling this event's handlers at the first that returns a value.
    """
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (str(getattr(script, "filename", script) or ""),  # None and "": inline
               tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"][:] = kept


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", choose_sources)
    app.connect("html-page-context", drop_repeated_scripts, priority=100)
    app.connect("build-finished", copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
