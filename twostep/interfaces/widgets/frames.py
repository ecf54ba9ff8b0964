"""A slider over views drawn in advance, for pages without a kernel.

``ipywidgets.interact`` calls Python each time the slider moves, so it needs a live kernel.
:func:`frames_of` calls the function once for every value instead, keeps what it displayed
(figures as PNG, tables as HTML) and :class:`FrameSlider` switches between those views in the
browser (``frames.js``): the same slider works in Jupyter, Colab and the static book.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable
from pathlib import Path

from PIL import Image

from twostep.interfaces.widgets.optional import WidgetBase, require_ipython, synced

HERE = Path(__file__).resolve().parent
PALETTE_COLOURS = 64


def compact_png(encoded: str, colours: int = PALETTE_COLOURS) -> str:
    """A base64 PNG redrawn with a palette of ``colours`` colours (a plot needs few): about a
    quarter of the size, so that a page can carry dozens of figures."""
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        paletted = image.convert("RGB").quantize(colours, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    paletted.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _as_html(data: dict, metadata: dict) -> str:
    """One displayed output (a MIME bundle) as HTML."""
    if "image/png" in data:
        size = metadata.get("image/png", {})
        width = f' width="{size["width"]}"' if "width" in size else ""
        return f'<img src="data:image/png;base64,{compact_png(data["image/png"])}"{width} alt="figure">'
    if "text/html" in data:
        return data["text/html"]
    return f"<pre>{html.escape(data.get('text/plain', ''))}</pre>"


def frames_of(show: Callable[[int], object], values: Iterable[int]) -> dict[str, str]:
    """``{str(value): html}``: what ``show(value)`` displays, for every value."""
    capture_output = require_ipython()
    frames = {}
    for value in values:
        with capture_output(stdout=True, stderr=False, display=True) as captured:
            show(value)
        parts = [f"<pre>{html.escape(captured.stdout)}</pre>"] if captured.stdout.strip() else []
        parts += [_as_html(output.data, output.metadata or {}) for output in captured.outputs]
        frames[str(value)] = "\n".join(parts)
    return frames


class FrameSlider(WidgetBase):
    """A slider over ``frames`` (``{str(value): html}``, integer values), starting at ``value``.
    Needs anywidget (the ``book`` extra)."""

    _esm = HERE / "frames.js"

    frames = synced("Dict")
    value = synced("Int")
    description = synced("Unicode", "")

    def __init__(self, frames: dict[str, str], value: int | None = None, description: str = "",
                 **kwargs):
        values = sorted(int(v) for v in frames)
        super().__init__(frames=frames, value=values[0] if value is None else value,
                         description=description, **kwargs)
