"""The "cite and extend" page (book/cite_and_extend.md) says what is true.

Its Python snippets run top to bottom as one script, as a reader would paste them, so an
API change that breaks them fails here; its BibTeX entry names the repository and version
the package declares.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

import twostep

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "cite_and_extend.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(PAGE.read_text()) if lang == language]


def test_the_python_snippets_run_in_order_and_their_checks_hold(capsys):
    snippets = _blocks("python")
    assert len(snippets) >= 5  # the task, playing it, its test, an agent, an analysis, a config
    namespace: dict = {"__name__": "cite_and_extend"}
    for number, snippet in enumerate(snippets, 1):
        exec(compile(snippet, f"{PAGE.name}, python snippet {number}", "exec"), namespace)
    assert "DriftingRewardTask" in namespace and "WinStayLoseShift" in namespace
    assert "rewarded_common" in capsys.readouterr().out


def test_the_citation_names_the_repository_and_the_version_of_the_package():
    (entry,) = _blocks("bibtex")
    url = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())["repository"]["url"]
    assert f"url     = {{{url}}}" in entry
    assert f"version = {{{twostep.__version__}}}" in entry


def test_the_registration_diff_matches_make_task():
    (diff,) = _blocks("diff")
    source = (ROOT / "twostep" / "core" / "tasks" / "__init__.py").read_text()
    for line in diff.splitlines():
        if line.startswith(" ") and line.strip() and not line.lstrip().startswith("def "):
            assert line[1:].strip() in source, f"make_task no longer reads: {line[1:].strip()}"
