"""The loss-landscape explorer, driven without a browser: move a control, check that the
loss, gradient and picture it displays are the right ones (Agg backend, no warnings)."""

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import backproplab as bpl  # noqa: E402
from backproplab.widgets import ExplorerWidget  # noqa: E402
from backproplab.widgets.loss_landscape import (LossLandscapeExplorer,  # noqa: E402
                                                default_data, landscape,
                                                loss_landscape_explorer)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _strict_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    yield
    import sys
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        assert plt.get_fignums() == [], "the explorer left a pyplot figure open"


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
            assert c.continuous_update is False


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
