"""The game in the browser plays the package's task and scores it like the package.

The game's JavaScript (twostep/interfaces/widgets/game.js) runs under node on the same draws and the
same choices as :class:`TwoStepTask` and :func:`twostep.analysis.stats.stay_probabilities`; trial
tables and stay probabilities must agree exactly. Skipped where node is not installed.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from twostep.analysis import stats
from twostep.analysis.stats import CONDITIONS
from twostep.core.config import TaskConfig
from twostep.core.tasks import TwoStepTask
from twostep.interfaces.widgets import TwoStepGame, draw_games
from twostep.interfaces.widgets.game import trial_table

GAME_JS = Path(__file__).resolve().parents[1] / "twostep" / "interfaces" / "widgets" / "game.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")



def run_game_js(tmp_path: Path, games: list[dict], rule: dict, choices: list[list[int]]) -> list:
    """For each game: (trial rows, stay probabilities) as game.js computes them under node."""
    (tmp_path / "game.mjs").write_text(GAME_JS.read_text())
    (tmp_path / "input.json").write_text(json.dumps({"games": games, "rule": rule,
                                                      "choices": choices}))
    (tmp_path / "driver.mjs").write_text(
        'import { readFileSync } from "node:fs";\n'
        'import { playTrial, stayProbabilities } from "./game.mjs";\n'
        'const input = JSON.parse(readFileSync(process.argv[2], "utf8"));\n'
        "const out = input.games.map((game, g) => {\n"
        "  const rows = input.choices[g].map((c, t) => playTrial(game, input.rule, t, c));\n"
        "  return { rows, stay: stayProbabilities(rows) };\n"
        "});\n"
        "console.log(JSON.stringify(out));\n")
    done = subprocess.run([NODE, str(tmp_path / "driver.mjs"), str(tmp_path / "input.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def package_tables(config: TaskConfig, games: int, seed: int, choices: torch.Tensor,
                   edit=None) -> list:
    """The package's trial table per game, for ``choices`` ``[games, trials]``."""
    task = TwoStepTask(config)
    task.reset((games,), torch.Generator().manual_seed(seed))
    if edit is not None:
        edit(task)
    columns = {name: [] for name in ("choice", "state", "common", "reward", "good_state")}
    for t in range(config.trials):
        outcome, _ = task.step(choices[:, t])
        for name in columns:
            columns[name].append(getattr(outcome, name).long())
    stacked = {name: torch.stack(values, dim=1) for name, values in columns.items()}
    return [[{"trial": t, **{name: int(stacked[name][g, t]) for name in stacked}}
             for t in range(config.trials)] for g in range(games)]


def games_of(task: TwoStepTask) -> list[dict]:
    return [{"good_state": task.good_state[g].tolist(),
             "transition_uniform": task.transition_uniform[g].tolist(),
             "reward_uniform": task.reward_uniform[g].tolist()}
            for g in range(task.batch_shape[0])]


def rule_of(config: TaskConfig) -> dict:
    return {"common_prob": config.common_prob, "reward_prob_good": config.reward_prob_good,
            "reward_prob_bad": config.reward_prob_bad}


def same_stay(from_js: list[dict], table: list[dict]) -> None:
    ours = stats.stay_probabilities(trial_table(table)).set_index("condition")
    assert [row["condition"] for row in from_js] == list(CONDITIONS)
    for row in from_js:
        expected = ours.loc[row["condition"]]
        assert row["n"] == expected["n"], row["condition"]
        if math.isnan(expected["stay_probability"]):
            assert row["stay_probability"] is None, row["condition"]
        else:
            assert row["stay_probability"] == pytest.approx(expected["stay_probability"],
                                                            abs=1e-12), row["condition"]


@needs_node
def test_the_browser_game_plays_the_same_trials_as_the_package_task(tmp_path):
    config = TaskConfig(trials=100)
    games, seed = 12, 3
    choices = torch.randint(0, 2, (games, config.trials), generator=torch.Generator().manual_seed(4))
    drawn = draw_games(config, games, torch.Generator().manual_seed(seed))
    played = run_game_js(tmp_path, drawn, rule_of(config), choices.tolist())
    expected = package_tables(config, games, seed, choices)
    for g in range(games):
        assert played[g]["rows"] == expected[g], f"game {g} differs"


@needs_node
def test_the_browser_game_computes_the_package_stay_probabilities(tmp_path):
    config = TaskConfig(trials=40)
    games, seed = 10, 8
    # sticky choices, so that every condition has both stays and switches
    flips = torch.rand(games, config.trials, generator=torch.Generator().manual_seed(9)) < 0.3
    choices = (flips.long().cumsum(dim=1) % 2)
    drawn = draw_games(config, games, torch.Generator().manual_seed(seed))
    played = run_game_js(tmp_path, drawn, rule_of(config), choices.tolist())
    for g in range(games):
        same_stay(played[g]["stay"], played[g]["rows"])
        assert played[g]["rows"] == package_tables(config, games, seed, choices)[g]


@needs_node
def test_the_browser_game_compares_probabilities_in_float32_like_the_task(tmp_path):
    # Uniforms exactly at the float32 rounding of each probability, and one float32 step
    # below it: the task (float32 comparisons) and the game must still agree.
    config = TaskConfig(trials=8)
    def at_the_edges(task):
        p = {"common": torch.tensor(config.common_prob, dtype=torch.float32),
             "good": torch.tensor(config.reward_prob_good, dtype=torch.float32),
             "bad": torch.tensor(config.reward_prob_bad, dtype=torch.float32)}
        below = {k: torch.nextafter(v, torch.tensor(0.0)) for k, v in p.items()}
        task.transition_uniform[0, :4] = torch.stack([p["common"], below["common"]] * 2)
        task.reward_uniform[0, :4] = torch.stack([p["good"], below["good"], p["bad"], below["bad"]])
        task.reward_uniform[0, 4:] = torch.stack([p["bad"], below["bad"], p["good"], below["good"]])
    choices = torch.tensor([[0, 1, 1, 0, 1, 0, 0, 1]])
    expected = package_tables(config, 1, 0, choices, edit=at_the_edges)
    task = TwoStepTask(config)
    task.reset((1,), torch.Generator().manual_seed(0))
    at_the_edges(task)
    played = run_game_js(tmp_path, games_of(task), rule_of(config), choices.tolist())
    assert played[0]["rows"] == expected[0]


def test_the_game_widget_carries_the_package_task_draws():
    config = TaskConfig(trials=30)
    game = TwoStepGame(config, trials=30, games=3, seed=11)
    task = TwoStepTask(config)
    task.reset((3,), torch.Generator().manual_seed(11))
    assert game.games == games_of(task)
    assert game.rule == rule_of(config)
    assert game.history_frame().empty


def test_the_widgets_import_without_anywidget_and_say_what_to_install_when_built():
    code = "\n".join([
        "import sys",
        "for name in ('anywidget', 'traitlets', 'IPython', 'ipywidgets'):",
        "    sys.modules[name] = None  # as if not installed: importing it fails",
        "import torch",
        "from twostep.core.config import TaskConfig",
        "from twostep.errors import TwostepError",
        "from twostep.interfaces.widgets import FrameSlider, TwoStepGame, draw_games, frames_of",
        "assert len(draw_games(TaskConfig(trials=5), 2, torch.Generator().manual_seed(0))) == 2",
        "builds = [lambda: TwoStepGame(TaskConfig()), lambda: FrameSlider({'0': 'a'}),",
        "          lambda: frames_of(print, [0])]",
        "for build in builds:",
        "    try:",
        "        build()",
        "    except TwostepError as error:",
        "        assert 'pip install \"twostep[book]\"' in str(error), error",
        "    else:",
        "        raise AssertionError('built without anywidget')",
        "print('refused', len(builds))",
    ])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused 3"
