"""The machinery every explorer shares: a persistent figure rendered to PNG, control wiring,
and an ``update()`` that tests (and the explorers' controls) call.

An explorer draws into one matplotlib :class:`~matplotlib.figure.Figure` that it keeps for
its whole life (no pyplot: nothing is shown by accident, nothing stacks up), renders it to PNG
bytes and puts them into an :class:`ipywidgets.Image`. The browser swaps the picture in place,
so moving a control never flickers, and the bytes make "the picture changed" testable.

The function a lesson calls (``neuron_playground()``, ...) returns the explorer's widget, an
:class:`ExplorerWidget` (a ``VBox``), so the notebook displays it as the cell's result. The
object behind it is ``widget.explorer``::

    w = neuron_playground()
    w.controls["w1"].value = 2.0     # moves the slider: recomputes and redraws
    w.values["output"]                # the numbers the readout shows
    w.image.value                     # the PNG bytes on screen
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import time

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as _PILImage

__all__ = ["Explorer", "ExplorerWidget", "figure_to_png", "fmt", "lean_log_axis",
           "float_slider", "int_slider", "log_slider", "dropdown", "checkbox", "button"]


# --------------------------------------------------------------------------- rendering

def _course_style():
    """The plotting helpers' rc settings (palette, grid, fonts), minus their layout engine:
    an explorer's figure is laid out once, by hand, so redraws stay fast and steady."""
    from ..plotting import STYLE

    return {k: v for k, v in STYLE.items() if not k.startswith(("figure.", "savefig."))}


def lean_log_axis(axis, numticks=6):
    """Major ticks only on a log axis (``ax.yaxis``): minor ticks cost most of the drawing
    time of a small figure and carry no labels."""
    from matplotlib.ticker import LogLocator, NullLocator
    axis.set_major_locator(LogLocator(numticks=numticks))
    axis.set_minor_locator(NullLocator())


def figure_to_png(fig):
    """PNG bytes of a matplotlib figure (Agg), about twice as fast as ``savefig``.

    The same figure drawn the same way gives the same bytes.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    buf = io.BytesIO()
    _PILImage.fromarray(rgb).save(buf, format="png", compress_level=6)
    return buf.getvalue()


def fmt(x, digits=4):
    """A number as short readable text: 4 significant digits, 'nan'/'inf' spelled out."""
    if x is None:
        return "–"
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


# --------------------------------------------------------------------------- controls

_STYLE = {"description_width": "initial"}


def _layout(width):
    return widgets.Layout(width=width)


def float_slider(description, value, min, max, step, continuous=False, width="300px",
                 readout_format=".2f"):
    """A FloatSlider; ``continuous=False`` recomputes only when the handle is released."""
    return widgets.FloatSlider(value=value, min=min, max=max, step=step,
                               description=description, continuous_update=continuous,
                               readout_format=readout_format, style=_STYLE,
                               layout=_layout(width))


def int_slider(description, value, min, max, step=1, continuous=False, width="300px"):
    return widgets.IntSlider(value=value, min=min, max=max, step=step,
                             description=description, continuous_update=continuous,
                             style=_STYLE, layout=_layout(width))


def log_slider(description, value, min_exp, max_exp, step=0.1, continuous=False,
               width="300px", readout_format=".2e"):
    """A FloatLogSlider over 10**min_exp .. 10**max_exp."""
    return widgets.FloatLogSlider(value=value, base=10, min=min_exp, max=max_exp, step=step,
                                  description=description, continuous_update=continuous,
                                  readout_format=readout_format, style=_STYLE,
                                  layout=_layout(width))


def dropdown(description, options, value=None, width="300px"):
    kw = {} if value is None else {"value": value}
    return widgets.Dropdown(options=options, description=description, style=_STYLE,
                            layout=_layout(width), **kw)


def checkbox(description, value=False, width="180px"):
    return widgets.Checkbox(value=value, description=description, indent=False,
                            layout=_layout(width))


def button(description, icon="", tooltip="", width="90px"):
    return widgets.Button(description=description, icon=icon, tooltip=tooltip or description,
                          layout=_layout(width))


# --------------------------------------------------------------------------- the widget

class ExplorerWidget(widgets.VBox):
    """What an explorer function returns: a ``VBox`` that knows its :class:`Explorer`.

    ``controls``, ``values``, ``image``, ``readout`` and ``update`` are forwarded to the
    explorer, so ``w.controls["lr"].value = 0.5`` works on the displayed object directly.
    """

    def __init__(self, explorer, **kwargs):
        super().__init__(**kwargs)
        self.explorer = explorer

    @property
    def controls(self):
        return self.explorer.controls

    @property
    def values(self):
        return self.explorer.values

    @property
    def image(self):
        return self.explorer.image

    @property
    def readout(self):
        return self.explorer.readout

    def update(self):
        return self.explorer.update()

    def __repr__(self):
        ex = self.explorer
        return f"{type(ex).__name__}: {ex.title} (interactive: run in JupyterLab)"

    def _repr_mimebundle_(self, **kwargs):
        """The live widget for JupyterLab, plus the current picture as a PNG for viewers
        without a kernel (GitHub, nbviewer): they show the image instead of nothing."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.explorer.image.value:
            bundle["image/png"] = base64.b64encode(self.explorer.png).decode("ascii")
        return bundle


# --------------------------------------------------------------------------- the base class

class Explorer:
    """Base of the explorers: subclasses define controls, ``compute`` and ``draw``.

    Subclass hooks
    --------------
    name : str
        CSS suffix: the outer widget gets the classes ``bpl-explorer`` and ``bpl-<name>``.
    title : str
        One line shown above the controls.
    make_controls() -> dict
        name -> widget. Every control with a ``value`` is wired to :meth:`update`; buttons
        are wired by the subclass (``on_click``).
    compute() -> dict
        Recompute everything from the controls with the library; return the numbers the
        readout shows (arrays for the picture may be kept on ``self``).
    draw(fig)
        Draw into the (cleared) persistent figure, with the course's plotting style (use
        the ``backproplab.plotting`` helpers with ``ax=``).
    readout_html() -> str
        The text panel, from ``self.values``.
    control_changed(change)
        Optional: react to one control (e.g. reset another) before the single update.

    Attributes
    ----------
    controls : dict name -> widget
    values : dict
        What the last update computed and the readout shows.
    image : ipywidgets.Image
        The picture (PNG bytes in ``image.value``; ``png`` gives them as ``bytes``).
    readout : ipywidgets.HTML
    widget : ExplorerWidget
        The box to display.
    update_seconds : float
        Wall time of the last update (compute + draw + PNG).
    n_updates : int
    error : Exception or None
        The exception of the last update, if it failed (shown in the readout too).
    """

    name = "explorer"
    title = ""
    figsize = (9.6, 3.8)
    dpi = 80

    def __init__(self):
        self.values = {}
        self.error = None
        self.update_seconds = None
        self.n_updates = 0
        self._held = 0
        self._pending = False
        self.controls = self.make_controls()
        # laid out by hand with subplots_adjust, even after plotting.use_style() turns on
        # constrained layout (which would warn on every redraw)
        self.fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="none")
        FigureCanvasAgg(self.fig)
        width_px = int(round(self.figsize[0] * self.dpi))
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width_px}px", max_width="100%", height="auto"))
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="3em"))
        self.readout.add_class("bpl-readout")
        self.image.add_class("bpl-image")
        self.widget = ExplorerWidget(self, children=self.children())
        self.widget.add_class("bpl-explorer")
        self.widget.add_class(f"bpl-{self.name}")
        for control in self.controls.values():
            if "value" in control.trait_names() and not isinstance(control, widgets.Button):
                control.observe(self._on_change, names="value")
        self.update()

    # -- to override ----------------------------------------------------------------------
    def make_controls(self):
        return {}

    def compute(self):
        return {}

    def draw(self, fig):
        pass

    def readout_html(self):
        return ""

    def control_rows(self):
        """Rows of controls shown above the picture (a list of lists of widgets)."""
        items = list(self.controls.values())
        return [items]

    # -- layout -----------------------------------------------------------------------------
    def children(self):
        kids = []
        if self.title:
            kids.append(widgets.HTML(f"<b>{html.escape(self.title)}</b>"))
        for row in self.control_rows():
            kids.append(widgets.HBox(row, layout=widgets.Layout(flex_flow="row wrap",
                                                                 align_items="center")))
        kids += [self.image, self.readout]
        return kids

    # -- updating ---------------------------------------------------------------------------
    def update(self):
        """Recompute from the controls, redraw the figure, refresh image and readout.

        Returns ``self.values``. Exceptions propagate (and are shown in the readout).
        """
        start = time.perf_counter()
        try:
            self.values = self.compute()
            self.fig.clear()
            with matplotlib.rc_context(_course_style()):
                self.draw(self.fig)
            self.image.value = figure_to_png(self.fig)
            self.readout.value = self.readout_html()
        except Exception as err:
            self.error = err
            self.readout.value = (f"<span style='color:#b00'>error: "
                                  f"{html.escape(type(err).__name__)}: "
                                  f"{html.escape(str(err))}</span>")
            raise
        self.error = None
        self.n_updates += 1
        self.update_seconds = time.perf_counter() - start
        return self.values

    def control_changed(self, change):
        """Hook: a control moved (``change.owner`` is the widget). Runs inside :meth:`hold`,
        so adjusting other controls here still costs a single update."""

    def _on_change(self, change=None):
        with self.hold():
            self._pending = True
            self.control_changed(change)

    @contextlib.contextmanager
    def hold(self):
        """Change several controls at once with a single update at the end."""
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.update()

    def set(self, **values):
        """Set several controls by name with one update: ``ex.set(w1=1.0, b=-2.0)``."""
        with self.hold():
            for key, value in values.items():
                self.controls[key].value = value
        return self.values

    @property
    def png(self):
        """The picture on screen, as PNG bytes."""
        return bytes(self.image.value)

    def _ipython_display_(self):  # display(explorer) shows its widget
        from IPython.display import display
        display(self.widget)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}: {len(self.controls)} controls>"
