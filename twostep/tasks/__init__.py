"""Batched two-step tasks: :class:`TwoStepTask` (Wang 2018) and
:class:`EpisodicTwoStepTask` (Ritter 2018)."""

from twostep.tasks.two_step import TrialOutcome, TwoStepTask, draw_uniform, make_task

__all__ = ["TrialOutcome", "TwoStepTask", "draw_uniform", "make_task"]
