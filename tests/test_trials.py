"""The trial table: built from outcomes, turned back into tensors, checked in memory."""

import pandas as pd
import pytest
import torch

from twostep.core.config import TaskConfig
from twostep.core.tasks import TwoStepTask
from twostep.errors import TwostepError
from twostep.trials.columns import TRIAL_COLUMNS
from twostep.trials.frame import column_tensor, trial_frame
from twostep.trials.read import checked_table


def _outcomes(seeds: int = 2, episodes: int = 3, trials: int = 5):
    task = TwoStepTask(TaskConfig(trials=trials))
    task.reset((seeds, episodes), [torch.Generator().manual_seed(s) for s in range(seeds)])
    choices = torch.Generator().manual_seed(9)
    return [task.step(torch.randint(0, 2, (seeds, episodes), generator=choices))[0]
            for _ in range(trials)]


def test_column_tensor_puts_back_what_trial_frame_flattened():
    outcomes = _outcomes()
    table = trial_frame(outcomes, seeds=[10, 11])
    assert list(table.columns) == TRIAL_COLUMNS
    shuffled = table.sample(frac=1.0, random_state=0)  # the order of the rows does not matter
    for name in ("choice", "state", "reward", "good_state"):
        expected = torch.stack([getattr(o, name) for o in outcomes], dim=-1).long()
        assert torch.equal(column_tensor(shuffled, name), expected)
        assert torch.equal(column_tensor(table, name, (2, 3, 5)), expected)


def test_column_tensor_refuses_a_table_that_does_not_fill_the_shape():
    table = trial_frame(_outcomes(), seeds=[0, 1]).iloc[:-1]  # one trial short
    with pytest.raises(TwostepError, match="do not fill"):
        column_tensor(table, "choice")


def test_checked_table_refuses_what_is_not_a_trial_table():
    table = trial_frame(_outcomes(), seeds=[0, 1])
    assert checked_table(table.iloc[3:], ["choice"]).index[0] == 0  # a fresh index
    with pytest.raises(TwostepError, match="missing column"):
        checked_table(table.drop(columns="reward"), ["reward"])
    with pytest.raises(TwostepError, match="no trials"):
        checked_table(table.iloc[:0], ["reward"])
    with pytest.raises(TwostepError, match="more than once"):
        checked_table(pd.concat([table, table.iloc[:1]]), ["reward"])
    with pytest.raises(TwostepError, match="expected a trial table"):
        checked_table(table.to_numpy(), ["reward"])
