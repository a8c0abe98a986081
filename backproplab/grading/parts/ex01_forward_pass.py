"""Parts of exercise 01, the forward pass (solutions/01_forward_pass.ipynb): a stable sigmoid,
ReLU and leaky ReLU, the sigmoid's backward step from its cached output, a linear layer's
forward pass, a two-layer network, a small ``Linear``-like class, and the weights of a hidden
layer of ReLU units that passes through given points.

Inputs are fixed and small; reference answers come from formulas or from the library
(``bp.sigmoid``, ``bp.Linear``, ``bp.Sequential``, ``numerical_gradient``); the answers of
the usual mistakes are computed here too, so that the feedback can name them. Every test of a
part compares something a named mistake gets wrong, so that mistake costs the whole part.
"""

import warnings

import numpy as np

import backproplab as bp
from backproplab.gradcheck import numerical_gradient

from ..registry import part


def _quiet(fn, *args):
    """``fn(*args)`` with numpy's floating-point warnings off (the answer of a naive formula)."""
    with np.errstate(all="ignore"):
        return fn(*args)


def _warnings_from(fn, *args):
    """The numpy warnings (overflow, invalid, divide by zero) that ``fn(*args)`` raises."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        fn(*args)
    return list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def _naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- 1. sigmoid ---------------------------------------------------------------------------------

Z_SIG = np.array([[-3.0, -1.0, 0.0], [0.5, 2.0, 4.0]])  # (2, 3): the shape must be kept
Z_HUGE = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


@part("ex01_sigmoid", points=2)
def sigmoid_part(t, sigmoid):
    """the logistic sigmoid, stable for any z"""
    t.close("values on a (2, 3) batch", lambda: sigmoid(Z_SIG), _naive_sigmoid(Z_SIG), points=2,
            mistakes={
                "the sign of the exponent flipped, 1 / (1 + exp(z))": 1 / (1 + np.exp(Z_SIG)),
                "tanh instead of the sigmoid": np.tanh(Z_SIG),
                "exp(-z) / (1 + exp(-z)), which is 1 - sigmoid(z)": 1 - _naive_sigmoid(Z_SIG),
            })
    t.close("saturates to 0 and 1 at z = -1000 and 1000, 0.5 at z = 0",
            lambda: sigmoid(Z_HUGE), _quiet(_naive_sigmoid, Z_HUGE))

    def no_overflow_warning():
        found = _warnings_from(sigmoid, Z_HUGE)
        assert not found, "; ".join(found)
        return True

    t.true("no overflow warning at z = -1000 and 1000", no_overflow_warning,
           "numpy warned, so exp overflowed for some z (np.where computes both branches "
           "for every entry): compute e^-|z| only")


# -- 2. ReLU and leaky ReLU ------------------------------------------------------------------------

Z_ACT = np.array([[-2.0, -0.5, 0.0, 0.5], [3.0, -1.0, 1.5, -4.0]])  # (2, 4), with a 0


@part("ex01_relu", points=2)
def relu_part(t, relu, leaky_relu):
    """ReLU and leaky ReLU, element by element"""
    relu_ref = np.maximum(Z_ACT, 0)
    t.close("relu on a (2, 4) batch", lambda: relu(Z_ACT.copy()), relu_ref, mistakes={
        "the ReLU's derivative (the mask Z > 0) instead of the ReLU": (Z_ACT > 0) * 1.0,
        "np.max(Z, 0), a maximum over axis 0, instead of np.maximum(Z, 0)": Z_ACT.max(axis=0),
        "the absolute value instead of the ReLU": np.abs(Z_ACT),
    })

    def input_unchanged():
        Z = Z_ACT.copy()
        relu(Z)
        assert np.array_equal(Z, Z_ACT), "after relu(Z), Z holds " + np.array2string(Z)
        return True

    t.true("relu leaves its input unchanged", input_unchanged,
           "relu changed Z in place (Z[Z < 0] = 0): the backward pass needs the original Z")
    leaky = np.where(Z_ACT > 0, Z_ACT, 0.01 * Z_ACT)
    t.close("leaky_relu with the default alpha = 0.01", lambda: leaky_relu(Z_ACT.copy()), leaky,
            mistakes={
                "the slope alpha on the positive side instead of the negative side":
                    np.where(Z_ACT > 0, 0.01 * Z_ACT, Z_ACT),
                "a plain ReLU (no leak)": relu_ref,
                "a default alpha other than 0.01 (0.1?)": np.where(Z_ACT > 0, Z_ACT, 0.1 * Z_ACT),
                "alpha itself for the negative inputs instead of alpha * Z":
                    np.where(Z_ACT > 0, Z_ACT, 0.01),
            })
    t.close("leaky_relu with alpha = 0.2", lambda: leaky_relu(Z_ACT.copy(), alpha=0.2),
            np.where(Z_ACT > 0, Z_ACT, 0.2 * Z_ACT), mistakes={
                "alpha ignored (the default 0.01 used)": leaky,
                "alpha itself for the negative inputs instead of alpha * Z":
                    np.where(Z_ACT > 0, Z_ACT, 0.2),
            })


# -- 3. the sigmoid's backward step ------------------------------------------------------------

_rng = np.random.default_rng(101)
Z_BW = _rng.uniform(-3, 3, size=(3, 4))
DA_BW = _rng.normal(size=(3, 4))
Z_SAT = np.array([[-20.0, -5.0, 0.0, 5.0, 20.0]])  # saturated at both ends, steepest at 0
DA_SAT = np.array([[2.0, -1.0, 4.0, 0.5, -3.0]])


def _sigmoid_backward_ref(dA, Z):
    A = bp.sigmoid(Z)
    return dA * A * (1 - A)


def _sigmoid_backward_mistakes(dA, Z):
    A = bp.sigmoid(Z)
    sA = bp.sigmoid(A)
    return {
        "sigmoid′ computed from the input instead of the output: Z * (1 - Z) where "
        "A * (1 - A) is meant": dA * Z * (1 - Z),
        "the local derivative A * (1 - A) alone, not multiplied by dA": A * (1 - A),
        "the sigmoid applied again to its output: sigmoid(A) * (1 - sigmoid(A))":
            dA * sA * (1 - sA),
        "dA * A, without the factor (1 - A)": dA * A,
        "dA * A * (1 + A): the factor is (1 - A)": dA * A * (1 + A),
    }


def _numerical_sigmoid_grad(dA, Z):
    def f(z):
        return float(np.sum(dA * bp.sigmoid(z)))

    return numerical_gradient(f, Z.copy())


@part("ex01_sigmoid_backward", points=2)
def sigmoid_backward_part(t, sigmoid_backward):
    """dL/dZ through a sigmoid, from its cached output A"""
    A_BW, A_SAT = bp.sigmoid(Z_BW), bp.sigmoid(Z_SAT)
    t.close("dZ on a (3, 4) batch",
            lambda: sigmoid_backward(DA_BW.copy(), Z_BW.copy(), A_BW.copy()),
            _sigmoid_backward_ref(DA_BW, Z_BW), points=2,
            mistakes=_sigmoid_backward_mistakes(DA_BW, Z_BW))
    t.close("agrees with a numerical gradient of sum(dA * sigmoid(Z))",
            lambda: sigmoid_backward(DA_BW.copy(), Z_BW.copy(), A_BW.copy()),
            _numerical_sigmoid_grad(DA_BW, Z_BW), rtol=1e-6, atol=1e-9,
            mistakes=_sigmoid_backward_mistakes(DA_BW, Z_BW))
    t.close("saturated units (Z = ±20) pass almost nothing, Z = 0 passes dA / 4",
            lambda: sigmoid_backward(DA_SAT.copy(), Z_SAT.copy(), A_SAT.copy()),
            _sigmoid_backward_ref(DA_SAT, Z_SAT), atol=1e-12,
            mistakes=_sigmoid_backward_mistakes(DA_SAT, Z_SAT))


# -- 4. linear_forward -----------------------------------------------------------------------------

X_LIN = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 2.0], [-1.5, 0.5, 1.0], [2.0, 0.0, -1.0]])  # (4, 3)
W_LIN = np.array([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.6]])  # (3, 2)
B_LIN = np.array([0.5, -1.0])  # (2,)
# Square: N = D = H = 3, so a transposed W or a column bias gives wrong values, not an error.
X_SQ = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 3.0], [-2.0, 0.0, 1.0]])
W_SQ = np.array([[0.3, -0.7, 0.1], [0.9, 0.2, -0.4], [-0.6, 0.5, 0.8]])
B_SQ = np.array([1.0, -2.0, 0.5])


def _linear_mistakes(X, W, b):
    mistakes = {"the bias left out (X @ W only)": X @ W,
                "the bias summed into one number (X @ W + b.sum())": X @ W + b.sum()}
    if W.shape[0] == W.shape[1]:
        mistakes["W transposed (X @ W.T): W is D x H, inputs x outputs"] = X @ W.T + b
        mistakes["W @ X instead of X @ W: examples are the rows of X"] = W @ X + b
    if len(X) == len(b):
        mistakes["the bias added per row (b as a column, shape (H, 1)) instead of per column"] = \
            X @ W + b[:, None]
    return mistakes


@part("ex01_linear_forward", points=2)
def linear_forward_part(t, linear_forward):
    """a linear layer's forward pass Z = XW + b"""
    t.close("Z on a (4, 3) batch, H = 2", lambda: linear_forward(X_LIN, W_LIN, B_LIN),
            X_LIN @ W_LIN + B_LIN, mistakes=_linear_mistakes(X_LIN, W_LIN, B_LIN))
    t.close("N = D = H = 3 (a transposed W or a column bias would not raise here)",
            lambda: linear_forward(X_SQ, W_SQ, B_SQ), X_SQ @ W_SQ + B_SQ,
            mistakes=_linear_mistakes(X_SQ, W_SQ, B_SQ))
    rng = np.random.default_rng(102)
    layer = bp.Linear(4, 5, rng=rng)
    X = rng.normal(size=(6, 4))
    t.close("agrees with bp.Linear(4, 5) on a batch of 6",
            lambda: linear_forward(X, layer.W.data.copy(), layer.b.data.copy()), layer(X),
            mistakes=_linear_mistakes(X, layer.W.data, layer.b.data))
    t.close("one example as a batch: (1, 3) -> (1, 2)",
            lambda: linear_forward(X_LIN[:1], W_LIN, B_LIN), X_LIN[:1] @ W_LIN + B_LIN,
            mistakes={"the bias left out (X @ W only)": X_LIN[:1] @ W_LIN})


# -- 5. a two-layer network -------------------------------------------------------------------------

# The lesson's hand-worked network (lesson 01, "A two-layer network, worked by hand").
MLP_X = np.array([[1.0, 2.0], [-1.0, 0.5]])
MLP_PARAMS = {"W1": np.array([[0.5, -1.0, 0.2], [1.0, 0.5, -0.3]]), "b1": np.array([0.1, -0.2, 0.0]),
              "W2": np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.5]]), "b2": np.array([0.0, 0.1])}


def _relu(Z):
    return np.maximum(Z, 0)


def _mlp(X, p, hidden=_relu, out=lambda Z: Z):
    return out(hidden(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])


def _mlp_mistakes(X, p):
    return {
        "a ReLU after the output layer too (the logits must stay raw)": _mlp(X, p, out=_relu),
        "no ReLU between the layers (the network collapses to one linear layer)":
            _mlp(X, p, hidden=lambda Z: Z),
        "the ReLU applied before adding b1 (relu(X @ W1) + b1)":
            (_relu(X @ p["W1"]) + p["b1"]) @ p["W2"] + p["b2"],
        "a sigmoid instead of the ReLU in the hidden layer": _mlp(X, p, hidden=bp.sigmoid),
        "tanh instead of the ReLU in the hidden layer": _mlp(X, p, hidden=np.tanh),
        "the hidden activations A1 returned instead of the logits": _relu(X @ p["W1"] + p["b1"]),
    }


def _copy(params):
    return {name: value.copy() for name, value in params.items()}


@part("ex01_mlp_forward", points=2)
def mlp_forward_part(t, mlp_forward):
    """a two-layer network: Linear, ReLU, Linear"""
    t.close("the lesson's hand-worked network: logits (2, 2)",
            lambda: mlp_forward(MLP_X.copy(), _copy(MLP_PARAMS)), _mlp(MLP_X, MLP_PARAMS),
            mistakes=_mlp_mistakes(MLP_X, MLP_PARAMS))
    rng = np.random.default_rng(103)
    model = bp.Sequential(bp.Linear(4, 5, rng=rng), bp.ReLU(), bp.Linear(5, 3, rng=rng))
    params = {"W1": model[0].W.data, "b1": model[0].b.data,
              "W2": model[2].W.data, "b2": model[2].b.data}
    X = rng.normal(size=(6, 4))
    t.close("agrees with bp.Sequential(Linear(4, 5), ReLU(), Linear(5, 3)) on a batch of 6",
            lambda: mlp_forward(X.copy(), _copy(params)), model(X),
            mistakes=_mlp_mistakes(X, params))


# -- 6. MyLinear -----------------------------------------------------------------------------------


def _layer_shapes(MyLinear):
    layer = MyLinear(3, 2, rng=np.random.default_rng(0))
    W, b = np.shape(layer.W), np.shape(layer.b)
    if W == (2, 3):
        raise AssertionError("W has shape (2, 3), PyTorch's (out, in) layout; this course "
                             "stores W as (in, out) = (3, 2)")
    assert W == (3, 2) and b == (2,), f"W has shape {W} and b shape {b}"
    return True


def _layer_init(MyLinear):
    D, H = 100, 50
    layer = MyLinear(D, H, rng=np.random.default_rng(1))
    W, b = np.asarray(layer.W, dtype=float), np.asarray(layer.b, dtype=float)
    bound = 1 / np.sqrt(D)
    assert W.shape == (D, H) and b.shape == (H,), f"W has shape {W.shape} and b {b.shape}"
    assert np.abs(W).max() <= bound and np.abs(b).max() <= bound, \
        f"largest |W| is {np.abs(W).max():.3g} and largest |b| {np.abs(b).max():.3g}, " \
        f"above 1/sqrt(D) = {bound:.3g}"
    # U(-a, a) has standard deviation a / sqrt(3) = 0.0577 here
    assert 0.04 < W.std() < 0.075, f"W has standard deviation {W.std():.3g}, not about " \
                                   f"{bound / np.sqrt(3):.3g} as U(-1/sqrt(D), 1/sqrt(D))"
    assert b.std() > 0, "b is constant: draw it from the same uniform distribution as W"
    again = MyLinear(D, H, rng=np.random.default_rng(1))
    assert np.array_equal(again.W, W), "the same rng seed gave different weights: draw them " \
                                       "from the rng argument"
    other = MyLinear(D, H, rng=np.random.default_rng(2))
    assert not np.array_equal(other.W, W), "another seed gave the same weights: the rng " \
        "argument is ignored (a generator of its own, e.g. np.random.default_rng(0)?)"
    return True


def _layer_forward(MyLinear, X, W, b, call):
    layer = MyLinear(*W.shape)
    layer.W, layer.b = W.copy(), b.copy()
    return layer(X) if call else layer.forward(X)


def _layer_cache(MyLinear):
    layer = MyLinear(3, 2)
    layer.forward(X_LIN)
    cache = getattr(layer, "cache", None)
    assert cache is not None, "no layer.cache after forward"
    assert np.shape(cache) == X_LIN.shape and np.allclose(cache, X_LIN), \
        f"layer.cache is {np.shape(cache)}, not the (4, 3) input X"
    return True


def _layer_shape_error(MyLinear, bad):
    layer = MyLinear(3, 2)
    try:
        out = layer.forward(bad)
    except bp.ShapeError as err:
        message = str(err)
        received = str(bad.shape)
        assert received in message, f"the message {message!r} does not show the received " \
                                    f"shape {received}"
        assert "3" in message.replace(received, ""), \
            f"the message {message!r} does not show the expected shape (N, 3)"
        return True
    raise AssertionError(f"it returned shape {np.shape(out)} instead of raising")


@part("ex01_my_linear", points=3)
def my_linear_part(t, MyLinear):
    """a Linear-like class: weights, forward and a shape check"""
    t.true("MyLinear(3, 2) has W of shape (3, 2) and b of shape (2,)",
           lambda: _layer_shapes(MyLinear), "wrong parameter shapes")
    t.true("weights drawn from U(-1/sqrt(D), 1/sqrt(D)) with the given rng",
           lambda: _layer_init(MyLinear), "initialisation")
    t.close("forward(X) = X @ W + b on a (4, 3) batch",
            lambda: _layer_forward(MyLinear, X_LIN, W_LIN, B_LIN, call=False),
            X_LIN @ W_LIN + B_LIN, points=2, mistakes=_linear_mistakes(X_LIN, W_LIN, B_LIN))
    t.close("layer(X) calls forward, square case N = D = H = 3",
            lambda: _layer_forward(MyLinear, X_SQ, W_SQ, B_SQ, call=True),
            X_SQ @ W_SQ + B_SQ, points=2, mistakes=_linear_mistakes(X_SQ, W_SQ, B_SQ))
    t.true("forward keeps its input in layer.cache", lambda: _layer_cache(MyLinear),
           "the backward pass will need X")
    t.true("input of shape (4, 2) raises bp.ShapeError naming both shapes",
           lambda: _layer_shape_error(MyLinear, np.ones((4, 2))), "no clear ShapeError",
           points=2)
    t.true("one example as a 1-D array, shape (3,), raises bp.ShapeError",
           lambda: _layer_shape_error(MyLinear, np.ones(3)),
           "a layer takes a batch (N, D): x[None, :] is one example")


# -- 7. a hidden layer through given points ---------------------------------------------------------

# Uneven knots, H = 4; every change of slope is non-zero, so a missing or misplaced unit shows.
KNOTS = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])
VALUES = np.array([1.0, -1.0, 0.5, 0.0, 2.0])
X_KNOTS = KNOTS[:, None]  # (5, 1): the knots as a batch
X_BETWEEN = np.linspace(-2.0, 2.5, 61)[:, None]  # (61, 1): the pieces in between
# The lesson's curve with H = 8 even knots.
KNOTS_SIN = np.linspace(-3.0, 3.0, 9)
VALUES_SIN = np.sin(2 * KNOTS_SIN + 1) + KNOTS_SIN / 2
X_SIN = np.linspace(-3.0, 3.0, 121)[:, None]


def _interpolant(knots, values, slopes_as_weights=False, reversed_changes=False,
                 bias_sign=-1.0, first_knot=0, start=True):
    """The lesson's construction, or a buggy twin of it (the keyword arguments plant one bug)."""
    slopes = np.diff(values) / np.diff(knots)
    changes = slopes if slopes_as_weights else np.diff(slopes, prepend=0.0)
    H = len(slopes)
    return {"W1": np.ones((1, H)), "b1": bias_sign * knots[first_knot:first_knot + H],
            "W2": (-changes if reversed_changes else changes)[:, None],
            "b2": np.array([values[0] if start else 0.0])}


INTERPOLANT_BUGS = {
    "the slopes s_k as output weights instead of their changes s_k - s_(k-1)":
        {"slopes_as_weights": True},
    "the changes of slope the wrong way round (s_(k-1) - s_k)": {"reversed_changes": True},
    "b1 = +knots: the units switch on at -t instead of t": {"bias_sign": 1.0},
    "unit h switched on at t_h instead of t_(h-1) (b1 from the second knot on)": {"first_knot": 1},
    "b2 = 0: the output must start at the first value v_0": {"start": False},
}


def _interpolant_mistakes(knots, values, X):
    return {name: _mlp(X, _interpolant(knots, values, **bug))
            for name, bug in INTERPOLANT_BUGS.items()}


def _run_interpolant(relu_interpolant, knots, values, X):
    """The student's network on X, (M, 1) -> (M, 1), after a check of the parameters' shapes."""
    params = relu_interpolant(knots.copy(), values.copy())
    H = len(knots) - 1
    expected = {"W1": (1, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}
    assert isinstance(params, dict) and set(expected) <= set(params), \
        f"return a dict with the keys {sorted(expected)}, got {params!r:.80}"
    got = {name: np.shape(params[name]) for name in expected}
    wrong = [f"{name} has shape {got[name]}, not {shape}" for name, shape in expected.items()
             if got[name] != shape]
    assert not wrong, "; ".join(wrong) + (
        " (W2 is a column, (H, 1), as the lesson's W^(2))" if got["W2"] == (H,) else "")
    return _mlp(X, {name: np.asarray(params[name], dtype=float) for name in expected})


@part("ex01_relu_interpolant", points=3)
def relu_interpolant_part(t, relu_interpolant):
    """a hidden layer of ReLU units through given points"""
    t.close("the network passes through the 5 points (uneven knots)",
            lambda: _run_interpolant(relu_interpolant, KNOTS, VALUES, X_KNOTS), VALUES[:, None],
            mistakes=_interpolant_mistakes(KNOTS, VALUES, X_KNOTS))
    t.close("straight between the knots: equal to np.interp on 61 points",
            lambda: _run_interpolant(relu_interpolant, KNOTS, VALUES, X_BETWEEN),
            np.interp(X_BETWEEN[:, 0], KNOTS, VALUES)[:, None],
            mistakes=_interpolant_mistakes(KNOTS, VALUES, X_BETWEEN))
    t.close("the lesson's curve sin(2x + 1) + x/2 with H = 8",
            lambda: _run_interpolant(relu_interpolant, KNOTS_SIN, VALUES_SIN, X_SIN),
            np.interp(X_SIN[:, 0], KNOTS_SIN, VALUES_SIN)[:, None],
            mistakes=_interpolant_mistakes(KNOTS_SIN, VALUES_SIN, X_SIN))
