"""Helpers shared by the test modules (importable because pytest puts tests/ on sys.path)."""

from pathlib import Path

import torch

from twostep.core.config import ExperimentConfig, load_experiment
from twostep.core.tasks import TrialOutcome, TwoStepTask

TINY_TRAIN = {"seeds": 2, "episodes": 24, "batch_size": 4, "checkpoint_every": 2,
              "eval_episodes": 5}
"""The tests' one training budget: 2 seeds x 6 updates of 4 episodes, a checkpoint every 2
updates, 5 test episodes per seed. A run trains in about a second."""


def tiny(experiment: str = "wang2018", name: str | None = None, **train) -> ExperimentConfig:
    """A bundled experiment on the tiny budget, :data:`TINY_TRAIN` (``train`` changes it more,
    ``name`` renames it)."""
    return load_experiment(experiment).with_changes(name=name, train={**TINY_TRAIN, **train})


def write_tiny_yaml(folder: Path, filename: str = "tiny.yaml", experiment: str = "wang2018",
                    **train) -> Path:
    """:func:`tiny` as a config file ``folder/filename``, named ``tiny`` (for the command line)."""
    path = Path(folder) / filename
    path.write_text(tiny(experiment, name="tiny", **train).to_yaml())
    return path


def play_random_choices(task: TwoStepTask, batch_shape, generator, choice_seed: int = 1) -> TrialOutcome:
    """Play whole episodes with uniformly random choices; fields stacked to ``[*batch, trials]``."""
    task.reset(batch_shape, generator)
    choices = torch.Generator().manual_seed(choice_seed)
    outcomes = []
    for _ in range(task.trials):
        outcome, _ = task.step(torch.randint(0, 2, tuple(batch_shape), generator=choices))
        outcomes.append(outcome)
    return type(outcomes[0])(**{name: torch.stack([getattr(o, name) for o in outcomes], dim=-1)
                           for name in outcomes[0].columns()})


def episodic_table(seeds: int = 2, episodes: int = 3, trials: int = 20, seed: int = 0):
    """A trial table of the episodic task played with random choices (``cued``, ``cue_trial``
    columns), as the package's own tables are built."""
    from twostep.core.tasks import make_task
    from twostep.trials.frame import trial_frame

    config = load_experiment("ritter2018-episodic").task.model_copy(update={"trials": trials})
    task = make_task(config)
    task.reset((seeds, episodes), torch.Generator().manual_seed(seed))
    choices = torch.Generator().manual_seed(seed + 1)
    outcomes = [task.step(torch.randint(0, 2, (seeds, episodes), generator=choices))[0]
                for _ in range(trials)]
    return trial_frame(outcomes, seeds=list(range(seeds)))
