"""Tests of backproplab.gradcheck: the checker itself, every real layer and loss, and
"checking the checker" with realistic backward bugs planted in subclasses of the real layers.
"""

import copy
import warnings

import numpy as np
import pytest

import backproplab as bp

from backproplab import gradcheck as gc
from backproplab.data import make_spiral
from backproplab.gradcheck import (
    GradCheckReport, check_layer, check_loss, check_model, numerical_gradient, rel_error,
)
from backproplab.layers import (
    BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid, Tanh,
)
from backproplab.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss

MODES = ("full", "sparse", "fast")


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(*shape, seed=0):
    return rng(seed).standard_normal(shape)


@pytest.fixture(autouse=True)
def no_runtime_warnings():
    """The checker promises that no RuntimeWarning escapes (NaN/inf go into the report)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


# ---------------------------------------------------------------------------------------
# numerical_gradient and rel_error
# ---------------------------------------------------------------------------------------
def test_numerical_gradient_of_sum_of_squares():
    x = randn(3, 4)
    num = numerical_gradient(lambda v: float(np.sum(v ** 2)), x)
    assert num.shape == x.shape
    np.testing.assert_allclose(num, 2 * x, rtol=0, atol=1e-9)


def test_numerical_gradient_of_sin_any_shape():
    x = randn(2, 3, 2)
    num = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_allclose(num, np.cos(x), rtol=0, atol=1e-9)


def test_numerical_gradient_restores_x_bit_exactly():
    x = randn(5, 5) * 1e3 + 0.1  # large values: x + eps - eps would not round-trip
    before = x.tobytes()
    numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    assert x.tobytes() == before


def test_numerical_gradient_sparse_indices():
    x = randn(3, 3)
    num = numerical_gradient(lambda v: float(np.sum(v ** 2)), x, indices=[(0, 1), (2, 2)])
    checked = ~np.isnan(num)
    assert checked.sum() == 2 and checked[0, 1] and checked[2, 2]
    np.testing.assert_allclose(num[checked], 2 * x[checked], atol=1e-9)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: float(v.sum()), np.ones(3, dtype=np.float32))


def test_rel_error_known_values():
    assert rel_error(1.0, 1.0) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)  # |1-3| / (1+3)
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)  # max over entries
    assert rel_error(-1.0, 1.0) == pytest.approx(1.0)  # opposite signs: the maximum, 1
    assert rel_error(0.0, 0.0) == 0.0  # no 0/0
    # No fixed floor: a relative error means the same at every scale
    assert rel_error(0.0, 1e-10) == 1.0
    assert rel_error(1e-12, 3e-12) == pytest.approx(rel_error(1.0, 3.0), rel=1e-15)
    # Entries far below the tensor's largest are judged against a tenth of it
    assert rel_error([0.0, 1.0], [1e-10, 1.0]) == pytest.approx(1e-10 / (gc.SCALE_FLOOR * 2))
    assert rel_error(0.0, 1e-10, floor=1e-8) == pytest.approx(1e-2)  # CS231n's floor
    assert rel_error([1.0, np.nan], [1.0, 1.0]) == np.inf
    assert isinstance(rel_error(np.ones(3), np.ones(3)), float)


# ---------------------------------------------------------------------------------------
# Every real layer and loss passes a full check at float64, max relative error < 1e-7
# ---------------------------------------------------------------------------------------
def _layer_cases():
    r = rng(1)
    return {
        "Linear": (Linear(5, 4, rng=r), randn(6, 5)),
        "ReLU": (ReLU(), randn(6, 5)),
        "LeakyReLU": (LeakyReLU(0.1), randn(6, 5)),
        "Sigmoid": (Sigmoid(), randn(6, 5) * 3),
        "Tanh": (Tanh(), randn(6, 5)),
        "Dropout-train": (Dropout(0.3, rng=rng(2)), randn(6, 5)),
        "Dropout-eval": (Dropout(0.3, rng=rng(2)).eval(), randn(6, 5)),
        "BatchNorm1d-train": (BatchNorm1d(5), randn(6, 5) * 2 + 1),
        "BatchNorm1d-eval": (_trained_batchnorm().eval(), randn(6, 5) * 2 + 1),
        "Residual": (Residual(Sequential(Linear(5, 5, rng=r), Tanh())), randn(6, 5)),
        "Sequential": (Sequential(Linear(5, 7, rng=r), ReLU(), Linear(7, 3, rng=r), Sigmoid()),
                       randn(6, 5)),
    }


def _trained_batchnorm():
    """BatchNorm1d with non-trivial running statistics, gamma and beta."""
    bn = BatchNorm1d(5)
    for seed in range(3):
        bn(randn(8, 5, seed=seed) * 2 + 1)
    bn.gamma.data[:] = 1 + 0.5 * randn(5, seed=7)
    bn.beta.data[:] = randn(5, seed=8)
    return bn


@pytest.mark.parametrize("name", list(_layer_cases()))
def test_every_layer_passes_full_check(name):
    layer, x = _layer_cases()[name]
    report = check_layer(layer, x, mode="full")
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-7
    params = [n for n, _ in layer.named_parameters()]
    assert list(report.errors) == ["input", *params]
    # every entry was checked
    assert all(np.isfinite(report.rel_errors[n]).all() for n in report.errors)


@pytest.mark.parametrize("name", ["Linear", "BatchNorm1d-train", "Residual", "Sequential"])
@pytest.mark.parametrize("mode", ["sparse", "fast"])
def test_layers_pass_sparse_and_fast(name, mode):
    layer, x = _layer_cases()[name]
    report = check_layer(layer, x, mode=mode, k=5)
    assert report.passed, str(report)


def test_check_layer_leaves_the_layer_untouched():
    bn = _trained_batchnorm()
    state = bn.state_dict()
    drop = Dropout(0.5, rng=rng(3))
    rng_state = drop.rng.bit_generator.state
    assert check_layer(bn.train(), randn(6, 5)).passed
    assert check_layer(drop, randn(6, 5)).passed
    for key, value in bn.state_dict().items():  # running stats not updated by the check
        np.testing.assert_array_equal(value, state[key])
    assert bn.gamma.grad is None
    assert drop.rng.bit_generator.state == rng_state


def test_stale_gradients_do_not_leak_into_the_check():
    # Gradients accumulate: a gradient left over from an earlier backward pass must be
    # cleared before the analytic pass, or it would be added to the checked gradient.
    layer = Linear(4, 3, rng=rng(0))
    x = randn(5, 4)
    layer(x)
    layer.backward(np.ones((5, 3)))
    assert layer.W.grad is not None
    report = check_layer(layer, x)
    assert report.passed, str(report)


def test_float32_layer_is_upcast_for_the_check():
    layer = Linear(4, 3, rng=rng(0), dtype=np.float32)
    report = check_layer(layer, randn(5, 4).astype(np.float32))
    assert report.passed, str(report)
    assert any("float64" in note for note in report.notes)
    assert layer.W.data.dtype == np.float32 and layer.W.grad is None  # original untouched


@pytest.mark.parametrize("loss_fn, pred, target", [
    (MSELoss(), randn(6, 3), randn(6, 3, seed=1)),
    (CrossEntropyLoss(), randn(6, 4) * 2, np.array([0, 3, 1, 1, 2, 0])),
    (BCEWithLogitsLoss(), randn(6, 3) * 2, (randn(6, 3, seed=1) > 0).astype(float)),
], ids=["MSE", "CrossEntropy", "BCEWithLogits"])
@pytest.mark.parametrize("mode", MODES)
def test_every_loss_passes(loss_fn, pred, target, mode):
    report = check_loss(loss_fn, pred, target, mode=mode)
    assert report.passed, str(report)
    assert list(report.errors) == ["pred"]
    if mode == "full":
        assert report.errors["pred"] < 1e-7
        assert report.n_forward == 1 + 2 * pred.size


def _small_model(seed=0):
    r = rng(seed)
    return Sequential(Linear(4, 8, rng=r), BatchNorm1d(8), Tanh(), Dropout(0.2, rng=rng(5)),
                      Linear(8, 8, rng=r), LeakyReLU(0.1),
                      Residual(Sequential(Linear(8, 8, rng=r), Sigmoid())), Linear(8, 3, rng=r))


@pytest.mark.parametrize("mode", MODES)
def test_full_model_passes_check_model(mode):
    x, y = randn(10, 4), rng(1).integers(0, 3, 10)
    report = check_model(_small_model(), CrossEntropyLoss(), x, y, mode=mode)
    assert report.passed, str(report)
    names = [n for n, _ in _small_model().named_parameters()]
    assert list(report.errors) == ["input", *names]
    assert "0.W" in report.errors and "6.block.0.W" in report.errors


def test_check_model_with_mse_in_eval_mode():
    x, y = randn(10, 4), randn(10, 3, seed=1)
    model = _small_model().eval()
    report = check_model(model, MSELoss(), x, y)
    assert report.passed, str(report)


# ---------------------------------------------------------------------------------------
# Fast mode on the spiral MLP: <= 20 forward passes, in the report
# ---------------------------------------------------------------------------------------
def spiral_mlp(seed=1):
    r = rng(seed)
    return Sequential(Linear(2, 100, rng=r), ReLU(), Linear(100, 100, rng=r), ReLU(),
                      Linear(100, 3, rng=r))


def test_fast_check_of_spiral_mlp_uses_at_most_20_forward_passes():
    X, y = make_spiral(n_samples=300, n_classes=3, seed=0)
    report = check_model(spiral_mlp(), CrossEntropyLoss(), X, y, mode="fast")
    assert report.passed, str(report)
    # 1 analytic pass + 2 per tensor (input, 3 weights, 3 biases) = 15
    assert report.n_forward == 15 <= 20
    assert "15 forward passes" in str(report)
    assert set(report.errors) == {"input", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert all(np.isnan(v).all() for v in report.rel_errors.values())  # no single entry


@pytest.mark.parametrize("seed", range(5))
def test_fast_check_of_spiral_mlp_passes_for_other_initialisations(seed):
    # A step of eps along a *unit* direction rarely crosses a ReLU kink, so the fast check
    # does not depend on a lucky initialisation.
    X, y = make_spiral(seed=seed)
    report = check_model(spiral_mlp(seed + 10), CrossEntropyLoss(), X, y, mode="fast",
                         seed=seed)
    assert report.passed, str(report)


# ---------------------------------------------------------------------------------------
# Check the checker: realistic backward bugs, planted in subclasses of the real layers
# ---------------------------------------------------------------------------------------
class LinearTransposedDW(Linear):
    """dW computed as grad_out.T @ x = (x.T @ grad_out).T: only possible for square W."""

    def backward(self, grad_out, input_grad=True):
        x = self._saved()
        self.W.accumulate(grad_out.T @ x)
        self.b.accumulate(grad_out.sum(axis=0))
        return grad_out @ self.W.data.T


class LinearBiasFirstRow(Linear):
    """db = grad_out[0]: the bias gradient of one sample instead of the sum over the batch."""

    def backward(self, grad_out, input_grad=True):
        x = self._saved()
        self.W.accumulate(x.T @ grad_out)
        self.b.accumulate(grad_out[0])
        return grad_out @ self.W.data.T


class LinearBiasMean(Linear):
    """db = grad_out.mean(0): the average, not the sum, over the batch (N times too small)."""

    def backward(self, grad_out, input_grad=True):
        x = self._saved()
        self.W.accumulate(x.T @ grad_out)
        self.b.accumulate(grad_out.mean(axis=0))
        return grad_out @ self.W.data.T


class LinearBiasNotSummed(Linear):
    """db = grad_out: shape (N, H) instead of (H,)."""

    def backward(self, grad_out, input_grad=True):
        x = self._saved()
        self.W.accumulate(x.T @ grad_out)
        self.b.accumulate(grad_out)
        return grad_out @ self.W.data.T


class MSELossNoMean(MSELoss):
    """Backward forgets the 1/N of the mean: 2 (pred - target)."""

    def backward(self):
        (diff,) = self.cache
        return 2 * diff


class CrossEntropyNoMean(CrossEntropyLoss):
    """Backward forgets the 1/N: softmax - onehot."""

    def backward(self):
        logp, labels = self.cache
        grad = np.exp(logp)
        grad[np.arange(len(labels)), labels] -= 1
        return grad


class SigmoidDerivFromInput(Sigmoid):
    """s'(x) = s(1 - s) computed from the input x instead of the output s: x (1 - x)."""

    def backward(self, grad_out, input_grad=True):
        x, out = self._saved()
        return grad_out * x * (1 - x)


class ReLUMaskFromGradOut(ReLU):
    """The mask taken from grad_out > 0 instead of x > 0."""

    def backward(self, grad_out, input_grad=True):
        return grad_out * (grad_out > 0)


def _bug_layer_cases():
    # (layer, x, the tensor whose gradient is wrong, sparse k)
    # Sparse mode only sees k entries, so each case makes sure they include wrong ones:
    # - transposed dW: only the diagonal of a square W is right; k=10 of the 16 entries of a
    #   4x4 W include at least 6 off-diagonal entries, whatever the seed;
    # - db = g[0] or g.mean(0): every entry of b is wrong (for N > 1, random grad_out);
    # - sigmoid from input: every entry is wrong (x (1 - x) != s (1 - s) for random x);
    # - ReLU mask: about half of the entries are wrong (where sign(x) != sign(grad_out)), so
    #   10 random entries all being right has probability ~2^-10; the test below also
    #   repeats the sparse check for several seeds.
    return {
        "transposed dW": (LinearTransposedDW(4, 4, rng=rng(0)), randn(6, 4), "W", 10),
        "db = g[0]": (LinearBiasFirstRow(4, 3, rng=rng(0)), randn(6, 4), "b", 2),
        "db = g.mean(0)": (LinearBiasMean(4, 3, rng=rng(0)), randn(6, 4), "b", 2),
        "sigmoid from input": (SigmoidDerivFromInput(), randn(6, 5), "input", 3),
        "ReLU mask from grad_out": (ReLUMaskFromGradOut(), randn(6, 5), "input", 10),
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(_bug_layer_cases()))
def test_planted_layer_bugs_are_caught(name, mode):
    layer, x, wrong, k = _bug_layer_cases()[name]
    for seed in range(5 if mode != "full" else 1):
        report = check_layer(layer, x, mode=mode, k=k, seed=seed)
        assert not report.passed, f"{name} not caught in {mode} mode (seed {seed}):\n{report}"
        assert report.errors[wrong] > 1e-3  # far from a rounding-level disagreement
        assert "FAIL" in str(report)
    # the correct tensors still pass: the report points at the bug
    for tensor, err in report.errors.items():
        if tensor != wrong:
            assert err < 1e-7, f"{tensor} should pass:\n{report}"


@pytest.mark.parametrize("mode", MODES)
def test_bias_gradient_with_the_wrong_shape_gives_a_clear_failure(mode):
    report = check_layer(LinearBiasNotSummed(4, 3, rng=rng(0)), randn(6, 4), mode=mode)
    assert not report.passed
    assert report.errors["b"] == np.inf
    note = " ".join(report.notes)
    assert "(6, 3)" in note and "(3,)" in note, report.notes  # the two shapes are named
    if not any("raised" in n for n in report.notes):
        # Parameter.accumulate accepted the (6, 3) array: the checker names the tensor and
        # still checks the others. (If accumulate raises ShapeError instead, the report
        # quotes that error.)
        assert "'b'" in note
        assert report.errors["W"] < 1e-7 and report.errors["input"] < 1e-7


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loss_fn, target", [
    (MSELossNoMean(), randn(6, 3, seed=1)),
    (CrossEntropyNoMean(), np.array([0, 2, 1, 1, 2, 0])),
], ids=["MSE", "CrossEntropy"])
def test_missing_one_over_n_in_a_loss_is_caught(loss_fn, target, mode):
    # Every entry of the gradient is N (or N*C) times too large: sparse mode cannot miss.
    report = check_loss(loss_fn, randn(6, 3), target, mode=mode)
    assert not report.passed, str(report)
    assert report.errors["pred"] > 0.5


@pytest.mark.parametrize("mode", MODES)
def test_missing_one_over_n_is_caught_inside_a_model(mode):
    x, y = randn(8, 4), rng(1).integers(0, 3, 8)
    model = Sequential(Linear(4, 5, rng=rng(0)), Tanh(), Linear(5, 3, rng=rng(1)))
    report = check_model(model, CrossEntropyNoMean(), x, y, mode=mode)
    assert not report.passed
    assert all(err > 0.5 for err in report.errors.values()), str(report)


@pytest.mark.parametrize("mode", MODES)
def test_bug_deep_inside_a_model_is_localised(mode):
    x, y = randn(8, 4), rng(1).integers(0, 3, 8)
    model = Sequential(Linear(4, 4, rng=rng(0)), Tanh(), LinearTransposedDW(4, 4, rng=rng(1)),
                       Tanh(), Linear(4, 3, rng=rng(2)))
    report = check_model(model, CrossEntropyLoss(), x, y, mode=mode, k=10)
    assert not report.passed
    assert report.errors["2.W"] > 1e-3
    # gradients that do not depend on the wrong dW are still right
    assert report.errors["4.W"] < 1e-7 and report.errors["0.W"] < 1e-7, str(report)


# ---------------------------------------------------------------------------------------
# Kinks, NaN, and the report
# ---------------------------------------------------------------------------------------
def test_kink_note_when_a_relu_input_is_exactly_zero():
    x = randn(4, 3)
    x[1, 2] = 0.0
    report = check_layer(ReLU(), x)
    assert any("kink" in note and "(1, 2)" in note for note in report.notes), report.notes
    # the central difference at the kink is G/2 against the analytic 0: a (false) FAIL
    assert not report.passed
    assert report.worst["input"][0][0] == (1, 2)
    assert "kink" in str(report)

    fixed = check_layer(ReLU(), x, avoid_kinks=True)
    assert fixed.passed, str(fixed)
    assert not any(note.startswith("kink") for note in fixed.notes)
    assert x[1, 2] == 0.0  # the caller's x is never modified


def test_kink_note_inside_a_model():
    model = Sequential(Linear(3, 4, rng=rng(0)), ReLU(), Linear(4, 2, rng=rng(1)))
    x = randn(5, 3)
    model[0].b.data[2] = -(x @ model[0].W.data)[0, 2]  # pre-activation (0, 2) is exactly 0
    report = check_model(model, MSELoss(), x, randn(5, 2), mode="fast")
    assert any("kink" in note and "layer '1'" in note for note in report.notes), report.notes


@pytest.mark.parametrize("mode", MODES)
def test_nan_in_the_input_is_reported_by_name_not_warned(mode):
    x = randn(4, 3)
    x[2, 1] = np.nan
    report = check_layer(Linear(3, 2, rng=rng(0)), x, mode=mode)
    assert not report.passed
    assert report.errors["input"] == np.inf
    assert any("'input'" in n and "(2, 1)" in n for n in report.notes), report.notes
    assert "input" in str(report) and "FAIL" in str(report)


def test_nan_in_a_parameter_is_reported_by_name():
    model = Sequential(Linear(3, 4, rng=rng(0)), Tanh(), Linear(4, 2, rng=rng(1)))
    model[2].W.data[1, 0] = np.inf
    report = check_model(model, MSELoss(), randn(5, 3), randn(5, 2))
    assert not report.passed
    assert report.errors["2.W"] == np.inf
    assert any("'2.W'" in n and "(1, 0)" in n for n in report.notes), report.notes


def test_non_finite_analytic_gradient_is_reported():
    class SigmoidNaNBackward(Sigmoid):
        def backward(self, grad_out, input_grad=True):
            g = grad_out.copy()
            g[0, 1] = np.nan
            return g

    report = check_layer(SigmoidNaNBackward(), randn(3, 3), mode="full")
    assert not report.passed and report.errors["input"] == np.inf
    assert any("analytic" in n and "(0, 1)" in n for n in report.notes), report.notes


def test_non_finite_loss_is_reported():
    # log(0): BCE cannot produce inf (it is stable), so use a custom "loss" that overflows
    class ExpLoss(MSELoss):
        def forward(self, pred, target):
            self.cache = (pred,)
            return float(np.exp(pred).sum())

    report = check_loss(ExpLoss(), np.full((2, 2), 1e3), np.zeros((2, 2)))
    assert not report.passed
    assert any("loss is inf" in n for n in report.notes), report.notes


def test_report_attributes_and_tables():
    layer = Linear(3, 2, rng=rng(0))
    report = check_layer(layer, randn(4, 3), mode="sparse", k=4)
    assert isinstance(report, GradCheckReport) and bool(report) is report.passed is True
    assert (report.mode, report.tol, report.eps) == ("sparse", 1e-7, 1e-6)
    assert report.n_forward == 1 + 2 * (4 + 4 + 2)  # b has only 2 entries
    assert report.rel_errors["W"].shape == (3, 2)
    assert np.isfinite(report.rel_errors["W"]).sum() == 4  # NaN where not checked
    assert len(report.worst["input"]) <= 5
    index, analytic, numerical, err = report.worst["input"][0]
    assert err == report.errors["input"] and abs(analytic - numerical) < 1e-8
    text, page = str(report), report._repr_html_()
    for name in ("input", "W", "b", "PASS"):
        assert name in text and name in page
    assert "(3, 2)" in text

    bad = check_layer(LinearTransposedDW(3, 3, rng=rng(0)), randn(4, 3))
    assert "FAIL" in str(bad) and "FAIL" in bad._repr_html_()
    assert "PASS" in str(bad)  # input and b are right
    assert not bad


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        check_layer(ReLU(), randn(2, 2), mode="quick")


def test_dropout_drawing_from_the_package_generator_gets_the_same_mask_every_pass():
    # Dropout(rng=None) draws from backproplab's package generator; the checker must rewind
    # it before each forward pass, or every numerical difference would see a new mask.
    x = np.random.default_rng(1).normal(size=(4, 5))
    assert gc.check_layer(bp.Dropout(0.5), x).passed
    model = bp.Sequential(bp.Linear(5, 6), bp.Dropout(0.3), bp.Tanh(), bp.Linear(6, 2))
    assert gc.check_model(model, bp.CrossEntropyLoss(), x, np.array([0, 1, 1, 0])).passed


# ---------------------------------------------------------------------------------------
# Scale invariance: the same verdicts for inputs of size 1e-10 ... 1e10
# ---------------------------------------------------------------------------------------
SCALES = [10.0 ** k for k in range(-10, 11)]
# Sigmoid and tanh saturate: at input scale 1e3 and above almost every output is exactly
# 0, 1 or +-1 in float64, so the true gradient is 0 (and what is left of it comes through a
# cancellation of numbers of size 1e3): those scales are not "where the gradient is not zero".
SATURATING = [s for s in SCALES if s <= 1e2]
WRONG = {"zeroed": np.zeros_like, "halved": lambda g: g / 2, "transposed": np.transpose}


def _scaled_layers():
    r = lambda: rng(1)  # noqa: E731  (a fresh generator per layer: the same weights)
    return {
        "Linear": (lambda: Linear(5, 5, rng=r()), SCALES),
        "ReLU": (ReLU, SCALES),
        "LeakyReLU": (lambda: LeakyReLU(0.1), SCALES),
        "Dropout": (lambda: Dropout(0.3, rng=rng(2)), SCALES),
        "BatchNorm1d-train": (lambda: BatchNorm1d(5), SCALES),
        "BatchNorm1d-eval": (lambda: _trained_batchnorm().eval(), SCALES),
        "Sequential": (lambda: Sequential(Linear(5, 5, rng=r()), ReLU(), Linear(5, 5, rng=r())),
                       SCALES),
        "Sigmoid": (Sigmoid, SATURATING),
        "Tanh": (Tanh, SATURATING),
        "Residual": (lambda: Residual(Sequential(Linear(5, 5, rng=r()), Tanh())), SATURATING),
    }


def _sabotaged(obj, tensor, wrong):
    """A copy of a layer (or loss) whose backward returns ``wrong(correct gradient)`` for one
    tensor ("input"/"pred" or a parameter name) and the right gradient for the others."""
    bad, base = copy.deepcopy(obj), type(obj)

    def backward(self, *args, **kwargs):
        grad = base.backward(self, *args, **kwargs)
        if tensor in ("input", "pred"):
            return WRONG[wrong](grad)
        p = dict(self.named_parameters())[tensor]
        p.grad = WRONG[wrong](p.grad)
        return grad
    bad.__class__ = type(f"Wrong{base.__name__}", (base,), {"backward": backward})
    return bad


def _verdicts(check, obj, tensors, modes=("full", "fast")):
    """(what, scale-independent verdict) pairs that went wrong for one object at one scale."""
    wrong_verdicts = []
    for mode in modes:
        report = check(obj, mode)
        if not report.passed:
            wrong_verdicts.append(f"correct gradient FAILS in {mode}:\n{report}")
        for tensor, shape in tensors.items():
            for name in WRONG:
                if name == "transposed" and (len(shape) != 2 or shape[0] != shape[1]):
                    continue
                if mode == "fast" and name == "transposed":
                    continue  # full mode shows it; fast sees the same directional sum
                report = check(_sabotaged(obj, tensor, name), mode)
                if report.passed:
                    wrong_verdicts.append(f"{name} '{tensor}' PASSES in {mode}:\n{report}")
    return wrong_verdicts


@pytest.mark.parametrize("name", list(_scaled_layers()))
def test_layer_verdicts_do_not_depend_on_the_scale_of_the_input(name):
    make, scales = _scaled_layers()[name]
    for scale in scales:
        x = randn(5, 5) * scale
        layer = make()
        tensors = {"input": x.shape, **{n: p.data.shape for n, p in layer.named_parameters()}}
        wrong = _verdicts(lambda obj, mode: check_layer(obj, x, mode=mode), layer, tensors)
        assert not wrong, f"{name} at input scale {scale:g}: " + "\n".join(wrong[:2])


@pytest.mark.parametrize("name", ["MSE", "L1", "CrossEntropy", "BCEWithLogits"])
def test_loss_verdicts_do_not_depend_on_the_scale_of_the_prediction(name):
    for scale in SCALES:
        pred = randn(5, 5) * scale
        loss_fn, target = {
            "MSE": (MSELoss(), randn(5, 5, seed=1) * scale),
            "L1": (bp.L1Loss(), randn(5, 5, seed=1) * scale),
            "CrossEntropy": (CrossEntropyLoss(), np.array([0, 3, 1, 4, 2])),
            "BCEWithLogits": (BCEWithLogitsLoss(), (randn(5, 5, seed=1) > 0).astype(float)),
        }[name]
        wrong = _verdicts(lambda obj, mode: check_loss(obj, pred, target, mode=mode), loss_fn,
                          {"pred": pred.shape})
        assert not wrong, f"{name} at scale {scale:g}: " + "\n".join(wrong[:2])


def test_the_old_fixed_step_and_floor_would_fail_at_the_extremes():
    """What the scale-aware step and floor fix: a correct Linear fed inputs of 1e4 failed
    with a fixed step of 1e-6, and a zeroed dW passed at 1e-10 under a fixed floor of 1e-2."""
    x = randn(6, 5) * 1e4
    layer = Linear(5, 5, rng=rng(1))
    assert check_layer(layer, x).passed
    old_step = numerical_gradient(lambda v: float(np.sum(layer(v) * randn(6, 5, seed=3))),
                                  x.copy(), eps=1e-6)
    layer(x)
    exact = layer.backward(randn(6, 5, seed=3))
    assert rel_error(old_step, exact) > 1e-7  # x + 1e-6 is rounded on a grid of 2e-12 * 1e4
    tiny = randn(6, 5) * 1e-10
    report = check_layer(_sabotaged(layer, "W", "zeroed"), tiny)
    assert not report.passed and report.errors["W"] > 1e3 * report.tol
    assert rel_error(np.zeros((5, 5)), 1e-10 * np.ones((5, 5)), floor=1e-2) < 1e-7  # the old way


@pytest.mark.parametrize("scale", [1e-10, 1.0, 1e10])
@pytest.mark.parametrize("mode", MODES)
def test_an_entry_that_moves_no_output_is_still_compared(scale, mode):
    """Perturbing a negative ReLU input moves no output: its derivative is 0 to within the
    outputs' rounding, and an analytic gradient of 1 there (no mask at all) must fail."""
    class ReLUNoMask(ReLU):
        def backward(self, grad_out, input_grad=True):
            return grad_out  # BUG: passes the gradient where the input was negative too

    x = randn(8, 6) * scale
    assert check_layer(ReLU(), x, mode=mode).passed
    report = check_layer(ReLUNoMask(), x, mode=mode, k=20)
    assert not report.passed and report.errors["input"] > 0.1, str(report)
