"""The book's text states only what its runs show, in sound source text.

* Every decimal number in the prose of a chapter or page comes from a cell: it is glued
  (myst-nb ``{glue:text}`` roles, filled in from the values the chapter computed when the
  book was built) or written by a cell as Markdown. A typed number goes stale the first time
  a run changes. The few that may be typed are parameters of the task or the protocol, not
  results: :data:`ALLOWED` lists each with its reason.
* No control character hides in a cell's source: a ``\\tau`` or ``\\rVert`` written through
  a Python string becomes a tab or a carriage return, and the page then shows "au" or
  "Vert" instead of the symbol.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))

DECIMAL = re.compile(r"(?<![\w.])([-+\u2212]?)(\d*\.\d+)(?![\w.]*\d)")
"""A decimal number (0.84, .84, 70.7, +0.05), not part of a word, a version or a file name;
its sign, if any, as its own group."""

GLUED = re.compile(r"\{glue(?::[a-z]+)?\}`[^`]*`")
"""A glue role: what it shows comes from a cell."""

FENCED = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
"""A fenced code block: code the reader may run, not prose (the cite-and-extend page's
examples; a shell command with its options)."""

LABELS = re.compile(r"\b(?:Exercise|exercise|Section|section) \d+\.\d+")
"""Numbering, not numbers: "Exercise 2.1"."""

ALLOWED: dict[str, str] = {
    # the tasks' designs: parameters the papers chose, not results
    "0.8": "Wang 2018's common-transition probability",
    "0.2": "Wang 2018's uncommon-transition probability",
    "0.9": "reward probability in the good state; Ritter's common transition; the discount γ",
    "0.1": "reward probability in the other state; Ritter's reversal probability",
    "0.025": "Wang 2018's reversal probability",
    "0.7": "Daw 2011's common-transition probability",
    "0.3": "Daw 2011's uncommon-transition probability",
    # the protocol and the reading of figures
    "0.5": "a coin flip: chance, σ(0), the reference agents' learning rate α",
    "0.05": "the A2C value and entropy weights; the 'within 0.05' tolerance of the tables",
    "0.10": "the 'within 0.10' tolerance of the tables",
    "0.15": "the 'within 0.15' tolerance of the tables",
    "1.0": "the gradient-norm clip",
    "0.03": "how well a bar can be read off a published figure by eye (±0.03)",
}
"""Decimals that may be typed, each a parameter of a task or of the protocol, with its reason.
Anything measured (a stay probability, a reward, a difference, a spread) is glued."""


def unbound_numbers(markdown: str) -> list[str]:
    """The decimal numbers of ``markdown`` that are neither glued nor allowed."""
    text = LABELS.sub(" ", GLUED.sub(" ", FENCED.sub(" ", markdown)))
    # a signed number (+0.05, -0.02) is a difference, a result: never a listed parameter
    return [sign + number for sign, number in DECIMAL.findall(text)
            if sign or number not in ALLOWED]


def _markdown_cells(path: Path) -> list[str]:
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


def _all_cells(path: Path) -> list[str]:
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    return ["".join(cell["source"])
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=[p.name for p in NOTEBOOKS + PAGES])
def test_every_decimal_number_in_the_prose_is_glued_or_a_listed_parameter(path):
    found = {}
    for index, markdown in enumerate(_markdown_cells(path)):
        numbers = unbound_numbers(markdown)
        if numbers:
            found[index] = numbers
    assert not found, (f"{path.name}: typed numbers in Markdown cells {found} (cell index: "
                       "numbers); glue each from the cell that computes it (book.glue), or, "
                       "for a parameter of the task or protocol, add it to ALLOWED with a reason")


def test_the_check_catches_typed_results_and_passes_glued_ones():
    # chapter 6 (episodic vs incremental) once said this, from an older run than its table's
    typed = "ours stay about 0.98 / 0.10 / 0.02 / 0.99 (the table gives this build's numbers)"
    assert unbound_numbers(typed) == ["0.98", "0.02", "0.99"]  # 0.10 is a listed tolerance
    glued = "ours stay {glue:text}`rc:.2f` / {glue:text}`ru:.2f`, with transitions of 0.8"
    assert unbound_numbers(glued) == []
    assert unbound_numbers("RU ranges from about .02 to 0.32; 70.7 rewards") == [
        ".02", "0.32", "70.7"]
    assert unbound_numbers("version 1.0.4, file 08_robustness.ipynb, Fig. 5b, Exercise 2.1") == []
    # code in a fenced block is not prose; a typed result right after it still is
    code = "```python\nstep = 0.025 * torch.rand(3)\n```\nthe agents stay with 0.42"
    assert unbound_numbers(code) == ["0.42"]


ISSUE_EXAMPLES = [
    # the typed numbers a review found contradicting the tables on their own pages
    "ours stay about 0.98 / 0.10 / 0.02 / 0.99 … differences +0.14, −0.20, −0.33, +0.27",
    "lesion on cued trials about 0.80 / 0.65 / 0.54 / 0.82",
    "without memory on cued trials 0.98 / 0.47 / 0.35 / 0.97",
    "RU ranges from about 0.02 to 0.32",
    "cutting the gradient … moves RU and UC by about +0.13 and +0.14",
    "bars move by +0.01, +0.03, +0.06 and −0.02",
    "UC from 0.34 at 4,000 episodes",
    "τ = 0.5 about 0.75 / 0.46 / 0.46 / 0.71",
    "the interaction grows by about +0.05",
]


@pytest.mark.parametrize("typed", ISSUE_EXAMPLES)
def test_the_check_catches_every_typed_number_the_review_found(typed):
    assert unbound_numbers(typed), typed


def test_a_signed_number_is_a_result_even_when_its_digits_are_listed():
    assert unbound_numbers("about +0.05") == ["+0.05"]
    assert unbound_numbers("a difference of \u22120.10") == ["\u22120.10"]
    assert unbound_numbers("within 0.05, read to ±0.03") == []


def test_every_allowed_number_says_why():
    assert all(reason.strip() for reason in ALLOWED.values())
    assert len(ALLOWED) <= 15, "the allow-list is for parameters, not results: keep it short"


CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
"""Control characters other than a newline (a tab, a carriage return, a backspace...)."""


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=[p.name for p in NOTEBOOKS + PAGES])
def test_no_cell_hides_a_control_character(path):
    found = {index: sorted({f"U+{ord(c):04X}" for c in CONTROL.findall(text)})
             for index, text in enumerate(_all_cells(path)) if CONTROL.search(text)}
    assert not found, (f"{path.name}: control characters in cells {found}: a LaTeX command "
                       "such as \\tau or \\rVert written through a Python string?")


def test_the_control_character_check_catches_a_mangled_formula():
    assert CONTROL.search("$\\lVert q - k_i \rVert^2$")      # \r: a carriage return
    assert CONTROL.search("$\tau = 0.25$")                    # \t: a tab
    assert not CONTROL.search("$\\lVert q - k_i \\rVert^2$\n$\\tau$")
