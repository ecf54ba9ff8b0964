"""Batched two-step tasks: :class:`TwoStepTask` (Wang 2018) and
:class:`EpisodicTwoStepTask` (Ritter 2018), and :func:`make_task` to pick one."""

from __future__ import annotations

import torch

from twostep.core.config import TaskConfig
from twostep.core.tasks.episodic import EpisodicTrialOutcome, EpisodicTwoStepTask
from twostep.core.tasks.two_step import TrialOutcome, TwoStepTask


def make_task(config: TaskConfig, device: torch.device | str = "cpu",
              show_cue: bool = True) -> TwoStepTask:
    """The task named by ``config.kind``; ``show_cue`` (episodic task only): whether the
    observation carries the cue's context bits."""
    if config.kind == "episodic-two-step":
        return EpisodicTwoStepTask(config, device, show_cue=show_cue)
    return TwoStepTask(config, device)


__all__ = ["EpisodicTrialOutcome", "EpisodicTwoStepTask", "TrialOutcome", "TwoStepTask", "make_task"]
