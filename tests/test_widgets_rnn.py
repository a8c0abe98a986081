"""The gradient-through-time explorer (lesson 09), driven without a browser: its numbers obey
the bound of the lesson, its controls change what it shows (Agg backend, no warnings, no pyplot
figure left behind)."""

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backproplab.widgets import ExplorerWidget  # noqa: E402
from backproplab.widgets.rnn import recurrent_matrix, rnn_gradient_explorer  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _strict():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    import sys
    plt = sys.modules.get("matplotlib.pyplot")
    assert plt is None or plt.get_fignums() == [], "the explorer left a pyplot figure open"


@pytest.fixture(scope="module")
def explorer():
    return rnn_gradient_explorer().explorer


def test_widget_contract():
    w = rnn_gradient_explorer()
    assert isinstance(w, ExplorerWidget)
    assert {"bpl-explorer", "bpl-rnn-gradient-explorer"} <= set(w._dom_classes)
    ex = w.explorer
    assert ex.png.startswith(PNG) and ex.readout.value and ex.n_updates == 1
    shown, stack = set(), list(w.children)
    while stack:
        item = stack.pop()
        shown.add(item)
        stack.extend(getattr(item, "children", ()))
    assert set(ex.controls.values()) <= shown
    assert all(c.continuous_update is True for c in ex.controls.values()
               if hasattr(c, "continuous_update"))
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()


def test_recurrent_matrix_has_the_chosen_spectral_radius():
    Q = recurrent_matrix("orthogonal", 0.7)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), 0.7, rtol=1e-12)
    G = recurrent_matrix("random (Gaussian)", 0.7)
    assert np.abs(np.linalg.eigvals(G)).max() == pytest.approx(0.7)
    assert np.linalg.norm(G, 2) > 1.5 * 0.7   # far above the radius: a loose bound
    with pytest.raises(ValueError, match="kind"):
        recurrent_matrix("diagonal", 0.7)


@pytest.mark.parametrize("weights", ["orthogonal", "random (Gaussian)"])
@pytest.mark.parametrize("rho", [0.5, 1.0, 2.5])
def test_the_measured_gradient_never_exceeds_the_singular_value_bound(explorer, weights, rho):
    v = explorer.set(rho=rho, weights=weights, input_scale=1.0, steps=40)
    k = np.arange(40)
    assert v["curve"].shape == (40,) and v["curve"][0] == 1.0
    assert np.all(v["curve"] <= v["sigma_max"] ** k * (1 + 1e-9))
    assert v["reach"] == v["curve"][-1]
    assert v["radius"] == pytest.approx(rho)


def test_small_radius_vanishes_large_explodes_and_saturation_tames_it(explorer):
    low = explorer.set(rho=0.5, weights="orthogonal", input_scale=1.0, steps=60)
    assert low["reach"] < 1e-15 and low["verdict"].startswith("vanishing")
    high = explorer.set(rho=2.0)
    assert high["reach"] > 1e3 and high["verdict"].startswith("exploding")
    picture = explorer.png
    strong = explorer.set(rho=1.5, input_scale=10.0)
    mild = explorer.set(input_scale=1.0)
    assert strong["tanh_slope"] < mild["tanh_slope"]   # larger inputs: flatter tanh
    assert strong["reach"] < 1e-2 < 1 < mild["reach"]
    # only 1.06 a step, but 30 times the gradient 59 steps back: the verdict says exploding
    assert mild["per_step"] < 1.1 and mild["verdict"].startswith("exploding")
    assert strong["verdict"].startswith("vanishing")
    assert explorer.png != picture
    assert f"{mild['tanh_slope']:.2f}" in explorer.readout.value


def test_longer_sequences_multiply_by_the_same_factor_per_step(explorer):
    short = explorer.set(rho=0.8, weights="orthogonal", input_scale=1.0, steps=30)
    long = explorer.set(steps=90)
    assert long["per_step"] == pytest.approx(short["per_step"], rel=0.05)
    assert long["reach"] < short["reach"] ** 2.5   # three times the steps: the cube, roughly
