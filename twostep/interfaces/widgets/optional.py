"""anywidget is optional (the ``book`` extra): the widgets import without it, and building one
says how to install it.

The widget classes derive from :data:`WidgetBase` and declare their synced traits with
:func:`synced`. With anywidget installed these are ``anywidget.AnyWidget`` and
``traitlets.<Kind>(...).tag(sync=True)``; without it, :data:`WidgetBase` refuses to build
with a one-line :class:`~twostep.errors.TwostepError` and the traits are placeholders, so
``import twostep.interfaces.widgets`` and the functions that only draw data still work.
"""

from __future__ import annotations

from twostep.errors import TwostepError

INSTALL_HINT = 'pip install "twostep[book]" (or just anywidget)'
"""What to install for the widgets."""

try:
    import traitlets
    from anywidget import AnyWidget
except ImportError:  # the core install: no widgets, but the module imports
    traitlets = None
    AnyWidget = None


class MissingAnyWidget:
    """The stand-in base class without anywidget: building a widget says what to install."""

    def __init__(self, *args, **kwargs):
        raise TwostepError(f"{type(self).__name__} needs anywidget: {INSTALL_HINT}")


WidgetBase = AnyWidget if AnyWidget is not None else MissingAnyWidget
"""``anywidget.AnyWidget`` when installed, else :class:`MissingAnyWidget`."""


def synced(kind: str, *args):
    """A trait synced with the browser, ``traitlets.<kind>(*args).tag(sync=True)``; ``None``
    without anywidget (a widget that cannot be built needs no traits)."""
    if AnyWidget is None:
        return None
    return getattr(traitlets, kind)(*args).tag(sync=True)


def require_ipython():
    """IPython's output capture, or a one-line error saying what to install."""
    try:
        from IPython.utils.capture import capture_output
    except ImportError:
        raise TwostepError(f"drawing frames needs IPython: {INSTALL_HINT}") from None
    return capture_output
