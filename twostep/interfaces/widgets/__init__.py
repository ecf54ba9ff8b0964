"""Widgets whose logic runs in the browser (anywidget), so they work in Jupyter, Colab and
the static book alike: the two-step game and a slider over pre-drawn views."""

from twostep.interfaces.widgets.frames import FrameSlider, frames_of
from twostep.interfaces.widgets.game import TwoStepGame, draw_games

__all__ = ["FrameSlider", "TwoStepGame", "draw_games", "frames_of"]
