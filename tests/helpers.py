"""Helpers shared by the test modules (importable because pytest puts tests/ on sys.path)."""

import torch

from twostep.core.tasks import TrialOutcome, TwoStepTask


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
