"""The six explorers, driven without a browser: move a control, check the numbers and the
picture they display (Agg backend; no pyplot figure may be left behind). How fast they update
is measured in ``benchmarks/explorers.py``, not here."""

import asyncio
import math
import warnings
from urllib.parse import parse_qsl

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ipywidgets as widgets  # noqa: E402

import backproplab as bpl  # noqa: E402
from backproplab.functional import sigmoid  # noqa: E402
from backproplab.widgets import (ExplorerWidget, backprop_stepper,  # noqa: E402
                                 figure_to_png, learning_rate_explorer, neuron_playground,
                                 overfitting_explorer, rnn_gradient_explorer,
                                 vanishing_gradient_explorer)
from backproplab.widgets.learning_rate import SURFACES, descend  # noqa: E402
from backproplab.widgets.loss_landscape import (LossLandscapeExplorer,  # noqa: E402
                                                default_data, landscape,
                                                loss_landscape_explorer)
from backproplab.widgets.stepper import backward_steps, default_expression  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
EXPLORERS = {
    "neuron-playground": neuron_playground,
    "learning-rate-explorer": learning_rate_explorer,
    "backprop-stepper": backprop_stepper,
    "vanishing-gradient-explorer": vanishing_gradient_explorer,
    "overfitting-explorer": overfitting_explorer,
    "loss-landscape-explorer": loss_landscape_explorer,
    "rnn-gradient-explorer": rnn_gradient_explorer,
}


@pytest.fixture(autouse=True)
def _strict_warnings():
    """Any warning (RuntimeWarning overflow, matplotlib, ipywidgets deprecation) fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """Explorers draw into their own Figure: pyplot's list of figures stays empty."""
    yield
    import sys
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        assert plt.get_fignums() == [], "an explorer left a pyplot figure open"


def _changed(ex, control, value):
    """Set a control; return (old values, old image bytes) for comparison."""
    before_values, before_image = dict(ex.values), ex.png
    ex.controls[control].value = value
    assert ex.error is None
    return before_values, before_image


# ------------------------------------------------------------------------- every explorer

@pytest.mark.parametrize("name", EXPLORERS)
def test_explorer_widget_contract(name):
    w = EXPLORERS[name]()
    assert isinstance(w, ExplorerWidget)
    assert {"bpl-explorer", f"bpl-{name}"} <= set(w._dom_classes)
    ex = w.explorer
    assert w.controls is ex.controls and w.values is ex.values and w.image is ex.image
    assert ex.png.startswith(PNG) and ex.image.format == "png"
    assert ex.readout.value and ex.n_updates == 1
    assert ex.image in w.children and ex.readout in w.children
    # displayable as a widget (what JupyterLab renders)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # every control is inside the box, and sliders only recompute on release
    shown = set()
    stack = list(w.children)
    while stack:
        item = stack.pop()
        shown.add(item)
        stack.extend(getattr(item, "children", ()))
    assert set(ex.controls.values()) <= shown
    # live: every slider recomputes while it is dragged
    for c in ex.controls.values():
        if hasattr(c, "continuous_update"):
            assert c.continuous_update is True, c.description
    # "predict first" and what to look for, in the widget itself
    prompt = next(k for k in w.children if "bpl-prompt" in k._dom_classes)
    assert "Predict first:" in prompt.value and "Then look for:" in prompt.value
    assert ex.question.rstrip(".?").split()[-1] in prompt.value


@pytest.mark.parametrize("name", EXPLORERS)
def test_the_picture_says_what_it_shows(name):
    """The image's DOM class names the control values it was drawn for and its frame
    number, set in the same message as the picture (the browser test reads it)."""
    ex = EXPLORERS[name]().explorer
    first = _shows(ex)
    assert first["frame"] == "1"
    if ex.controls.get("next") is not None:
        ex.controls["next"].click()
    else:
        control = next(c for c in ex.controls.values() if hasattr(c, "continuous_update")
                       and not c.disabled)
        control.value = _drag_values(control)[0]
    shows = _shows(ex)
    assert shows["frame"] == "2" and ex.n_updates == 2 and shows != first
    assert float(shows.pop("ms")) > 0 and shows.pop("frame") == "2"
    assert shows == {k: str(v) for k, v in ex.state().items()}


def _shows(ex):
    tag = next(c for c in ex.image._dom_classes if c.startswith("bpl-shows?"))
    return dict(parse_qsl(tag.split("?", 1)[1]))


def _drag_values(control, steps=6):
    """The values a short drag to the right (or left, at the end) passes through."""
    options = getattr(control, "options", None)
    if options is not None:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        i = values.index(control.value)
        return values[i + 1:i + 1 + steps] or values[max(0, i - steps):i][::-1]
    step = control.step
    if isinstance(control, widgets.FloatLogSlider):
        base = math.log10(control.value)
        return [10 ** (base + k * step) for k in range(1, steps + 1)]
    sign = 1 if control.value + steps * step <= control.max else -1
    return [control.value + sign * k * step for k in range(1, steps + 1)]


def _full_redraw(ex):
    """The explorer's figure drawn from scratch, as it stands (all artists)."""
    from PIL import Image
    import io
    ex.fig.canvas.draw()
    return np.asarray(Image.open(io.BytesIO(figure_to_png(ex.fig)))).astype(int)


@pytest.mark.parametrize("name", EXPLORERS)
def test_drawing_only_what_moves_gives_the_full_picture(name):
    """Each update draws the moving artists over a saved background. After a drag of
    every control, that picture must look like the whole figure drawn from scratch (only
    antialiased edges drawn twice may differ by a shade): nothing that changed was left in
    the background."""
    from PIL import Image
    import io
    ex = EXPLORERS[name]().explorer
    if name == "overfitting-explorer":
        ex.controls["n_train"].value = 20
        ex.set(model="MLP", hidden=8)
    for key, control in ex.controls.items():
        if isinstance(control, widgets.Button):
            if key == "next":
                for _ in range(4):
                    control.click()
            continue
        if not hasattr(control, "continuous_update") or control.disabled:
            continue
        for value in _drag_values(control, 3):
            control.value = value
    assert ex.n_backgrounds < ex.n_updates  # most updates drew only what moves
    shown = np.asarray(Image.open(io.BytesIO(ex.png))).astype(int)
    full = _full_redraw(ex)
    assert shown.shape == full.shape
    differ = np.abs(shown - full).max(axis=2) > 60
    assert differ.mean() < 0.002, f"{differ.sum()} pixels differ"


def test_hold_gives_one_update():
    ex = neuron_playground().explorer
    n = ex.n_updates
    ex.set(w1=0.5, w2=0.25, b=-1.0)
    assert ex.n_updates == n + 1
    assert (ex.values["w1"], ex.values["w2"], ex.values["b"]) == (0.5, 0.25, -1.0)


def test_error_is_shown_and_raised(monkeypatch):
    ex = neuron_playground().explorer

    def broken():
        raise ValueError("boom")
    monkeypatch.setattr(ex, "compute", broken)
    with pytest.raises(ValueError, match="boom"):
        ex.controls["w1"].value = 3.0
    assert "boom" in ex.readout.value and ex.error is not None


# ----------------------------------------------------------------------------- neuron

def test_neuron_output_is_activation_of_weighted_sum():
    ex = neuron_playground().explorer
    _, image = _changed(ex, "w1", 2.0)
    v = ex.values
    z = 2.0 * v["x1"] + v["w2"] * v["x2"] + v["b"]
    assert v["z"] == pytest.approx(z)
    assert v["output"] == pytest.approx(float(sigmoid(z)))
    assert ex.png != image
    assert f"{v['output']:.4g}" in ex.readout.value


@pytest.mark.parametrize("activation, f", [
    ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
    ("tanh", math.tanh),
    ("relu", lambda z: max(z, 0.0)),
    ("leaky relu", lambda z: z if z > 0 else 0.1 * z),
    ("linear", lambda z: z),
])
def test_neuron_activations(activation, f):
    ex = neuron_playground().explorer
    for w1, w2, b, x1, x2 in [(1.5, -2.0, 0.3, 1.0, 1.0), (-0.7, 0.4, -1.2, 2.0, -0.5)]:
        ex.set(activation=activation, w1=w1, w2=w2, b=b, x1=x1, x2=x2)
        z = w1 * x1 + w2 * x2 + b
        assert ex.values["z"] == pytest.approx(z)
        assert ex.values["output"] == pytest.approx(f(z))
        # the heat map is the same function over the plane
        g = ex.grid
        assert ex.a_plane[0, -1] == pytest.approx(f(w1 * g[-1] + w2 * g[0] + b))


def test_neuron_boundary_line():
    ex = neuron_playground().explorer
    ex.set(w1=2.0, w2=-1.0, b=1.0)
    assert ex.values["slope"] == pytest.approx(2.0)
    assert ex.values["intercept"] == pytest.approx(1.0)
    ex.set(w2=0.0)
    assert ex.values["slope"] is None and "vertical" in ex.readout.value
    ex.set(w1=0.0)
    assert "same everywhere" in ex.readout.value


# ----------------------------------------------------------------------------- learning rate

def test_gradient_from_backprop_matches_calculus():
    s = SURFACES["Rosenbrock-like valley"]
    f, g = s.value_and_grad(-0.5, 0.8)
    x, y = -0.5, 0.8
    assert f == pytest.approx((1 - x) ** 2 + 10 * (y - x * x) ** 2)
    assert g == pytest.approx([-2 * (1 - x) - 40 * x * (y - x * x), 20 * (y - x * x)])


def test_tiny_learning_rate_crawls():
    ex = learning_rate_explorer().explorer
    ex.set(lr=1e-4, steps=50)
    v = ex.values
    assert not v["diverged"] and v["steps_run"] == 50
    assert v["moved"] < 0.1  # of the 2.9 to the minimum
    assert v["loss_end"] < v["loss_start"]
    assert "crawling" in v["status"]


def test_huge_learning_rate_diverges_without_warnings():
    ex = learning_rate_explorer().explorer
    before = ex.png
    ex.controls["lr"].value = 3.0  # > 2/λmax = 0.2 for the ill-conditioned quadratic
    v = ex.values
    assert v["diverged"] and v["diverged_at"] is not None
    assert v["steps_run"] < v["steps"]
    assert "diverged" in ex.readout.value
    assert np.isfinite(v["path"]).all() and np.isfinite(v["losses"]).all()
    assert ex.png != before
    assert v["lr_max"] == pytest.approx(0.2, rel=1e-4)


def test_slowly_diverging_learning_rate_is_called_diverging_not_crawling():
    # lr 0.205 is just above 2/λmax = 0.2: the loss grows, but stays below BLOW_UP for 60 steps
    ex = learning_rate_explorer().explorer
    ex.set(lr=0.205, steps=60)
    v = ex.values
    assert not v["diverged"] and v["loss_end"] > v["loss_start"]
    assert v["status"].startswith("diverging") and "Lower the learning rate" in v["status"]


def test_good_learning_rate_converges_and_momentum_changes_the_path():
    ex = learning_rate_explorer().explorer
    ex.set(lr=0.15, steps=200)
    assert ex.values["loss_end"] < 1e-6 and "converged" in ex.values["status"]
    path = ex.values["path"].copy()
    ex.controls["momentum"].value = 0.9
    assert not np.allclose(ex.values["path"][:20], path[:20])
    # momentum widens the stable range: 2 (1 + 0.9) / 10
    assert ex.values["lr_max"] == pytest.approx(0.38, rel=1e-4)


def test_steps_slider_and_surface_dropdown():
    ex = learning_rate_explorer().explorer
    ex.controls["steps"].value = 5
    assert len(ex.values["path"]) == 6
    ex.controls["surface"].value = "Rosenbrock-like valley"
    assert ex.controls["lr"].value == pytest.approx(SURFACES["Rosenbrock-like valley"].default_lr)
    assert ex.values["surface"] == "Rosenbrock-like valley"
    np.testing.assert_allclose(ex.values["path"][0], SURFACES["Rosenbrock-like valley"].start)


def test_descend_matches_hand_written_gradient_descent():
    s = SURFACES["ill-conditioned quadratic"]
    path, losses, diverged = descend(s, lr=0.05, steps=10, momentum=0.5)
    p, v = np.array(s.start), None
    for _ in range(10):
        g = np.array([p[0], 10 * p[1]])
        v = g if v is None else 0.5 * v + g
        p = p - 0.05 * v
    np.testing.assert_allclose(path[-1], p)
    assert diverged is None


# ----------------------------------------------------------------------------- stepper

def _fresh_reference():
    o = default_expression()
    o.backward()
    return {v.label: v.grad for v in o.topological_order()}


def test_stepper_walks_to_backward():
    ex = backprop_stepper().explorer
    assert ex.values["step"] == 0 and ex.values["grads"] == {}
    assert ex.n_steps == 10
    images = {ex.png}
    for k in range(1, ex.n_steps + 1):
        ex.controls["next"].click()
        assert ex.values["step"] == k and len(ex.values["grads"]) == k
        images.add(ex.png)
    assert len(images) == ex.n_steps + 1  # every step draws a different picture
    ref = _fresh_reference()
    assert ex.values["grads"].keys() == ref.keys()
    for name, g in ref.items():
        assert ex.values["grads"][name] == pytest.approx(g, abs=1e-12)
    assert ex.values["matches_backward"] is True
    assert "backward" in ex.readout.value
    ex.controls["next"].click()  # past the end: stays
    assert ex.values["step"] == ex.n_steps


def test_stepper_text_shows_the_chain_rule():
    ex = backprop_stepper().explorer
    ex.controls["next"].click()
    assert ex.values["current"] == "o" and ex.values["grads"] == {"o": 1.0}
    ex.controls["next"].click()
    assert ex.values["current"] == "n"
    text = ex.values["text"]
    assert "d o/d n = 1 - tanh(n)^2" in text and "= 0.5" in text
    assert "n.grad = o.grad × d o/d n = 1 × 0.5 = 0.5" in text
    assert ex.values["grads"]["n"] == pytest.approx(0.5)
    # x1's gradient: w1 * x1w1.grad = -3 * 0.5
    while ex.values["current"] != "x1":
        ex.controls["next"].click()
    assert "d x1w1/d x1 = w1 = -3" in ex.values["text"]
    assert ex.values["grads"]["x1"] == pytest.approx(-1.5)


def test_stepper_back_and_reset_restore():
    ex = backprop_stepper().explorer
    snapshots = [(dict(ex.values["grads"]), ex.values["text"], ex.png)]
    for _ in range(4):
        ex.controls["next"].click()
        snapshots.append((dict(ex.values["grads"]), ex.values["text"], ex.png))
    for k in range(3, -1, -1):
        ex.controls["back"].click()
        assert ex.values["step"] == k
        assert (ex.values["grads"], ex.values["text"], ex.png) == snapshots[k]
    ex.controls["back"].click()
    assert ex.values["step"] == 0
    for _ in range(3):
        ex.controls["next"].click()
    ex.controls["reset"].click()
    assert ex.values["step"] == 0 and ex.values["grads"] == {}
    assert ex.png == snapshots[0][2]


def test_stepper_leaves_the_expression_grads_alone():
    o = default_expression()
    ex = backprop_stepper(o).explorer
    for _ in range(ex.n_steps):
        ex.controls["next"].click()
    assert all(v.grad == 0.0 for v in o.topological_order())


def test_stepper_custom_expression_with_reuse():
    a = bpl.Value(1.5, label="a")
    b = bpl.Value(-2.0, label="b")
    y = (a * a + a * b).sigmoid() / b - (a ** 3).exp() * 0.1  # a used four times
    ex = backprop_stepper(y).explorer
    for _ in range(ex.n_steps):
        ex.controls["next"].click()
    y.backward()
    assert ex.values["grads"]["a"] == pytest.approx(a.grad)
    assert ex.values["grads"]["b"] == pytest.approx(b.grad)
    assert ex.values["matches_backward"] is True
    # a's step lists every use and adds them
    ex.go([s["node"] for s in ex.steps].index(a) + 1)
    assert ex.values["current"] == "a" and "add up" in ex.values["text"]


def test_stepper_rejects_non_values():
    with pytest.raises(TypeError, match="Value"):
        backprop_stepper(3.0)


def test_backward_steps_is_reverse_topological():
    o = default_expression()
    steps = backward_steps(o)
    seen = set()
    for s in steps:  # every user of a node is done before the node
        for parent, *_ in s["terms"]:
            assert parent in seen
        seen.add(s["node"])


# ----------------------------------------------------------------------------- vanishing

def test_sigmoid_gradients_vanish_relu_he_does_not():
    ex = vanishing_gradient_explorer().explorer
    ex.set(depth=20, activation="sigmoid", init="Xavier")
    sig = ex.values["ratio"]
    assert sig < 1e-3
    assert len(ex.values["grad_norms"]) == 20  # depth counts Linear layers
    assert len(ex.values["act_spread"]) == 19  # the hidden layers' outputs
    assert "vanishing" in ex.readout.value
    image = ex.png
    ex.set(activation="ReLU", init="He")
    relu = ex.values["ratio"]
    assert relu > 1e3 * sig and relu > 1e-2
    assert ex.png != image


def test_vanishing_verdicts():
    ex = vanishing_gradient_explorer().explorer
    ex.set(depth=30, activation="tanh", init="small normal (std 0.01)")
    assert ex.values["grad_norms"].max() < 1e-6 and "everything vanished" in ex.readout.value
    ex.set(activation="ReLU", init="He", residual=True)
    assert ex.values["grad_norms"].max() > 1e3 and "exploding" in ex.readout.value
    ex.set(residual=False)
    assert "healthy" in ex.readout.value


def test_residual_and_batchnorm_help_sigmoid():
    ex = vanishing_gradient_explorer().explorer
    ex.set(depth=20, activation="sigmoid", init="Xavier")
    plain = ex.values["ratio"]
    ex.controls["residual"].value = True
    assert ex.values["ratio"] > 1e3 * plain
    ex.controls["residual"].value = False
    ex.controls["batchnorm"].value = True
    assert ex.values["ratio"] > 1e3 * plain


def test_vanishing_numbers_are_the_library_gradients():
    from backproplab.diagnostics import gradient_norms
    from backproplab.widgets.vanishing import build_network
    ex = vanishing_gradient_explorer().explorer
    ex.set(depth=5, activation="tanh", init="Xavier", batchnorm=True)
    model = build_network(5, "tanh", "Xavier", batchnorm=True)
    norms = gradient_norms(model, bpl.CrossEntropyLoss(), ex.X, ex.y)
    linear = [norms[name] for name, m in model.named_modules() if isinstance(m, bpl.Linear)]
    np.testing.assert_allclose(ex.values["grad_norms"], linear, rtol=1e-12)


def test_vanishing_is_seeded():
    a, b = vanishing_gradient_explorer().explorer, vanishing_gradient_explorer().explorer
    for ex in (a, b):
        ex.set(depth=12, activation="tanh", init="small normal (std 0.01)")
    assert a.png == b.png
    np.testing.assert_array_equal(a.values["grad_norms"], b.values["grad_norms"])


# ----------------------------------------------------------------------------- overfitting

def test_high_degree_overfits():
    ex = overfitting_explorer().explorer
    ex.controls["degree"].value = 1
    low = dict(ex.values)
    _, image = _changed(ex, "degree", 15)
    high = ex.values
    assert high["train_mse"] < low["train_mse"]
    assert high["val_mse"] > high["train_mse"]
    assert high["val_mse"] > low["val_mse"]
    assert ex.png != image
    # the U-curve: training error falls with the degree, validation error has an inner minimum
    assert high["curve_train"][-1] < high["curve_train"][0]
    best = int(np.argmin(high["curve_val"]))
    assert 0 < best < len(high["curve_val"]) - 1


def test_more_data_and_l2_tame_the_high_degree_fit():
    ex = overfitting_explorer().explorer
    ex.set(degree=15, n_train=15)
    wild = ex.values["val_mse"]
    ex.controls["n_train"].value = 100
    assert ex.values["val_mse"] < wild / 10
    ex.set(n_train=15, l2=1e-3)
    assert ex.values["val_mse"] < wild / 10
    assert ex.values["train_mse"] > 1e-6  # no longer interpolating


def test_polynomial_fit_is_least_squares():
    from backproplab.data import polynomial_features
    from backproplab.widgets.overfitting import fit_polynomial
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 40)
    y = 1 - 2 * x + 0.5 * x ** 3 + 0.01 * rng.normal(size=40)
    layer = fit_polynomial(x, y, 3)
    np.testing.assert_allclose(layer.W.data[:, 0], np.polyfit(x, y, 3)[::-1][1:], atol=1e-8)
    # ridge: the gradient of mean((p - y)^2) + (l2/2)|w|^2 vanishes at the solution
    layer = fit_polynomial(x, y, 5, l2=0.1)
    F = polynomial_features(x, 5)
    r = layer(F)[:, 0] - y
    assert np.allclose(2 * F.T @ r / len(x) + 0.1 * layer.W.data[:, 0], 0, atol=1e-10)
    assert abs(2 * r.mean()) < 1e-10


def test_mlp_mode_trains_a_network():
    ex = overfitting_explorer().explorer
    assert ex.controls["hidden"].disabled and not ex.controls["degree"].disabled
    before = ex.png
    ex.controls["model"].value = "MLP"
    assert ex.controls["degree"].disabled and not ex.controls["hidden"].disabled
    v = ex.values
    assert v["model"] == "MLP" and len(v["curve_train"]) == len(v["curve_epochs"]) > 10
    assert v["curve_train"][-1] < v["curve_train"][0]  # it learned
    assert v["train_mse"] < 0.2
    assert ex.png != before
    ex.controls["hidden"].value = 4
    assert ex.values["hidden"] == 4 and ex.values["train_mse"] != v["train_mse"]
    ex.controls["dropout"].value = 0.3
    assert ex.values["dropout"] == 0.3


# -- the loss-landscape explorer (lesson 02) ----------------------------------------------------

def _mse(w, b, x, y):
    return float(np.mean((w * x + b - y) ** 2))


def test_widget_contract():
    w = loss_landscape_explorer()
    assert isinstance(w, ExplorerWidget)
    assert {"bpl-explorer", "bpl-loss-landscape-explorer"} <= set(w._dom_classes)
    ex = w.explorer
    assert isinstance(ex, LossLandscapeExplorer)
    assert bytes(ex.image.value).startswith(PNG) and ex.n_updates == 1
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()
    for c in ex.controls.values():
        if hasattr(c, "continuous_update"):
            assert c.continuous_update is True


def test_moving_the_slope_slider_shows_the_right_loss():
    ex = loss_landscape_explorer().explorer
    x, y = (a.ravel() for a in default_data())
    before_loss, before_image = ex.values["loss"], ex.image.value
    ex.controls["w"].value = 2.0
    v = ex.values
    assert v["w"] == 2.0 and ex.error is None
    assert v["loss"] == pytest.approx(_mse(2.0, v["b"], x, y), rel=1e-12)
    assert v["loss"] == pytest.approx(bpl.MSELoss()((2.0 * x + v["b"])[:, None], y[:, None]))
    assert v["loss"] != pytest.approx(before_loss)
    assert ex.image.value != before_image
    assert f"{v['loss']:.4g}" in ex.readout.value  # the number on screen


def test_moving_the_intercept_slider_shows_the_right_loss():
    ex = loss_landscape_explorer().explorer
    x, y = (a.ravel() for a in default_data())
    ex.set(w=1.5, b=-0.5)
    assert ex.values["loss"] == pytest.approx(_mse(1.5, -0.5, x, y), rel=1e-12)
    ex.controls["b"].value = 0.75
    assert ex.values["loss"] == pytest.approx(_mse(1.5, 0.75, x, y), rel=1e-12)


def test_mae_and_its_gradient():
    ex = loss_landscape_explorer().explorer
    x, y = (a.ravel() for a in default_data())
    ex.set(loss="MAE", w=1.0, b=0.3)
    r = 1.0 * x + 0.3 - y
    v = ex.values
    assert v["loss"] == pytest.approx(np.mean(np.abs(r)))
    assert v["dL_dw"] == pytest.approx(np.mean(np.sign(r) * x))
    assert v["dL_db"] == pytest.approx(np.mean(np.sign(r)))


def test_gradient_is_the_slope_of_the_landscape():
    ex = loss_landscape_explorer().explorer
    ex.set(w=0.4, b=1.2)
    x, y = ex.data()
    h = 1e-6
    num_w = (landscape(x, y, "MSE", 0.4 + h, 1.2) - landscape(x, y, "MSE", 0.4 - h, 1.2)) / (2 * h)
    num_b = (landscape(x, y, "MSE", 0.4, 1.2 + h) - landscape(x, y, "MSE", 0.4, 1.2 - h)) / (2 * h)
    assert ex.values["dL_dw"] == pytest.approx(float(num_w), rel=1e-6)
    assert ex.values["dL_db"] == pytest.approx(float(num_b), rel=1e-6)


def test_minimum_is_least_squares_and_the_outlier_drags_mse_more_than_mae():
    ex = loss_landscape_explorer().explorer
    x, y = ex.data()
    slope, intercept = np.polyfit(x, y, 1)
    step = 8.0 / 160  # the explorer's grid spacing in w
    assert ex.values["w_best"] == pytest.approx(slope, abs=step)
    assert ex.values["b_best"] == pytest.approx(intercept, abs=step)
    shift = {}
    for kind in ("MSE", "MAE"):
        ex.set(loss=kind, outlier=False)
        clean = ex.values["w_best"]
        ex.set(outlier=True)
        assert ex.values["n"] == len(x) + 1
        shift[kind] = abs(ex.values["w_best"] - clean)
    assert shift["MSE"] > 3 * shift["MAE"]


def test_custom_data_and_bad_input():
    x = np.linspace(-1, 1, 9)
    ex = loss_landscape_explorer(x, 3 * x - 1, w=3.0, b=-1.0).explorer
    assert ex.values["loss"] == pytest.approx(0.0, abs=1e-24)
    assert ex.values["dL_dw"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        loss_landscape_explorer(x, None)
    with pytest.raises(ValueError):
        loss_landscape_explorer(loss="hinge")


# -- live updates: latest wins -------------------------------------------------------------

def _browser_moves(control, value):
    """Apply a value the way ipywidgets applies one that a browser sent (``set_state``:
    the new state is held in ``_property_lock`` while observers run)."""
    control.set_state({"value": value})


def test_moves_from_code_train_to_the_end_even_inside_an_event_loop():
    async def main():
        ex = overfitting_explorer().explorer
        ex.set(model="MLP", hidden=4)
        return ex.values
    v = asyncio.run(main())
    assert v["epoch"] == 400 and v["training"] is False


def test_mlp_moved_in_a_browser_trains_in_steps_and_the_latest_setting_wins():
    reference = overfitting_explorer().explorer
    reference.set(model="MLP", hidden=4, n_train=21)
    expected = reference.values

    async def main():
        ex = overfitting_explorer().explorer
        ex.set(model="MLP", hidden=4)
        start = ex.n_updates
        _browser_moves(ex.controls["n_train"], 20)
        first = dict(ex.values)
        _browser_moves(ex.controls["n_train"], 21)  # the hand moves on before 20 is done
        second = dict(ex.values)
        for _ in range(2000):  # the event loop trains the rest, a step per picture
            await asyncio.sleep(0)
            if not ex.values["training"]:
                break
        return ex, start, first, second

    ex, start, first, second = asyncio.run(main())
    # each move answered at once with a part of the run, and shown
    assert first["training"] and first["n_train"] == 20 and 0 < first["epoch"] < 400
    assert second["training"] and second["n_train"] == 21 and second["epoch"] < 400
    # then only the latest setting was trained on, to the end, in several pictures
    v = ex.values
    assert v["n_train"] == 21 and v["epoch"] == 400 and not v["training"]
    assert ex.n_updates - start > 3
    assert (20, 4, 0.0, 0.0) not in ex._runs  # the abandoned run was not finished
    # exactly the run that code gets in one go
    assert v["train_mse"] == expected["train_mse"] and v["val_mse"] == expected["val_mse"]
    np.testing.assert_array_equal(v["curve_val"], expected["curve_val"])
    assert ex.png == reference.png
    assert f"training: epoch" not in ex.readout.value
    # back to a finished setting: no training at all
    _browser_moves(ex.controls["n_train"], 21)
    assert ex.values["epoch"] == 400


def test_slider_moves_outside_a_kernel_are_applied_at_once():
    ex = overfitting_explorer().explorer
    ex.set(model="MLP", hidden=4)
    _browser_moves(ex.controls["n_train"], 20)  # no event loop: nothing to defer to
    assert ex.values["epoch"] == 400 and ex.values["n_train"] == 20


# -- drawing helpers ----------------------------------------------------------------------

def test_nice_ceiling_and_steady_log_range():
    from backproplab.widgets._base import nice_ceiling, steady_log_range
    assert [nice_ceiling(x) for x in (0.3, 1.0, 1.01, 2.5, 11, 100.0001)] == [
        0.5, 1.0, 2.0, 5.0, 20.0, 200.0]
    assert nice_ceiling(11, (1, 1.5, 2, 3, 5, 7)) == 15.0
    with pytest.raises(ValueError):
        nice_ceiling(0.0)
    lo, hi = steady_log_range([1e-3, 10.0])
    assert lo <= 1e-3 and hi >= 10 and lo < 1e-3 and hi > 10  # room on both sides
    assert steady_log_range([2e-3, 5.0], (lo, hi)) == (lo, hi)  # still fits: kept
    assert steady_log_range([1e-9, 5.0], (lo, hi))[0] <= 1e-9  # no longer fits
    assert steady_log_range([1.0, 1.1], (1e-20, 1e5)) != (1e-20, 1e5)  # lost in it: zoom
    assert steady_log_range([1.0, 1.1], (1e-20, 1e5), fill=0.0) == (1e-20, 1e5)
    assert steady_log_range([0.0, 0.0, 1.0], floor=1e-30)[0] <= 1e-30


def test_depth_counts_linear_layers_everywhere():
    from backproplab.widgets.vanishing import build_network
    for depth in (2, 5, 20):
        model = build_network(depth, "tanh", "Xavier", batchnorm=True)
        assert sum(isinstance(m, bpl.Linear) for m in model.modules()) == depth
        assert sum(isinstance(m, bpl.BatchNorm1d) for m in model.modules()) == depth - 1
        # no bias in front of batch norm: it would be cancelled
        assert all(m.b is None for m in model.modules()
                   if isinstance(m, bpl.Linear) and m.out_features == 32)
    with pytest.raises(ValueError, match="Linear layers"):
        build_network(1, "tanh", "Xavier")
    ex = vanishing_gradient_explorer().explorer
    ex.set(depth=20)
    assert ex.values["names"][-1] == "L20" and "20 Linear layers" in ex.readout.value


def test_vanishing_panels_share_layer_axis_and_log_scale():
    ex = vanishing_gradient_explorer().explorer
    grads, signal = ex.fig.axes
    assert grads.get_yscale() == signal.get_yscale() == "log"
    assert grads.get_xlim() == signal.get_xlim()
    for depth in range(3, 31):  # moving the depth moves no axis
        ex.controls["depth"].value = depth
    assert ex.n_backgrounds == 1
    ex.set(activation="ReLU", init="He")
    lo, hi = signal.get_ylim()
    assert lo <= ex.values["act_spread"].min() and ex.values["act_spread"].max() <= hi


def test_draw_path_returns_its_artists():
    import matplotlib.pyplot as plt
    from backproplab.plotting.surface import draw_path
    fig, ax = plt.subplots()
    before = len(ax.get_children())
    artists = draw_path(ax, np.array([0.0, 1.0, 1.5]), np.array([0.0, 0.5, 0.6]),
                        (0, 2), (0, 1))
    assert len(ax.get_children()) == before + len(artists)
    assert artists[-1].get_label() == "end (step 2)"
    for a in artists:
        a.remove()
    assert len(ax.get_children()) == before
    plt.close(fig)


def test_graph_artists_restyle_to_what_draw_graph_draws():
    """A stepper restyles one drawing: the result must match drawing with that highlight."""
    import matplotlib.pyplot as plt
    from backproplab.plotting import draw_graph
    from backproplab.plotting.graph import node_text
    o = default_expression()
    o.backward()
    n = o.children[0]
    target = [n, (n, o)]

    def pixels(fig):
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba()).copy()
    fig1, ax1 = plt.subplots()
    draw_graph(o, highlight=target, ax=ax1)
    fig2, ax2 = plt.subplots()
    _, graph = draw_graph(o, highlight=[o], ax=ax2, return_artists=True)
    hot = graph.highlight(target)
    assert graph.boxes[n] in hot and graph.edges[(n, o)] in hot and graph.boxes[o] not in hot
    np.testing.assert_array_equal(pixels(fig1), pixels(fig2))
    graph.show_grads({o: 1.0})
    assert graph.values[o].get_text() == node_text(o.data, 1.0) == f"data {o.data:.4g}\ngrad 1"
    assert graph.values[n].get_text().endswith("grad ?")
    with pytest.raises(ValueError):
        graph.highlight(bpl.Value(1.0))
    plt.close(fig1)
    plt.close(fig2)
