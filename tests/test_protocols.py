"""The two protocols side by side: each bar's move, and where the bars settle."""

import pandas as pd
import pytest

from twostep.analysis.protocols import course, course_figure, protocol_moves, settled
from twostep.analysis.published import WANG2018_SPREAD, WANG2018_STAY
from twostep.analysis.stats import CONDITIONS


def rows(values):
    return pd.DataFrame([{"panel": "all_vs_previous", "reading": "unfitted", "condition": c,
                          "published": WANG2018_STAY[c], "published_error": WANG2018_SPREAD[c],
                          "mean": v} for c, v in zip(CONDITIONS, values, strict=True)])


def test_each_bar_moves_from_the_batched_to_the_paper_protocol_and_is_scored_as_shown():
    moves = protocol_moves(rows([0.99, 0.70, 0.61, 0.90]), rows([0.99, 0.64, 0.70, 0.99]))
    by = moves.set_index("condition")
    assert by.loc["rewarded_uncommon", "move"] == pytest.approx(-0.06)
    assert list(by["closer"]) == [0, 1, -1, 1]  # RC the same, RU and UU closer, UC farther
    assert by.loc["rewarded_uncommon", "within_paper"]  # 0.01 from 0.63, error 0.04
    assert not by.loc["rewarded_uncommon", "within_batched"]  # 0.07


def along(values_by_thousand):
    frames = []
    for thousand, values in values_by_thousand.items():
        for seed, jitter in ((0, -0.01), (1, 0.01)):
            frames.append(pd.DataFrame({
                "panel": "all_vs_previous", "reading": "unfitted", "condition": list(CONDITIONS),
                "episodes_trained": thousand * 1000, "seed": seed,
                "stay_probability": [v + jitter for v in values]}))
    return pd.concat(frames, ignore_index=True)


def test_a_bar_settles_at_its_mean_over_the_last_snapshots_and_its_closest_point_is_found():
    table = along({1: [0.5] * 4, 2: [0.99, 0.63, 0.61, 0.99], 3: [0.99, 0.8, 0.8, 0.99],
                   4: [0.99, 0.8, 0.8, 0.99]})
    means = course(table)
    assert means["seeds"].eq(2).all() and means["sem"].gt(0).all()
    end = settled(table, last=2).set_index("condition")
    assert end.loc["rewarded_uncommon", "settled"] == pytest.approx(0.8)
    assert end.loc["rewarded_uncommon", "closest_at"] == 2000
    assert not end.loc["rewarded_uncommon", "within"]
    figure = course_figure(table, [("all_vs_previous", "unfitted")])
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 1


def test_the_moves_are_shown_as_the_pages_print_them():
    from twostep.analysis.protocols import moves_display

    moves = protocol_moves(rows([0.99, 0.70, 0.61, 0.90]), rows([0.99, 0.64, 0.70, 0.99]))
    shown = moves_display(moves, {("all_vs_previous", "unfitted"): "Wang"})
    assert list(shown["bar"]) == ["RC", "RU", "UC", "UU"]
    assert list(shown["move"]) == ["+0.00", "-0.06", "+0.09", "+0.09"]
    assert list(shown["closer"]) == ["equal", "paper", "batched", "paper"]
    assert shown.loc[1, "within bar (batched / paper)"] == "✗ / ✓"
    assert shown["panel"].eq("Wang").all()
