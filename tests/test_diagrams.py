"""The book's diagrams are drawn from code: each draws, fits the text column, and says what
the chapters refer to."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from twostep.analysis import diagrams  # noqa: E402
from twostep.analysis.plots import TEXT_WIDTH, use_book_style  # noqa: E402

DIAGRAMS = {
    "two_step_task": lambda: diagrams.two_step_task(0.8, 0.9, 0.1, 0.025),
    "meta_rl_loop": diagrams.meta_rl_loop,
    "eplstm_and_dnd": diagrams.eplstm_and_dnd,
}


def _texts(figure: Figure) -> str:
    return " ".join(text.get_text() for ax in figure.axes for text in ax.texts)


@pytest.mark.parametrize("name", DIAGRAMS)
def test_a_diagram_draws_boxes_and_arrows_within_the_text_column(name):
    use_book_style()
    figure = DIAGRAMS[name]()
    patches = figure.axes[0].patches
    assert any(isinstance(p, FancyBboxPatch) for p in patches)
    assert any(isinstance(p, FancyArrowPatch) for p in patches)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")  # draws every text, math included
    width, _ = figure.get_size_inches()
    assert width <= TEXT_WIDTH
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_the_task_diagram_writes_the_probabilities_it_is_given():
    text = _texts(diagrams.two_step_task(0.7, 0.8, 0.2, 0.05))
    for number in ("0.7", "0.3", "0.8", "0.2", "0.05"):
        assert number in text


def test_the_loop_diagram_names_both_loops_and_the_epLSTM_diagram_both_memory_paths():
    loop = _texts(diagrams.meta_rl_loop())
    assert "inner loop" in loop and "outer loop" in loop and "A2C" in loop
    wiring = _texts(diagrams.eplstm_and_dnd())
    assert "write" in wiring and "read" in wiring and "r_t" in wiring and "DND" in wiring
