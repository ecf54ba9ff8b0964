"""The results table shipped for the chapter "the task family" (twostep/sweeps/task-family) is
what the package trains: two of its points, retrained from scratch on the sweep's engine (a
local Dask cluster of 2 workers), give bit for bit the table's rows. CPU training, testing and
the regressions are deterministic, so any difference means the table is stale: make it again
with the command its provenance records. Marked ``engine``; about a minute at the full budget."""

import dataclasses

import pandas as pd
import pytest

from twostep.runs.sweep import load_sweep, run_sweep, shipped_results

pytest.importorskip("distributed")
pytestmark = pytest.mark.engine


def checked_points(sweep) -> list[int]:
    """The first grid point and the smallest network: two different tasks and sizes."""
    smallest = min(sweep.points, key=lambda p: p.config.model.hidden_size)
    return sorted({sweep.points[0].index, smallest.index})


def test_two_points_of_the_shipped_table_retrain_to_bitwise_its_rows(tmp_path):
    table, provenance = shipped_results("task-family")
    sweep = load_sweep("task-family", provenance["settings"])
    indices = checked_points(sweep)
    assert len(indices) == 2
    part = dataclasses.replace(sweep, points=tuple(sweep.points[i] for i in indices))

    result = run_sweep(part, root=tmp_path / "runs", workers=2, progress=False)

    assert result.trained == set(indices)  # from scratch, not from a cache
    shipped = table[table["point"].isin(indices)].reset_index(drop=True)
    pd.testing.assert_frame_equal(result.table, shipped, check_exact=True)
