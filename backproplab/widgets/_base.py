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

Following the hand
------------------
A *live* explorer (``live = True``) updates while a slider is dragged
(``continuous_update=True``), which needs an update in a few tens of milliseconds. Drawing a
figure from scratch costs 50-150 ms, most of it axes, ticks and text that do not change while
one control moves. So a live explorer splits its picture in two:

* the *scene* (axes, ticks, labels, everything that depends only on :meth:`Explorer.scene`),
  built once by :meth:`Explorer.build` and rendered once into a background bitmap;
* the *moving* artists (registered with :meth:`Explorer.moving`), updated in place by
  :meth:`Explorer.refresh` (``set_data``, ``set_array``, ``set_text`` ...) and drawn over a
  copy of the background on every update (matplotlib's blitting, on the Agg canvas).

Static artists of the same axes that lie above a moving one (a higher ``zorder``: the frame
over a heat map, a legend or a marker over a path) are pasted over the moving ones from
bitmaps made when the background was drawn, so the picture looks the same as a full redraw.
When ``scene()`` changes (another activation, another surface), the figure is rebuilt; when
:meth:`refresh` changes something static (an axis range), it calls :meth:`Explorer.restage`
and the background is rendered again.

Latest wins: ipywidgets' front end keeps at most one change of a control in flight and
replaces a waiting change by the newest one; it sends it when the kernel reports the previous
message done (idle). The update runs synchronously inside that message, so "done" comes after
the picture is sent: a slow update never queues stale positions, and the position where the
hand stops is always drawn last.

An explorer that only defines ``draw(fig)`` (the older form, still supported) is redrawn from
scratch on every update; it updates on release unless it sets ``live = True``. How to port one,
and the measurements: ``docs/explorers.md``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import io
import time
from urllib.parse import urlencode

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from PIL import Image as _PILImage

__all__ = ["Explorer", "ExplorerWidget", "figure_to_png", "fmt", "lean_log_axis",
           "nice_ceiling", "FINE_STEPS", "steady_log_range", "float_slider", "int_slider",
           "log_slider", "dropdown", "checkbox", "button"]


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


FINE_STEPS = (1, 1.5, 2, 3, 5, 7)  # for nice_ceiling: a range at most 5/3 of its data


def nice_ceiling(x, steps=(1, 2, 5)):
    """The smallest of ``steps`` times a power of ten that is >= ``x`` (> 0).

    Axis ranges and colour scales snap to these, so they change only now and then while a
    control moves (each change costs a redraw of the background)."""
    x = float(x)
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"nice_ceiling needs a positive finite number, got {x}")
    power = 10.0 ** np.floor(np.log10(x))
    for m in (*steps, 10):
        if m * power >= x * (1 - 1e-12):
            return float(m * power)
    return float(10 * power)


def steady_log_range(values, current=None, floor=1e-300, fill=0.35, margin=0.25):
    """Limits (lo, hi), powers of ten, of a log axis that shows ``values``.

    ``current`` (the limits in use) is kept while the values fit inside it and span at
    least ``fill`` of it (in decades), so the axis stays put while a control moves a
    little; otherwise the new limits leave ``margin`` of the span (at least half a decade)
    free on each side. Values below ``floor`` (zeros too) count as ``floor``; NaN and inf
    are left out."""
    v = np.asarray(values, dtype=float)
    v = np.maximum(v[np.isfinite(v)], floor)
    if v.size == 0:
        return current or (0.1, 10.0)
    a, b = np.log10(v.min()), np.log10(v.max())
    if current is not None:
        lo, hi = np.log10(current[0]), np.log10(current[1])
        if lo <= a and b <= hi and (b - a) >= fill * (hi - lo):
            return current
    spare = max(margin * (b - a), 0.5)
    return float(10.0 ** np.floor(a - spare)), float(10.0 ** np.ceil(b + spare))


def _encode(canvas):
    """PNG bytes of what the Agg canvas holds. Compression level 1: about as small as the
    default level 6 for plots (large flat areas), in two thirds of the time."""
    width, height = canvas.get_width_height(physical=True)
    image = _PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw",
                                 "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)
    return buf.getvalue()


def figure_to_png(fig):
    """PNG bytes of a matplotlib figure (Agg), faster than ``savefig``.

    The same figure drawn the same way gives the same bytes.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return _encode(canvas)


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
    """A FloatSlider; ``continuous=False`` recomputes only when the handle is released
    (a live explorer turns every slider continuous)."""
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
    """Base of the explorers: subclasses define controls, ``compute`` and the drawing.

    Subclass hooks
    --------------
    name : str
        CSS suffix: the outer widget gets the classes ``bpl-explorer`` and ``bpl-<name>``.
    title : str
        One line shown above the controls.
    question, look_for : str
        "Predict first" (a question to answer before touching the controls) and what to
        look for once they move; shown under the title (HTML allowed).
    live : bool
        True: sliders recompute while dragged (``continuous_update``). Set it when an
        update costs a few tens of milliseconds (see ``benchmarks/explorers.py``).
    make_controls() -> dict
        name -> widget. Every control with a ``value`` is wired to :meth:`update`; buttons
        are wired by the subclass (``on_click``).
    compute() -> dict
        Recompute everything from the controls with the library; return the numbers the
        readout shows (arrays for the picture may be kept on ``self``).
    readout_html() -> str
        The text panel, from ``self.values``.
    control_changed(change)
        Optional: react to one control (e.g. reset another) before the single update.

    The picture, in one of two forms:

    draw(fig)
        Draw everything into the (cleared) figure, on every update. Simple; 50-150 ms.
    scene() -> hashable, build(fig), refresh()
        ``build`` draws what depends only on ``scene()`` and registers the artists that
        move with :meth:`moving`; ``refresh`` updates those from ``self.values`` (and calls
        :meth:`restage` if it changed a static part). Both run with the course's style and
        may use the ``backproplab.plotting`` helpers with ``ax=``.

    Attributes
    ----------
    controls : dict name -> widget
    values : dict
        What the last update computed and the readout shows.
    image : ipywidgets.Image
        The picture (PNG bytes in ``image.value``; ``png`` gives them as ``bytes``). Its
        DOM classes include ``bpl-shows?<control>=<value>&...&frame=<n>&ms=<t>``: what it was
        drawn for (so a browser can tell which picture is on screen), its number, and the
        milliseconds its update took in the kernel (compute, draw, PNG).
    readout : ipywidgets.HTML
    widget : ExplorerWidget
        The box to display.
    update_seconds : float
        Wall time of the last update (compute + draw + PNG).
    n_updates : int
    n_backgrounds : int
        How many updates rendered the background (the others drew only what moves).
    error : Exception or None
        The exception of the last update, if it failed (shown in the readout too).
    """

    name = "explorer"
    title = ""
    question = ""
    look_for = ""
    live = False
    figsize = (9.6, 3.8)
    dpi = 80

    def __init__(self):
        self.values = {}
        self.from_browser = False  # True while a change made in the browser is applied
        self.error = None
        self.update_seconds = None
        self.n_updates = 0
        self.n_backgrounds = 0
        self._held = 0
        self._pending = False
        self._scene = self._background = None
        self._moving, self._sprites = [], {}
        self._restaged = False
        self.controls = self.make_controls()
        if self.live:
            for control in self.controls.values():
                if "continuous_update" in control.trait_names():
                    control.continuous_update = True
        # laid out by hand with subplots_adjust, even after plotting.use_style() turns on
        # constrained layout (which would warn on every redraw)
        self.fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="none")
        FigureCanvasAgg(self.fig)
        width_px = int(round(self.figsize[0] * self.dpi))
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{width_px}px", max_width="100%", height="auto"))
        self.image.add_class("bpl-image")
        self.readout = widgets.HTML(layout=widgets.Layout(min_height="3em"))
        self.readout.add_class("bpl-readout")
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

    def scene(self):
        return None

    build = None  # build(fig): see the class docstring; None = the draw(fig) form

    def refresh(self):
        pass

    def draw_over(self, renderer):
        """Optional: draw more over the background and the moving artists, each update
        (``artist.draw(renderer)``), e.g. restyled copies that cover what the background
        shows of them. Nothing by default."""

    def readout_html(self):
        return ""

    def control_rows(self):
        """Rows of controls shown above the picture (a list of lists of widgets)."""
        items = list(self.controls.values())
        return [items]

    def state(self):
        """What the picture is drawn for: {control name: value} (buttons left out)."""
        return {name: c.value for name, c in self.controls.items()
                if "value" in c.trait_names() and not isinstance(c, widgets.Button)}

    # -- layout -----------------------------------------------------------------------------
    def prompt_html(self):
        """The "predict first" question and what to look for, as HTML ('' if neither)."""
        parts = []
        if self.question:
            parts.append(f"<b>Predict first:</b> {self.question}")
        if self.look_for:
            parts.append(f"<b>Then look for:</b> {self.look_for}")
        return "<br>".join(parts)

    def children(self):
        kids = []
        if self.title:
            kids.append(widgets.HTML(f"<b>{html.escape(self.title)}</b>"))
        prompt = self.prompt_html()
        if prompt:
            box = widgets.HTML(f"<div style='line-height:1.35'>{prompt}</div>")
            box.add_class("bpl-prompt")
            kids.append(box)
        for row in self.control_rows():
            kids.append(widgets.HBox(row, layout=widgets.Layout(flex_flow="row wrap",
                                                                 align_items="center")))
        kids += [self.image, self.readout]
        return kids

    # -- drawing ----------------------------------------------------------------------------
    def moving(self, *artists):
        """Register artists that change while the scene stays (drawn on every update over
        the background). Returns them: ``line = self.moving(*ax.plot(...))`` (one artist),
        ``a, b = self.moving(a, b)``."""
        for artist in artists:
            if artist not in self._moving:
                self._moving.append(artist)
        return artists[0] if len(artists) == 1 else artists

    def forget(self, *artists):
        """Remove moving artists from the figure and from the registry."""
        for artist in artists:
            if artist in self._moving:
                self._moving.remove(artist)
            artist.remove()

    def restage(self):
        """Called from :meth:`refresh`: a static part changed (an axis range, a title of
        the scene), so this update renders the background again."""
        self._restaged = True

    def _overlay(self):
        """The artists drawn on every update, in drawing order: the moving ones, and each
        axes' static artists above its lowest moving one (but not the axes' background, axis
        ticks and titles: they lie under or outside the data area, so they stay in the
        background)."""
        moving = set(self._moving)
        out = []
        for ax in self.fig.axes:
            children = ax.get_children()
            mine = [a for a in children if a in moving]
            if not mine:
                continue
            outside = {ax.patch, ax.title, ax._left_title, ax._right_title}  # noqa: SLF001
            floor = min((a.get_zorder() for a in mine if a not in outside), default=np.inf)
            above = [a for a in children
                     if a in moving or (a.get_zorder() >= floor and a not in outside
                                        and not isinstance(a, Axis))]
            out += sorted(above, key=lambda a: a.get_zorder())
        placed = set(out)
        return out + [a for a in self._moving if a not in placed]  # figure-level texts

    def _render_scene(self):
        """Build / refresh, then draw the background (if needed) and the moving artists."""
        canvas = self.fig.canvas
        key = self.scene()
        fresh = self._background is None or key != self._scene
        if fresh:
            self.fig.clear()
            self._moving = []
            self.build(self.fig)
            self._scene = key
        self._restaged = False
        self.refresh()
        overlay = self._overlay()
        if fresh or self._restaged:
            # "animated" artists are left out of a full draw, but still take part in the
            # layout (a title keeps its place), unlike invisible ones
            was = [(a, a.get_animated()) for a in overlay]
            for a, _ in was:
                a.set_animated(True)
            try:
                canvas.draw()
            finally:
                for a, animated in was:
                    a.set_animated(animated)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._sprites = self._make_sprites([a for a in overlay if a not in self._moving])
            self.n_backgrounds += 1
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        gc = renderer.new_gc()
        for artist in overlay:
            if artist in self._sprites:
                if self._sprites[artist] is not None:
                    renderer.draw_image(gc, *self._sprites[artist])
            elif artist.get_visible():
                artist.draw(renderer)
        gc.restore()
        self.draw_over(renderer)

    def _make_sprites(self, artists):
        """{artist: (x, y, RGBA pixels) or None}: each static artist of the overlay drawn
        once, alone, on a transparent canvas and cropped to what it covers. Pasting these
        is much cheaper than drawing a legend or a scatter again on every update."""
        width, height = self.fig.canvas.get_width_height(physical=True)
        scratch = RendererAgg(width, height, self.fig.dpi)
        sprites = {}
        for artist in artists:
            sprites[artist] = None
            if not artist.get_visible():
                continue
            scratch.clear()
            artist.draw(scratch)
            rgba = np.asarray(scratch.buffer_rgba())
            # look for its pixels near where it says it is (antialiasing and markers may
            # spill over a little), or everywhere if it cannot say
            try:
                box = artist.get_window_extent(scratch)
                x0, x1 = int(box.x0) - 8, int(np.ceil(box.x1)) + 8
                y0, y1 = height - int(np.ceil(box.y1)) - 8, height - int(box.y0) + 8
            except Exception:  # noqa: BLE001 - any artist may refuse
                x0, x1, y0, y1 = 0, width, 0, height
            x0, y0 = max(x0, 0), max(y0, 0)
            x1, y1 = min(x1, width), min(y1, height)
            alpha = rgba[y0:y1, x0:x1, 3]
            rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
            if rows.size == 0:
                continue
            top, bottom = y0 + rows[0], y0 + rows[-1] + 1
            left, right = x0 + cols[0], x0 + cols[-1] + 1
            # draw_image takes the lower left corner, and the rows from the bottom up
            sprites[artist] = (int(left), int(height - bottom),
                               rgba[top:bottom, left:right][::-1].copy())
        return sprites

    def _render(self):
        """The picture for ``self.values``, as PNG bytes."""
        with matplotlib.rc_context(_course_style()):
            if self.build is None:
                self.fig.clear()
                self.draw(self.fig)
                self.fig.canvas.draw()
            else:
                self._render_scene()
        return _encode(self.fig.canvas)

    # -- updating ---------------------------------------------------------------------------
    def update(self):
        """Recompute from the controls, redraw the figure, refresh image and readout.

        Returns ``self.values``. Exceptions propagate (and are shown in the readout).
        """
        start = time.perf_counter()
        try:
            self.values = self.compute()
            png = self._render()
            took = 1e3 * (time.perf_counter() - start)  # compute, draw and PNG, in ms
            shows = urlencode({**self.state(), "frame": self.n_updates + 1,
                               "ms": f"{took:.1f}"})
            with self.image.hold_sync():  # picture and its label in one message
                self.image.value = png
                self.image._dom_classes = ("bpl-image", f"bpl-shows?{shows}")
            self.readout.value = self.readout_html()
        except Exception as err:
            self.error = err
            self._background = None  # a half-built scene is built again next time
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
        # ipywidgets holds a browser's new state (``_property_lock``) while applying it;
        # values set from code (tests, lessons) come without it
        owner = getattr(change, "owner", None)
        self.from_browser = bool(getattr(owner, "_property_lock", None))
        try:
            with self.hold():
                self._pending = True
                self.control_changed(change)
        finally:
            self.from_browser = False

    def run_soon(self, fn):
        """Call ``fn()`` from the kernel's event loop once the current message is done (and
        after messages already waiting). False (nothing scheduled) without a running loop:
        outside a kernel, or in code that is not driven by a browser's message."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        loop.call_soon(fn)
        return True

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
