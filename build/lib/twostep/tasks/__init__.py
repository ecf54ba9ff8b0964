"""Batched two-step tasks: :class:`TwoStepTask` (Wang 2018) and
:class:`EpisodicTwoStepTask` (Ritter 2018)."""

from twostep.tasks.episodic import EpisodicTwoStepTask
from twostep.tasks.two_step import TrialOutcome, TwoStepTask, draw_uniform, make_task

__all__ = ["EpisodicTwoStepTask", "TrialOutcome", "TwoStepTask", "draw_uniform", "make_task"]
