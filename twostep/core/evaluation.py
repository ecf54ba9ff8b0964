"""Frozen-weight test episodes (the papers' protocol: 300 per seed), as one typed result.

Test episodes come from each seed's test stream (:data:`twostep.core.seeding.TEST_STREAM`),
so every evaluation of a network plays the same episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import torch

from twostep.core.build import task_for
from twostep.core.config import ExperimentConfig
from twostep.core.engine import PLAY, resolve_engine
from twostep.core.models import RecurrentActorCritic
from twostep.core.seeding import TEST_STREAM, generators
from twostep.core.tasks import TwoStepTask
from twostep.errors import TwostepError
from twostep.trials.frame import trial_frame


@dataclass
class Evaluation:
    """What :func:`evaluate` found.

    ``trials``: one row per test trial (:mod:`twostep.trials`), sorted by seed,
    episode, trial. ``internals`` (only with ``record_internals``): ``hidden``
    ``[S, B, T, H]``, ``retrieved_trial`` ``[S, B, T]`` and, for an epLSTM,
    ``reinstatement_gate`` ``[S, B, T]`` (see :class:`twostep.core.rollout.Rollout`).
    ``task``: the task as played, holding the last batch of episodes (every
    episode when they fit in one batch), e.g. its contexts and cues.
    """

    trials: pd.DataFrame
    task: TwoStepTask
    internals: dict[str, torch.Tensor] = field(default_factory=dict)


@torch.no_grad()
def evaluate(model: RecurrentActorCritic, config: ExperimentConfig, episodes: int | None = None,
             record_internals: bool = False, batch_size: int = 1000,
             retrieval: str | None = None, engine: str | None = None) -> Evaluation:
    """Play ``episodes`` test episodes per seed (default ``config.train.eval_episodes``).

    Args:
        engine: ``"compiled"`` or ``"reference"`` (:mod:`twostep.core.engine`); by default
            the one ``config.train.engine`` gives on the network's device, as in training.
        retrieval: test the trained network with another memory rule than it was
            trained with; ``"off"`` lesions episodic retrieval (Ritter 2018's
            incremental condition: the same network with retrieval off).
        batch_size: episodes per seed played at once (memory, not results).
    """
    if retrieval is not None:
        if retrieval != "off" and not model.reinstatement:
            raise TwostepError("retrieval needs a network with a reinstatement gate (eplstm)")
        config = config.with_changes(model={"retrieval": retrieval})
    if episodes is None:
        episodes = config.train.eval_episodes
    if episodes <= 0:
        raise TwostepError("evaluation needs at least one episode")
    device = model.weight.device
    play = PLAY[engine or resolve_engine(config, device)]
    task = task_for(config, device)
    gens = generators(model.seeds, TEST_STREAM)
    frames, internals = [], []
    done = 0
    while done < episodes:
        batch = min(batch_size, episodes - done)
        rollout = play(model, task, config, gens, batch, record_internals=record_internals)
        frames.append(trial_frame(rollout.outcomes, model.seeds, episode_offset=done))
        internals.append(rollout.internals)
        done += batch
    trials = pd.concat(frames, ignore_index=True).sort_values(
        ["seed", "episode", "trial"], kind="stable").reset_index(drop=True)
    merged = {}
    if record_internals:
        merged = {k: torch.cat([i[k] for i in internals], dim=1) for k in internals[0]}
    return Evaluation(trials, task, merged)
