"""Tests for backproplab.plotting: every helper on small inputs, checking what is drawn."""

import io
import math
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # before pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

import backproplab as bp  # noqa: E402
from backproplab import diagnostics, gradcheck, optim, train  # noqa: E402
from backproplab import plotting as P  # noqa: E402
from backproplab.plotting import _style  # noqa: E402
from backproplab.plotting.graph import BOX_H, ROW  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")  # a figure must draw without any warning


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(fig_or_ax):
    """Draw to PNG bytes (runs the whole drawing code path, e.g. layout and text)."""
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def assert_labelled(ax):
    assert ax.get_title(), "every panel needs a title"
    assert ax.get_xlabel(), "x axis needs a label"
    assert ax.get_ylabel(), "y axis needs a label"


def texts(ax):
    return [t.get_text() for t in ax.texts]


# --------------------------------------------------------------------------- packaging

def test_import_backproplab_does_not_import_pyplot():
    code = ("import backproplab, sys; assert 'matplotlib.pyplot' not in sys.modules; "
            "assert 'backproplab.plotting' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_plotting_defers_pyplot_until_a_figure_is_made():
    code = ("import backproplab.plotting, sys; assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_palette_is_okabe_ito_and_style_is_scoped():
    assert len(P.PALETTE) == 8 and P.PALETTE[0] == "#0072B2"
    before = dict(matplotlib.rcParams)
    P.plot_confusion_matrix([0, 1], [0, 1])
    assert matplotlib.rcParams["axes.prop_cycle"] == before["axes.prop_cycle"]
    with matplotlib.rc_context():
        P.use_style()
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        assert [c.upper() for c in colors] == list(P.PALETTE)


def test_helpers_keep_interactive_mode_and_backend_settings():
    """The style is undone key by key: settings a backend makes while the first figure is
    created (Jupyter's inline backend turns interactive mode on) must survive."""
    with matplotlib.rc_context():
        matplotlib.interactive(False)
        original = _style.pyplot().figure

        def figure_turning_interactive_on(*args, **kwargs):
            matplotlib.interactive(True)
            return original(*args, **kwargs)

        plt.figure = figure_turning_interactive_on
        try:
            P.plot_activation("relu")
        finally:
            plt.figure = original
        assert matplotlib.is_interactive()
        assert matplotlib.rcParams["axes.grid"] == matplotlib.rcParamsDefault["axes.grid"]


def test_same_figure_twice_gives_identical_png():
    h = _history()
    assert render(P.plot_history(h)) == render(P.plot_history(h))
    root = _expression()[0]
    assert render(P.draw_graph(root)) == render(P.draw_graph(root))


# --------------------------------------------------------------------------- activations

class Square:
    """A student's layer (not a Module subclass): f = x^2, f' = 2x."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return 2 * self.x * grad_out


def _f_lines(ax):
    """The curves drawn by plot_activation, without the axhline/axvline references."""
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


def test_plot_activation_panels_functions_and_derivatives():
    fig = P.plot_activation(["sigmoid", "tanh", "relu", "leaky_relu"], xlim=(-3, 3), n=61)
    axes = visible_axes(fig)
    assert len(axes) == 4
    for ax in axes:
        assert len(_f_lines(ax)) == 2  # f and f'
        assert ax.get_title() and ax.get_xlabel()
    assert axes[0].get_ylabel()
    x, s = _f_lines(axes[0])[0].get_data()
    _, ds = _f_lines(axes[0])[1].get_data()
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(ds, s * (1 - s))
    _, dleaky = _f_lines(axes[3])[1].get_data()
    assert set(np.round(dleaky, 12)) == {0.1, 1.0}
    render(fig)


def test_plot_activation_derivative_comes_from_the_layers_backward():
    fig = P.plot_activation(Square(), xlim=(-2, 2), n=41)
    ax = visible_axes(fig)[0]
    x, f = _f_lines(ax)[0].get_data()
    _, df = _f_lines(ax)[1].get_data()
    np.testing.assert_allclose(f, x ** 2)
    np.testing.assert_allclose(df, 2 * x)
    assert ax.get_title() == "Square"


def test_plot_activation_layer_instances_class_and_ax():
    fig, ax = plt.subplots()
    out = P.plot_activation([bp.Tanh(), bp.ReLU, bp.LeakyReLU(0.2)], ax=ax)
    assert out is fig
    assert len(_f_lines(ax)) == 6
    assert_labelled(ax)
    with pytest.raises(ValueError, match="unknown activation"):
        P.plot_activation("swishy")
    with pytest.raises(TypeError):
        P.plot_activation(3.0)


# --------------------------------------------------------------------------- history

def _history(with_val=True, with_acc=True):
    h = train.History()
    h.epochs = [1, 2, 3, 4, 5]
    h.train_loss = [1.0, 0.6, 0.4, 0.3, 0.25]
    h.batch_loss = list(np.linspace(1.2, 0.2, 20))
    if with_val:
        h.val_loss = [1.1, 0.7, 0.5, 0.55, 0.6]
    if with_acc:
        h.train_acc = [0.5, 0.7, 0.8, 0.85, 0.9]
        h.val_acc = [0.45, 0.65, 0.75, 0.74, 0.73] if with_val else []
    h._update_best()
    return h


def test_plot_history_marks_the_best_epoch_in_both_panels():
    h = _history()
    assert h.best_epoch == 3
    fig = P.plot_history(h)
    axes = visible_axes(fig)
    assert len(axes) == 2
    for ax in axes:
        assert_labelled(ax)
        labels = [ln.get_label() for ln in ax.get_lines()]
        assert "train" in labels and "validation" in labels
        best = [ln for ln in ax.get_lines() if ln.get_label() == "best epoch 3"]
        assert len(best) == 1
        assert list(best[0].get_xdata()) == [3, 3]
    star = [ln for ln in axes[0].get_lines() if ln.get_marker() == "*"]
    assert star[0].get_xdata()[0] == 3 and star[0].get_ydata()[0] == pytest.approx(0.5)
    train_line = next(ln for ln in axes[0].get_lines() if ln.get_label() == "train")
    np.testing.assert_allclose(train_line.get_ydata(), h.train_loss)
    assert fig.get_suptitle()
    render(fig)


def test_plot_history_regression_without_validation_has_one_panel():
    h = _history(with_val=False, with_acc=False)
    fig = P.plot_history(h.as_dict(), logy=True, batches=True)
    (ax,) = visible_axes(fig)
    assert ax.get_yscale() == "log"
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "batch loss" in labels and "validation" not in labels
    best = next(ln for ln in ax.get_lines() if ln.get_label().startswith("best epoch"))
    assert best.get_xdata()[0] == h.best_epoch == 5
    with pytest.raises(ValueError):
        P.plot_history(train.History())


def test_plot_history_of_a_real_fit():
    X, y = bp.data.make_moons(60, seed=0)
    bp.manual_seed(0)
    model = bp.Sequential(bp.Linear(2, 8), bp.Tanh(), bp.Linear(8, 2))
    h = train.fit(model, bp.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5),
                  (X, y), 6, val_data=(X, y), progress=False)
    fig = P.plot_history(h)
    assert len(visible_axes(fig)) == 2
    render(fig)


# --------------------------------------------------------------------------- decision boundary

class ModeSpy(bp.Module):
    """Logits (N, 2) = [-x1, x1]: class 1 right of x1 = 0. Records the mode it ran in."""

    def __init__(self):
        super().__init__()
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        x = np.asarray(x, dtype=float)
        return np.column_stack([-x[:, 0], x[:, 0]])


def _two_blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal((-2, 0), 0.3, (20, 2)), rng.normal((2, 0), 0.3, (20, 2))])
    return X, np.repeat([0, 1], 20)


def _pixel_centres(img):
    data = np.asarray(img.get_array())
    x0, x1, y0, y1 = img.get_extent()
    rows, cols = data.shape
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    return data, xs, ys


def test_decision_boundary_separates_a_separable_set_and_restores_mode():
    X, y = _two_blobs()
    model = ModeSpy()
    model.train()
    ax = P.plot_decision_boundary(model, X, y, resolution=50)
    assert model.training and model.modes and not any(model.modes)  # ran in eval, restored
    assert_labelled(ax)
    assert "100.0%" in ax.get_title()
    data, xs, ys = _pixel_centres(ax.images[0])
    assert data.shape == (50, 50)
    assert data[25, 0] == 0 and data[25, -1] == 1  # far left and far right differ
    np.testing.assert_array_equal(data, (xs[None, :] > 0).astype(int).repeat(50, axis=0))
    # the colours at the two far points differ too
    rgba = ax.images[0].to_rgba(data)
    assert not np.allclose(rgba[25, 0], rgba[25, -1])
    assert len(ax.collections) >= 2  # the boundary line and the class scatters
    render(ax)


def test_decision_boundary_single_logit_and_real_model():
    X, y = _two_blobs()
    lin = bp.Linear(2, 1)
    lin.W.data[:] = [[1.0], [0.0]]
    lin.b.data[:] = 0.0
    fig, ax = plt.subplots()
    out = P.plot_decision_boundary(lin, X, y.reshape(-1, 1).astype(float), ax=ax,
                                   resolution=30)
    assert out is ax
    data, xs, ys = _pixel_centres(ax.images[0])
    gx, gy = np.meshgrid(xs, ys)
    logits = lin(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    np.testing.assert_array_equal(data, (logits > 0).astype(int))


def test_decision_boundary_rejects_non_2d_inputs():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        P.plot_decision_boundary(ModeSpy(), np.zeros((4, 3)), [0, 1, 0, 1])


def test_probability_map_shows_softmax_of_the_logits_in_eval_mode():
    X, y = _two_blobs()
    model = ModeSpy()
    model.train()
    ax = P.plot_probability_map(model, X, y, resolution=40, title="sure")
    assert model.training and model.modes and not any(model.modes)  # ran in eval, restored
    assert_labelled(ax)
    assert ax.get_title() == "sure"
    data, xs, ys = _pixel_centres(ax.images[0])
    gx, gy = np.meshgrid(xs, ys)
    logits = model(np.column_stack([gx.ravel(), gy.ravel()]))
    np.testing.assert_allclose(data, bp.softmax(logits)[:, 1].reshape(gx.shape), rtol=1e-12)
    assert ax.images[0].get_clim() == (0, 1)
    assert len(ax.collections) >= 3  # the 0.5 line and the two classes
    render(ax)


def test_probability_map_single_logit_is_a_sigmoid_and_multiclass_is_refused():
    X, y = _two_blobs()
    lin = bp.Linear(2, 1)
    lin.W.data[:] = [[2.0], [0.0]]
    lin.b.data[:] = 0.5
    fig, ax = plt.subplots()
    assert P.plot_probability_map(lin, X, y, ax=ax, resolution=20) is ax
    data, xs, ys = _pixel_centres(ax.images[0])
    np.testing.assert_allclose(data, bp.sigmoid(2 * xs[None, :] + 0.5).repeat(20, axis=0))
    with pytest.raises(ValueError, match="binary classifier"):
        P.plot_probability_map(bp.Linear(2, 3), X, y)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        P.plot_probability_map(lin, np.zeros((4, 3)), [0, 1, 0, 1])


# --------------------------------------------------------------------------- loss surfaces

def test_loss_surface_1d_curve_and_path():
    path = np.array([2.0, 1.0, 0.5, 0.25])
    ax = P.plot_loss_surface(lambda w: w ** 2, xlim=(-2, 2), path=path)
    assert_labelled(ax)
    x, yv = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(yv, x ** 2)
    path_line = next(ln for ln in ax.get_lines() if ln.get_label() == "descent path")
    np.testing.assert_allclose(path_line.get_xdata(), path)
    np.testing.assert_allclose(path_line.get_ydata(), path ** 2)
    assert path_line.get_marker() == "o"
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 3  # one per step


def test_loss_surface_2d_contours_log_levels_and_path():
    calls = []

    def bowl(a, b):
        calls.append(np.shape(a))
        return a ** 2 + 10 * b ** 2

    path = [(1.5, 1.0), (1.2, 0.0), (0.9, 0.5), (0.0, 0.0)]
    ax = P.plot_loss_surface(bowl, xlim=(-2, 2), ylim=(-1, 1), path=path, log_levels=True,
                             levels=12, n=40)
    assert calls == [(40, 40)]  # evaluated once, vectorised over the grid
    assert_labelled(ax)
    contour = ax.collections[0]
    levels = contour.levels
    g = np.linspace(-2, 2, 40) ** 2
    assert len(levels) == 12 and levels[0] == pytest.approx(g.min() + 10 * (g / 4).min())
    gaps = np.diff(levels)
    assert np.all(np.diff(gaps) > 0)  # log-spaced: gaps grow
    path_line = next(ln for ln in ax.get_lines() if ln.get_label() == "descent path")
    np.testing.assert_allclose(np.column_stack(path_line.get_data()), path)
    assert len(ax.figure.axes) == 2  # with its colour bar
    render(ax)


def test_loss_surface_falls_back_to_pointwise_for_scalar_code():
    ax = P.plot_loss_surface(lambda w: math.exp(w) - 2 * w, xlim=(-1, 2), n=25)
    x, yv = ax.get_lines()[0].get_data()
    np.testing.assert_allclose(yv, np.exp(x) - 2 * x)
    ax2 = P.plot_loss_surface(lambda a, b: (bp.Value(a) * b).relu() + a * a, n=10)
    assert len(ax2.collections) >= 1
    with pytest.raises(ValueError, match="path"):
        P.plot_loss_surface(lambda a, b: a + b, path=[1.0, 2.0])


# --------------------------------------------------------------------------- graphs

def _expression():
    a, b = bp.Value(2.0, label="a"), bp.Value(-3.0, label="b")
    c, f = bp.Value(10.0, label="c"), bp.Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    return L, d, a


def _edges(order):
    return [(c, p) for p in order for c in p.children]


def test_graph_layout_places_every_node_children_left_of_parents():
    L, _, _ = _expression()
    pos = P.graph_layout(L)
    order = L.topological_order()
    assert set(pos) == set(order)
    for c, p in _edges(order):
        assert pos[c][0] < pos[p][0]
    assert len(set(pos.values())) == len(order)
    assert P.graph_layout(L) == pos  # deterministic


def test_graph_layout_of_thirty_nodes_has_no_overlapping_boxes():
    rng = np.random.default_rng(1)
    xs = [bp.Value(v, label=f"x{i}") for i, v in enumerate(rng.normal(size=4))]
    ws = [bp.Value(v, label=f"w{i}") for i, v in enumerate(rng.normal(size=4))]
    z = bp.Value.sum([x * w for x, w in zip(xs, ws)]) + bp.Value(0.5, label="b")
    h = z.tanh()
    out = (h - 1.0) ** 2 + (h * 2).exp().log() + h.sigmoid() * z
    out.backward()
    order = out.topological_order()
    assert 25 <= len(order) <= 35
    pos = P.graph_layout(out)
    for c, p in _edges(order):
        assert pos[c][0] < pos[p][0]
    by_column = {}
    for node, (x, y) in pos.items():
        by_column.setdefault(x, []).append(y)
    for ys in by_column.values():
        ys = sorted(ys)
        assert np.all(np.diff(ys) >= ROW - 1e-9) and ROW > BOX_H
    ax = P.draw_graph(out)
    render(ax)


def _box(ax, i):
    return next(p for p in ax.patches if p.get_gid() == f"node:{i}")


def test_draw_graph_texts_and_highlighted_node():
    L, d, a = _expression()
    order = L.topological_order()
    ax = P.draw_graph(L, highlight=a)
    assert ax.get_title() and ax.get_xlabel()
    boxes = [p for p in ax.patches if (p.get_gid() or "").startswith("node:")]
    ops = [p for p in ax.patches if (p.get_gid() or "").startswith("op:")]
    assert len(boxes) == len(order)
    assert len(ops) == sum(1 for n in order if n.children)
    joined = "\n".join(texts(ax))
    for node in order:
        assert f"data {node.data:.4g}" in joined and f"grad {node.grad:.4g}" in joined
        if node.label:
            assert node.label in texts(ax)
    for op in ("\u00d7", "+"):
        assert op in texts(ax)
    i = order.index(a)
    hot = _box(ax, i)
    normal = [_box(ax, j) for j in range(len(order)) if j != i]
    assert all(hot.get_linewidth() > b.get_linewidth() for b in normal)
    assert all(hot.get_edgecolor() != b.get_edgecolor() for b in normal)
    render(ax)


def test_draw_graph_highlighted_edge_shows_local_derivative():
    L, d, _ = _expression()
    order = L.topological_order()
    ax = P.draw_graph(L, highlight=(d, L))
    gid = f"edge:{order.index(d)}->{order.index(L)}"
    edges = [p for p in ax.patches if (p.get_gid() or "").startswith("edge:")]
    assert len(edges) == len(_edges(order))
    hot = next(p for p in edges if p.get_gid() == gid)
    assert hot.get_edgecolor() == pytest.approx(to_rgba(_style.ACCENT))
    assert all(hot.get_linewidth() > p.get_linewidth() for p in edges if p is not hot)
    assert "\u00d7-2" in texts(ax)  # dL/dd = f = -2
    with pytest.raises(ValueError):
        P.draw_graph(L, highlight=bp.Value(1.0))
    with pytest.raises(TypeError):
        P.draw_graph(3.0)


def test_draw_graph_into_given_axes_and_single_leaf():
    fig, ax = plt.subplots()
    assert P.draw_graph(bp.Value(3.0, label="x"), ax=ax) is ax
    assert "data 3" in "\n".join(texts(ax))


# --------------------------------------------------------------------------- gradient flow

def _trained_monitor():
    X, y = bp.data.make_moons(64, seed=0)
    bp.manual_seed(0)
    model = bp.Sequential(bp.Linear(2, 8), bp.Tanh(), bp.Linear(8, 8), bp.ReLU(),
                          bp.Linear(8, 2))
    mon = diagnostics.Monitor(model, every=2)
    train.fit(model, bp.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), 3,
              batch_size=16, callbacks=[mon], progress=False)
    return mon, model, X, y


def test_gradient_flow_from_a_dict_is_a_log_bar_chart():
    norms = {"0": 1e-6, "2": 1e-3, "4": 0.5}
    fig = P.plot_gradient_flow(norms)
    (ax,) = visible_axes(fig)
    assert_labelled(ax)
    assert ax.get_yscale() == "log"
    heights = [b.get_height() for b in ax.patches]
    np.testing.assert_allclose(heights, list(norms.values()))
    assert [t.get_text() for t in ax.get_xticklabels()] == list(norms)
    render(fig)


def test_gradient_flow_from_a_monitor_has_curves_over_time():
    mon, model, X, y = _trained_monitor()
    fig = P.plot_gradient_flow(mon)
    axes = visible_axes(fig)
    assert len(axes) == 2
    for ax in axes:
        assert_labelled(ax)
        assert ax.get_yscale() == "log"
    assert len(axes[0].patches) == 3  # the three Linear layers
    assert len(axes[1].get_lines()) == 3
    latest = mon.latest("grad_norm")
    np.testing.assert_allclose([b.get_height() for b in axes[0].patches], list(latest.values()))
    steps = axes[1].get_lines()[0].get_xdata()
    np.testing.assert_array_equal(steps, mon.steps)
    render(fig)


def test_gradient_flow_into_given_axes_draws_the_bar_chart_only():
    mon, *_ = _trained_monitor()
    fig, (ax, other) = plt.subplots(1, 2)
    assert P.plot_gradient_flow(mon, ax=ax, title="gradients") is fig
    assert len(ax.patches) == 3 and ax.get_yscale() == "log"
    assert ax.get_title() == "gradients" and not other.patches and len(fig.axes) == 2


def test_gradient_flow_from_gradient_norms_and_bad_input():
    _, model, X, y = _trained_monitor()
    norms = diagnostics.gradient_norms(model, bp.CrossEntropyLoss(), X, y)
    fig = P.plot_gradient_flow(norms)
    assert len(visible_axes(fig)[0].patches) == len(norms)
    with pytest.raises(TypeError, match="Monitor"):
        P.plot_gradient_flow(_history())
    fig = P.plot_gradient_flow({"0": 0.0, "1": 1e-2})  # a dead layer: written as 0
    assert "0" in texts(visible_axes(fig)[0])


# --------------------------------------------------------------------------- activation stats

def test_activation_stats_histograms_and_fractions():
    mon, model, X, y = _trained_monitor()
    fig = P.plot_activation_stats(mon)
    axes = visible_axes(fig)
    hist_axes, summary = axes[:-1], axes[-1]
    assert [ax.get_title() for ax in hist_axes] == ["1 Tanh", "3 ReLU"]
    assert_labelled(hist_axes[0])
    assert_labelled(summary)
    assert all(ax.get_title() and ax.get_xlabel() for ax in hist_axes)
    assert sum(p.get_height() for p in hist_axes[0].patches) == pytest.approx(1.0)  # fractions
    heights = [p.get_height() for p in summary.patches]
    assert heights == pytest.approx([mon.latest("saturated")["1"], mon.latest("dead")["3"]])
    fig = P.plot_activation_stats(mon, layers="all")
    assert len(visible_axes(fig)) == 5 + 1
    render(fig)


def _legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_activation_stats_legend_names_only_the_kinds_of_layer_present():
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.zeros((20, 3))
    legends = {}
    for label, act in [("sigmoid", bp.Sigmoid), ("relu", bp.ReLU)]:
        model = bp.Sequential(bp.Linear(2, 4), act(), bp.Linear(4, 4), act(), bp.Linear(4, 3))
        mon = diagnostics.Monitor(model).measure(bp.MSELoss(), X, y)
        legends[label] = _legend_texts(visible_axes(P.plot_activation_stats(mon))[-1])
    assert legends == {"sigmoid": ["saturated outputs (Sigmoid/Tanh)"],
                       "relu": ["dead units (ReLU)"]}
    mon, *_ = _trained_monitor()  # Tanh and ReLU: both entries
    assert _legend_texts(visible_axes(P.plot_activation_stats(mon))[-1]) == [
        "saturated outputs (Sigmoid/Tanh)", "dead units (ReLU)"]


def test_activation_stats_needs_recorded_activations():
    model = bp.Sequential(bp.Linear(2, 3), bp.ReLU())
    with pytest.raises(ValueError, match="measure"):
        P.plot_activation_stats(diagnostics.Monitor(model))
    mon = diagnostics.Monitor(model).measure(bp.MSELoss(), np.ones((4, 2)), np.zeros((4, 3)))
    assert len(visible_axes(P.plot_activation_stats(mon))) == 2


# --------------------------------------------------------------------------- gradcheck

class RowBugLinear(bp.Linear):
    """A wrong backward: row 1 of dW doubled (as a mis-indexed accumulation would do)."""

    def backward(self, grad_out, input_grad=True):
        dx = super().backward(grad_out, input_grad)
        self.W.grad[1] *= 2
        return dx


def test_plot_gradcheck_image_data_equals_rel_errors():
    x = np.random.default_rng(0).normal(size=(5, 4))
    report = gradcheck.check_layer(RowBugLinear(4, 3, rng=np.random.default_rng(1)), x)
    assert not report.passed
    fig = P.plot_gradcheck(report)
    axes = visible_axes(fig)
    assert len(axes) == len(report.rel_errors) == 3
    for ax, (name, rel) in zip(axes, report.rel_errors.items()):
        shown = np.ma.getdata(ax.images[0].get_array())
        np.testing.assert_array_equal(shown, rel.reshape(shown.shape))
        assert ax.images[0].norm.__class__.__name__ == "LogNorm"
        assert name in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    w_axis = axes[list(report.rel_errors).index("W")]
    shown = np.asarray(w_axis.images[0].get_array())
    assert np.all(shown[1] > report.tol) and np.all(np.delete(shown, 1, 0) <= report.tol)
    assert "FAIL" in w_axis.get_title() and "PASS" in axes[0].get_title()
    # the pattern is visible: failing cells get a different colour from passing ones
    rgba = w_axis.images[0].to_rgba(shown)
    assert not np.allclose(rgba[1, 0], rgba[0, 0])
    cbar = fig.axes[-1]
    assert any("tol" in t.get_text() for t in cbar.get_yticklabels())
    assert "FAILED" in fig.get_suptitle()
    render(fig)


def test_plot_gradcheck_sparse_fast_and_fake_reports():
    x = np.random.default_rng(0).normal(size=(6, 4))
    sparse = gradcheck.check_layer(bp.Linear(4, 3), x, mode="sparse", k=3)
    fig = P.plot_gradcheck(sparse)
    shown = fig.axes[0].images[0].get_array()
    assert np.ma.count_masked(shown) == 6 * 4 - 3  # unchecked entries are masked (grey)
    fast = gradcheck.check_layer(bp.Linear(4, 3), x, mode="fast")
    fig = P.plot_gradcheck(fast)
    assert any("fast" in t for t in texts(fig.axes[0]))

    class Fake:  # anything with rel_errors and tol
        tol = 1e-7
        rel_errors = {"W": np.array([[0.0, 1e-9], [np.inf, 1e-3]])}
    fig = P.plot_gradcheck(Fake())
    img = fig.axes[0].images[0]
    assert np.asarray(img.get_array())[1, 0] == 1.0  # inf drawn as the worst colour
    render(fig)


# --------------------------------------------------------------------------- images

def test_show_images_labels_and_wrong_predictions():
    _, y, images = bp.data.load_digits(return_images=True)
    images, y = images[:12], y[:12]
    pred = y.copy()
    pred[[2, 5]] = (y[[2, 5]] + 1) % 10
    fig = P.show_images(images, y, pred, ncols=6)
    axes = visible_axes(fig)
    assert len(axes) == 12
    assert all(len(ax.images) == 1 for ax in axes)
    wrong = [i for i, ax in enumerate(axes) if "true" in ax.get_title()]
    assert wrong == [2, 5]
    accent = to_rgba(_style.ACCENT)
    assert axes[2].title.get_color() == _style.ACCENT
    assert to_rgba(axes[2].spines["left"].get_edgecolor()) == accent
    assert to_rgba(axes[0].spines["left"].get_edgecolor()) != accent
    assert axes[0].get_title() == str(y[0])
    assert "2 of 12" in fig.get_suptitle()
    render(fig)


def test_show_images_flat_rows_and_logit_predictions():
    X, y = bp.data.load_digits()
    logits = np.eye(10)[y[:5]]
    fig = P.show_images(X[:5], y[:5], logits)
    axes = visible_axes(fig)
    assert len(axes) == 5 and axes[0].images[0].get_array().shape == (8, 8)
    assert fig.get_suptitle().startswith("Predictions: 0 of 5")
    with pytest.raises(ValueError, match="shape"):
        P.show_images(np.ones((3, 10)), None)


def test_plot_weights_as_images_one_picture_per_hidden_unit():
    W = np.random.default_rng(0).normal(size=(64, 12))
    fig = P.plot_weights_as_images(W, (8, 8), ncols=6)
    axes = [ax for ax in visible_axes(fig) if ax.images]
    assert len(axes) == 12
    for j, ax in enumerate(axes):
        img = ax.images[0]
        np.testing.assert_array_equal(img.get_array(), W[:, j].reshape(8, 8))
        lo, hi = img.get_clim()
        assert lo == -hi  # centred at 0
        assert img.get_cmap().name == _style.DIVERGING
        assert ax.get_title() == f"unit {j}"
    assert fig.get_suptitle()
    layer = bp.Linear(16, 5)
    fig = P.plot_weights_as_images(layer, (4, 4), scale="each")
    assert len([ax for ax in visible_axes(fig) if ax.images]) == 5
    with pytest.raises(ValueError):
        P.plot_weights_as_images(W, (7, 7))
    render(fig)


# --------------------------------------------------------------------------- confusion, fit

def test_confusion_matrix_counts():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 0, 2, 2, 1, 2]
    ax = P.plot_confusion_matrix(y_true, y_pred, classes=["a", "b", "c"])
    expected = np.array([[1, 1, 0], [1, 2, 0], [0, 1, 3]])
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert sorted(texts(ax)) == sorted(str(v) for v in expected.ravel())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert_labelled(ax)
    assert "66.7%" in ax.get_title()
    logits = np.eye(3)[y_pred] * 5
    ax2 = P.plot_confusion_matrix(y_true, logits, normalize=True)
    np.testing.assert_allclose(ax2.images[0].get_array(),
                               expected / expected.sum(axis=1, keepdims=True))
    render(ax)


def test_reliability_diagram_draws_each_bins_accuracy_and_gap():
    # 5 bins: (0.4, 0.6] one right at 0.55; (0.6, 0.8] one wrong at 0.65; (0.8, 1] three
    # at 0.95, 0.95, 1.0 of which two are right
    probs = np.column_stack([1 - np.array([0.55, 0.35, 0.95, 0.05, 1.0]),
                             [0.55, 0.35, 0.95, 0.05, 1.0]])
    y = np.ones(5, dtype=int)
    ax = P.plot_reliability_diagram(probs, y, n_bins=5)
    accuracy_bars, gap_bars = ax.containers[0], ax.containers[1]
    np.testing.assert_allclose([b.get_height() for b in accuracy_bars], [1, 0, 2 / 3])
    np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in accuracy_bars],
                               [0.5, 0.7, 0.9])
    conf = np.array([0.55, 0.65, 2.9 / 3])
    np.testing.assert_allclose([b.get_height() for b in gap_bars], np.abs(conf - [1, 0, 2 / 3]))
    np.testing.assert_allclose([b.get_y() for b in gap_bars], np.minimum(conf, [1, 0, 2 / 3]))
    shown = texts(ax)
    assert ["1", "1", "3"] == shown[:3]   # predictions per bar, over the bar or its gap
    np.testing.assert_allclose([t.get_position()[1] for t in ax.texts[:3]],
                               np.maximum(conf, [1, 0, 2 / 3]) + 0.015)
    ece = bp.metrics.expected_calibration_error(probs, y, n_bins=5)
    assert f"ECE {ece:.3f} (5 bins)" in shown[3] and "accuracy 0.600" in shown[3]
    assert f"mean confidence {probs.max(axis=1).mean():.3f}" in shown[3]
    assert_labelled(ax)
    render(ax)


def test_reliability_diagram_draws_into_given_axes_and_refuses_logits():
    fig, axes = plt.subplots(1, 2)
    probs = bp.softmax(np.random.default_rng(0).normal(size=(40, 3)), axis=1)
    y = np.random.default_rng(1).integers(0, 3, size=40)
    assert P.plot_reliability_diagram(probs, y, ax=axes[1], title="right") is axes[1]
    assert axes[1].get_title() == "right" and not axes[0].containers
    assert sum(len(b) for b in axes[1].containers[:1]) == np.count_nonzero(
        bp.metrics.calibration_bins(probs, y).counts)
    with pytest.raises(ValueError, match="softmax"):
        P.plot_reliability_diagram(np.log(probs), y)


def test_plot_fit_draws_model_predictions():
    x = np.linspace(-1, 1, 15)
    y = 2 * x + 0.1
    lin = bp.Linear(1, 1)
    lin.W.data[:] = 2.0
    lin.b.data[:] = 0.1
    lin.train()
    ax = P.plot_fit(x, y, lin, true_fn=lambda t: 2 * t + 0.1, val=(x[:3], y[:3]))
    assert lin.training
    assert_labelled(ax)
    model_line = next(ln for ln in ax.get_lines() if ln.get_label() == "model")
    xs, ys = model_line.get_data()
    np.testing.assert_allclose(ys, 2 * xs + 0.1)
    assert len(ax.collections) == 2  # train and validation points
    poly = bp.Linear(3, 1)
    ax2 = P.plot_fit(x, y, {"degree 3": poly, "zero": lambda t: 0 * t},
                     features=lambda t: bp.data.polynomial_features(t, 3))
    labels = [ln.get_label() for ln in ax2.get_lines()]
    assert labels == ["degree 3", "zero"]
    render(ax2)


# ----------------------------------------------------------------------------- sequences

def test_gradient_through_time_draws_each_curve_and_its_dashed_bound():
    k = np.arange(20)
    curves = {"rho 0.5": 0.5 ** k, "rho 2": 1.5 ** k}
    ax = P.plot_gradient_through_time(curves, bounds={"rho 0.5": 0.5 ** k, "rho 2": 2.0 ** k})
    render(ax)
    assert ax.get_yscale() == "log"
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--" and len(line.get_xdata())]
    assert [line.get_label() for line in solid] == list(curves)
    np.testing.assert_allclose(solid[1].get_ydata(), 1.5 ** k)
    np.testing.assert_allclose(dashed[1].get_ydata(), 2.0 ** k)
    assert to_rgba(solid[1].get_color()) == to_rgba(dashed[1].get_color())
    low, high = ax.get_ylim()   # the curves set the range, not the steeper bound
    assert low < 0.5 ** 19 and 1.5 ** 19 < high < 2.0 ** 19
    assert "bound" in [text.get_text() for text in ax.get_legend().get_texts()]


def test_gradient_through_time_skips_underflow_and_rejects_bad_input():
    ax = P.plot_gradient_through_time({"vanished": np.array([1.0, 1e-200, 0.0])})
    assert np.isnan(ax.lines[0].get_ydata()[2])
    with pytest.raises(ValueError, match="empty"):
        P.plot_gradient_through_time({})
    with pytest.raises(ValueError, match="no curve"):
        P.plot_gradient_through_time({"a": np.ones(3)}, bounds={"b": np.ones(3)})
