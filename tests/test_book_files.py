"""The book's files are consistent: fast checks that execute nothing.

They protect what a full ``jupyter-book build`` would otherwise find late (or not at all):
a chapter missing from the table of contents, a notebook committed with stale outputs,
a Colab page that cannot install the package, a citation key with no bibliography entry.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"  # the book's source folder: toc entries and config paths are relative to it
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")
BIB_ENTRY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.MULTILINE)


def _config() -> dict:
    return yaml.safe_load((BOOK / "_config.yml").read_text())


def _toc_entries() -> list[str]:
    """Every ``root`` and ``file`` in _toc.yml, in order, as written (no suffix)."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(items: list[dict]) -> None:
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections", []))
            walk(item.get("chapters", []))

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return entries


def _source_of(entry: str) -> Path | None:
    """The file a toc entry names: the entry itself, or with .ipynb or .md appended."""
    for candidate in (BOOK / entry, BOOK / f"{entry}.ipynb", BOOK / f"{entry}.md"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text())


def _code_cells(path: Path) -> list[dict]:
    return [cell for cell in _notebook(path)["cells"] if cell["cell_type"] == "code"]


def _text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _bibliography_keys() -> set[str]:
    keys: set[str] = set()
    for bib in _config()["bibtex_bibfiles"]:
        keys |= set(BIB_ENTRY.findall((BOOK / bib).read_text()))
    return keys


def _cited_keys(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        text = "\n".join(_text(cell) for cell in _notebook(path)["cells"])
    else:
        text = path.read_text()
    return {key.strip() for keys in CITE_ROLE.findall(text) for key in keys.split(",")
            if key.strip()}


def test_the_book_folder_is_a_complete_source_for_jupyter_book_build_book():
    """``jupyter-book build book`` reads book/_config.yml, book/_toc.yml and every chapter from
    inside book/; the top-level files the card names are the same files, not copies."""
    assert (ROOT / "_config.yml").resolve() == (BOOK / "_config.yml").resolve()
    assert (ROOT / "_toc.yml").resolve() == (BOOK / "_toc.yml").resolve()
    assert (ROOT / "_config.yml").is_symlink() and (ROOT / "_toc.yml").is_symlink()
    assert (BOOK / "notebooks").resolve() == (ROOT / "notebooks").resolve()


def test_every_toc_entry_has_a_file():
    missing = [entry for entry in _toc_entries() if _source_of(entry) is None]
    assert not missing, (
        "_toc.yml lists pages that do not exist yet (a .ipynb or .md): " + ", ".join(missing))


def test_every_notebook_is_in_the_toc():
    listed = {_source_of(entry) for entry in _toc_entries()}
    unlisted = [path.name for path in NOTEBOOKS if path not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml (they would not be built): {unlisted}"


def test_the_bibliography_files_exist():
    for bib in _config()["bibtex_bibfiles"]:
        assert (BOOK / bib).is_file(), f"_config.yml names {bib}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    dirty = [index for index, cell in enumerate(_code_cells(path))
             if cell.get("outputs") or cell.get("execution_count") is not None]
    assert not dirty, (f"{path.name}: code cells {dirty} have outputs or execution counts; "
                       f"clear them with: jupyter nbconvert --clear-output --inplace {path}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_first_cell_installs_the_package_on_colab(path):
    cells = _code_cells(path)
    assert cells, f"{path.name} has no code cell"
    first = cells[0]
    source = _text(first)
    repository = _config()["repository"]["url"]
    assert 'if "google.colab" in sys.modules:' in source, f"{path.name}: no Colab check first"
    assert f'%pip install -q "twostep @ git+{repository}"' in source, (
        f"{path.name}: the first code cell must install twostep from {repository}")
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), (
        f"{path.name}: tag the Colab install cell remove-cell, so the book does not show it")


def test_the_repository_url_is_written_once_and_agreed_on_everywhere():
    """book/_config.yml ``repository.url`` is the one source: the Colab launch links are made
    from it, the install cells above check against it, and the package metadata must agree."""
    import tomllib

    repository = _config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repository), repository
    assert _config()["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == repository, (
        f"pyproject [project.urls] Repository is {urls['Repository']}, the book says {repository}")
    elsewhere = {path.name: set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", path.read_text()))
                 - {repository} for path in [ROOT / "README.md", *NOTEBOOKS]}
    assert not any(elsewhere.values()), f"other repository URLs: {elsewhere}"


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=[p.name for p in NOTEBOOKS + PAGES])
def test_every_citation_has_a_bibliography_entry(path):
    unknown = sorted(_cited_keys(path) - _bibliography_keys())
    assert not unknown, f"{path.name} cites keys missing from the .bib file(s): {unknown}"


def test_the_citation_check_finds_citations():
    cited = set()
    for path in [*NOTEBOOKS, *PAGES]:
        cited |= _cited_keys(path)
    assert "wang2018prefrontal" in cited, "no page cites Wang et al. 2018: is CITE_ROLE broken?"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_notebook_captures_output_in_an_ipywidgets_output_widget(path):
    """nbclient imitates the ``Output`` widget (``interact`` uses one) by sending the widget's
    state back to the kernel mid-cell; under load that send can swallow the wake-up for the
    cell's reply, and the client then waits out the whole cell timeout
    (scripts/stress_notebooks.py measured 4 stalls in 18 runs). The chapters' interactive
    views are anywidgets whose logic runs in the page instead."""
    code = "\n".join(_text(cell) for cell in _code_cells(path))
    used = [name for name in ("widgets.Output(", "interact(", "interactive(", "interact_manual(")
            if name in code]
    assert not used, f"{path.name} uses {used}: draw the view with twostep.interfaces.widgets instead"


# A stalled cell must fail within minutes. Every cell gets DEFAULT_CELL_LIMIT seconds; a
# chapter that trains may allow its cells up to TRAINING_CELL_LIMIT, in its own metadata.
DEFAULT_CELL_LIMIT = 300
TRAINING_CELL_LIMIT = 600


def _nbmake_timeout() -> int:
    pyproject = (ROOT / "pyproject.toml").read_text()
    found = re.findall(r"--nbmake-timeout=(\d+)", pyproject)
    assert len(found) == 1, "pyproject.toml should set --nbmake-timeout once"
    return int(found[0])


def test_the_default_cell_limit_is_a_few_minutes_for_nbmake_and_the_book_alike():
    assert _nbmake_timeout() == _config()["execute"]["timeout"] == DEFAULT_CELL_LIMIT


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_notebook_own_cell_limit_is_the_same_for_nbmake_and_the_book(path):
    """nbmake reads ``metadata.execution.timeout``, the book ``metadata.mystnb.execution_timeout``."""
    metadata = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    nbmake = metadata.get("execution", {}).get("timeout")
    book = metadata.get("mystnb", {}).get("execution_timeout")
    assert nbmake == book, f"{path.name}: nbmake allows {nbmake} s per cell, the book {book} s"
    assert nbmake is None or DEFAULT_CELL_LIMIT < nbmake <= TRAINING_CELL_LIMIT


def test_the_publishing_workflow_is_a_valid_github_workflow():
    """GitHub's workflow schema (vendored by check-jsonschema: no network) accepts pages.yml."""
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(ROOT / ".github" / "workflows" / "pages.yml")],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_published_site_carries_its_own_javascript():
    """The workflow installs book/package-lock.json before building, as CI does."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    npm = next(i for i, run in enumerate(steps) if "npm ci --prefix book" in run)
    build = next(i for i, run in enumerate(steps) if "jupyter-book build book" in run)
    assert npm < build


def test_the_widgets_dependency_is_in_the_book_extra_and_the_widget_chapters_install_it():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("anywidget")]
    assert [d for d in project["optional-dependencies"]["book"] if d.startswith("anywidget")]
    for path in NOTEBOOKS:
        uses_widgets = "twostep.interfaces.widgets" in "".join(map(_text, _code_cells(path)))
        installs = '"anywidget' in _text(_code_cells(path)[0])
        assert uses_widgets == installs, f"{path.name}: the Colab cell and the widgets disagree"


def test_the_intro_maps_every_chapter():
    """The intro's map of the book links every notebook the table of contents lists."""
    intro = (BOOK / "intro.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((notebooks/[\w.-]+\.ipynb)\)", intro))
    listed = {entry + ".ipynb" for entry in _toc_entries() if entry.startswith("notebooks/")}
    assert listed <= linked, f"chapters missing from the intro's map: {sorted(listed - linked)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_notebook_that_draws_draws_retina_figures_in_the_book_style(path):
    """Figures are shown at the size they were drawn (retina PNGs, sized for the text column by
    the book's style, which ``book.setup()`` or ``plots.use_book_style()`` applies)."""
    code = "\n".join(_text(cell) for cell in _code_cells(path))
    if "%matplotlib inline" not in code:
        return
    assert '%config InlineBackend.figure_formats = ["retina"]' in code, path.name
    assert "book.setup(" in code or "use_book_style()" in code, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_exercise_has_a_hidden_solution_that_checks_itself(path):
    """An exercise (a ``{admonition} Exercise`` box) is followed by its solution: a code cell
    tagged ``hide-cell`` that asserts its result, so that nbmake and the book build run it and
    it cannot rot."""
    cells = _notebook(path)["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or ":::{admonition} Exercise" not in _text(cell):
            continue
        following = cells[index + 1] if index + 1 < len(cells) else {}
        assert following.get("cell_type") == "code", f"{path.name}: exercise without a solution"
        assert "hide-cell" in following.get("metadata", {}).get("tags", []), path.name
        assert "assert " in _text(following), f"{path.name}: a solution should check its result"
