"""The two-step task as a game a person plays in the browser.

Python draws every game's randomness with the package's own :class:`TwoStepTask` (the task
draws all of an episode's randomness at reset: the good state of every trial, one uniform
number per trial for the transition, one for the reward) and hands it to the widget as data.
The widget's JavaScript (``game.js``) then only applies the task's rule to the player's
choice on trial ``t``, exactly as :meth:`TwoStepTask.step` does::

    common_t = u_transition[t] < common_prob
    state_t  = choice_t if common_t else 1 - choice_t
    reward_t = u_reward[t] < (reward_prob_good if state_t == good_state[t] else reward_prob_bad)

The task compares float32 numbers, so the JavaScript rounds the probabilities to float32
(``Math.fround``) before comparing. At the end of a game the widget computes the player's
stay probabilities the way :func:`twostep.analysis.stats.stay_probabilities` does, shows them
beside the published trained network's, and (with a live kernel) sends the trial table back
to Python in :attr:`TwoStepGame.history`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from twostep.analysis.plots import PALETTE
from twostep.analysis.published import IDEAL_OBSERVER_WANG_REWARD, WANG2018_STAY
from twostep.analysis.stats import CONDITION_SHORT, CONDITIONS
from twostep.core.config import TaskConfig
from twostep.core.tasks import TwoStepTask
from twostep.interfaces.widgets.optional import WidgetBase, synced
from twostep.trials.columns import TRIAL_COLUMNS

HERE = Path(__file__).resolve().parent


def draw_games(config: TaskConfig, games: int, generator: torch.Generator) -> list[dict]:
    """``games`` episodes of the package's task, as the data the widget plays them from.

    Each game: ``good_state``, ``transition_uniform`` and ``reward_uniform`` (one entry per
    trial; the uniforms are the task's float32 draws, exactly representable in JSON).
    """
    task = TwoStepTask(config)
    task.reset((games,), generator)
    return [{"good_state": task.good_state[g].tolist(),
             "transition_uniform": task.transition_uniform[g].tolist(),
             "reward_uniform": task.reward_uniform[g].tolist()} for g in range(games)]


class TwoStepGame(WidgetBase):
    """The two-step game: buttons, the trial history, and the player's stay probabilities.

    ``TwoStepGame(config, trials=40, games=20, seed=None)``: ``games`` pre-drawn episodes of
    ``trials`` trials ("new game" moves to the next one); ``history`` holds the trials played
    in the current game (filled from the browser when a kernel is live). Needs anywidget
    (the ``book`` extra).
    """

    _esm = HERE / "game.js"
    _css = HERE / "game.css"

    games = synced("List")
    trials = synced("Int", 40)
    rule = synced("Dict")
    published = synced("Dict")
    labels = synced("Dict")
    colours = synced("Dict")
    ideal_reward = synced("Float")
    history = synced("List")
    """The trials played in the current game, one dict per trial (filled from the browser)."""

    def __init__(self, config: TaskConfig, trials: int = 40, games: int = 20,
                 seed: int | None = None, **kwargs):
        config = TaskConfig(**{**config.model_dump(), "trials": trials})
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        super().__init__(
            games=draw_games(config, games, generator),
            trials=trials,
            rule={"common_prob": config.common_prob,
                  "reward_prob_good": config.reward_prob_good,
                  "reward_prob_bad": config.reward_prob_bad},
            published=dict(WANG2018_STAY),
            labels={c: CONDITION_SHORT[c] for c in CONDITIONS},
            colours={c: PALETTE["common"] if c.endswith("_common") else PALETTE["uncommon"]
                     for c in CONDITIONS},
            ideal_reward=IDEAL_OBSERVER_WANG_REWARD * trials / 100,
            **kwargs,
        )

    def history_frame(self) -> pd.DataFrame:
        """The current game's trials as a trial table (seed 0, episode 0)."""
        return trial_table(self.history)


def trial_table(rows: list[dict]) -> pd.DataFrame:
    """The game's trial rows (as ``game.js`` writes them) as a trial table, seed 0, episode 0."""
    return pd.DataFrame([{"seed": 0, "episode": 0, **row} for row in rows], columns=TRIAL_COLUMNS)
