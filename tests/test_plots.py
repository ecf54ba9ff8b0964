"""Figures return matplotlib Figures with the marks the book refers to."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from twostep.analysis.plots import (  # noqa: E402
    lagged_weights,
    learning_curves,
    regression_coefficients,
    stay_bars,
)
from twostep.analysis.published import WANG2018_STAY  # noqa: E402
from twostep.analysis.stats import (  # noqa: E402
    CONDITIONS,
    daw_regression,
    lagged_regression,
    stay_probabilities,
)
from twostep.core.agents import simulate  # noqa: E402
from twostep.core.config import TaskConfig  # noqa: E402
from twostep.errors import TwostepError  # noqa: E402


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulate("model-based", TaskConfig(), episodes=60, seeds=3)


def bars(ax) -> list[Rectangle]:
    return [patch for container in ax.containers for patch in container
            if isinstance(patch, Rectangle)]


def test_stay_bars_draws_four_bars_seed_dots_and_published_markers(table):
    per_seed = stay_probabilities(table)
    figure = stay_bars(per_seed, published=WANG2018_STAY)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    heights = [bar.get_height() for bar in bars(ax)]
    assert len(heights) == 4
    expected = per_seed.groupby("condition", observed=True)["stay_probability"].mean()
    np.testing.assert_allclose(heights, expected.reindex(CONDITIONS).to_numpy())
    published = [line for line in ax.lines if line.get_label() == "published"]
    assert len(published) == 1
    np.testing.assert_allclose(published[0].get_ydata(), [WANG2018_STAY[c] for c in CONDITIONS])
    differences = [text.get_text() for text in ax.texts]
    assert len(differences) == 4 and all(d[0] in "+-" for d in differences)
    assert ax.get_ylim() == (0, 1.05)
    seed_dots = sum(len(collection.get_offsets()) for collection in ax.collections
                    if isinstance(collection, PathCollection))
    assert seed_dots == 4 * 3


def test_stay_bars_without_published_values_draws_no_markers(table):
    figure = stay_bars(stay_probabilities(table))
    ax = figure.axes[0]
    assert not [line for line in ax.lines if line.get_label() == "published"]
    assert not ax.texts


def test_stay_bars_draws_into_a_given_axes(table):
    figure = Figure()
    ax = figure.add_subplot()
    assert stay_bars(stay_probabilities(table), ax=ax) is figure


def test_learning_curves_overlays_one_line_per_run_with_its_label():
    rows = [{"update": u, "seed": s, "episodes": 64 * (u + 1), "reward": 50 + u / 10 + s}
            for u in range(30) for s in range(3)]
    metrics = pd.DataFrame(rows)
    figure = learning_curves({"lstm": metrics, "eplstm": metrics.assign(reward=metrics.reward - 1)},
                             smooth=3, references={"chance": 50})
    ax = figure.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert "lstm" in labels and "eplstm" in labels
    curve = next(line for line in ax.lines if line.get_label() == "lstm")
    assert curve.get_xdata()[-1] == 64 * 30


def test_regression_coefficients_draws_one_bar_per_term_and_table(table):
    fits = daw_regression(table)
    figure = regression_coefficients({"raw": fits, "again": fits}, drop=["intercept"])
    assert len(bars(figure.axes[0])) == 2 * 3


def test_lagged_weights_draws_one_line_per_trial_type(table):
    figure = lagged_weights(lagged_regression(table, lags=3))
    ax = figure.axes[0]
    assert len(ax.containers) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RC", "RU", "UC", "UU"]


def test_plots_reject_tables_without_the_needed_columns():
    with pytest.raises(TwostepError, match="missing column"):
        stay_bars(pd.DataFrame({"seed": [0]}))
    with pytest.raises(TwostepError, match="missing column"):
        learning_curves(pd.DataFrame({"update": [0]}))


def test_every_default_figure_fits_the_book_s_text_column(table):
    from twostep.analysis.plots import TEXT_WIDTH

    fits = daw_regression(table)
    figures = [stay_bars(stay_probabilities(table), published=WANG2018_STAY),
               regression_coefficients({"raw": fits, "again": fits}, drop=["intercept"]),
               lagged_weights(lagged_regression(table, lags=3))]
    for figure in figures:
        assert figure.get_size_inches()[0] <= TEXT_WIDTH


def test_a_book_figure_wider_than_the_text_column_is_refused():
    from twostep.analysis.plots import TEXT_WIDTH, figure

    assert figure(3.0).get_size_inches()[0] == TEXT_WIDTH
    with pytest.raises(TwostepError, match="wider than the text column"):
        figure(3.0, width=TEXT_WIDTH + 1)


def test_blue_and_orange_mean_common_and_uncommon_only():
    from twostep.analysis.plots import PALETTE

    transition = {PALETTE["common"], PALETTE["uncommon"], PALETTE["unrewarded_common"],
                  PALETTE["unrewarded_uncommon"]}
    others = {*PALETTE["state"], *PALETTE["runs"], PALETTE["highlight"]}
    assert not transition & others


def test_panels_can_share_one_legend(table):
    from twostep.analysis.plots import figure, shared_legend, stay_legend_handles

    shown = figure(3.0)
    for ax in shown.subplots(1, 2):
        stay_bars(stay_probabilities(table), published=WANG2018_STAY, ax=ax, legend=False)
        assert ax.get_legend() is None
    shared_legend(shown, stay_legend_handles("Wang 2018"))
    assert len(shown.legends) == 1
    assert [t.get_text() for t in shown.legends[0].get_texts()][-1] == "Wang 2018"
