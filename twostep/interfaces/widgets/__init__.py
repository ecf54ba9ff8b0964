"""Widgets whose logic runs in the browser (anywidget), so they work in Jupyter, Colab and
the static book alike: the two-step game and a slider over pre-drawn views.

anywidget is in the optional ``book`` extra: without it this package still imports, and
building a widget raises a one-line error saying what to install
(:mod:`~twostep.interfaces.widgets.optional`)."""

from twostep.interfaces.widgets.frames import FrameSlider, frames_of
from twostep.interfaces.widgets.game import TwoStepGame, draw_games

__all__ = ["FrameSlider", "TwoStepGame", "draw_games", "frames_of"]
