"""The slider over pre-drawn views: what it stores and how small its figures are."""

from __future__ import annotations

import base64
import io

import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure
from PIL import Image

from twostep.interfaces.widgets import FrameSlider, frames_of
from twostep.interfaces.widgets.frames import compact_png


def png_of_a_plot() -> str:
    figure = Figure(figsize=(6, 3), dpi=100)
    ax = figure.add_subplot()
    for k in range(8):
        ax.plot(range(50), [((i * (k + 1)) % 17) / 17 for i in range(50)], alpha=0.6)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_compact_png_keeps_the_picture_size_and_shrinks_the_file():
    original = png_of_a_plot()
    small = compact_png(original)
    with Image.open(io.BytesIO(base64.b64decode(original))) as before, \
            Image.open(io.BytesIO(base64.b64decode(small))) as after:
        assert after.size == before.size
        assert after.mode == "P" and len(after.getcolors(256)) <= 64
    assert len(small) < 0.8 * len(original)


def test_frames_hold_what_the_function_displayed_for_every_value():
    def show(value: int) -> None:
        print(f"value {value}")
        display(pd.DataFrame({"square": [value * value]}))

    frames = frames_of(show, range(3, 6))
    assert list(frames) == ["3", "4", "5"]
    assert "value 4" in frames["4"] and "16" in frames["4"]
    slider = FrameSlider(frames, description="n")
    assert slider.value == 3 and slider.frames == frames
