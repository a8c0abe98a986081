"""Parts of exercise 04 (the backward pass in matrix form): the backward passes of a linear
layer, ReLU, sigmoid and softmax + cross-entropy, a two-layer network's full backward pass, a
numerical gradient, and a ``MyLinear`` layer checked with ``backproplab.gradcheck``.

A backward pass returns several arrays at once, (dX, dW, db). Each test compares *all* of them,
so that a bug in any one (a transposed dW, a bias gradient not summed over the batch) fails
every test of its part, and the message says which array is wrong and names the likely mistake.
Every input is given to the student's code as a fresh copy: an answer that modifies its inputs
in place cannot change the expected values of the next test.
"""

import numpy as np

from ...data import one_hot
from ...functional import sigmoid, softmax
from ...gradcheck import check_layer, numerical_gradient
from ...layers import Linear, ReLU, Sequential
from ...losses import CrossEntropyLoss
from ..checks import compare_all
from ..compare import same_value
from ..registry import part

_RNG = np.random.default_rng(404)  # all the fixed inputs below, drawn once at import


def _normal(*shape):
    return _RNG.normal(size=shape)


# -- part 1: linear_backward ---------------------------------------------------------------


def _linear_case(n, d, h):
    X, W, dY = _normal(n, d), _normal(d, h), _normal(n, h)
    return X, W, dY


LINEAR_CASES = {
    "a (4, 3) batch through a 3 -> 2 layer": _linear_case(4, 3, 2),
    "a square 3 -> 3 layer on a batch of 5 (a transposed dW has the right shape here)":
        _linear_case(5, 3, 3),
    "a (6, 2) batch through a 2 -> 5 layer": _linear_case(6, 2, 5),
}


def linear_grads(dY, X, W):
    return {"dX": dY @ W.T, "dW": X.T @ dY, "db": dY.sum(axis=0)}


def _linear_mistakes(dY, X, W):
    right = linear_grads(dY, X, W)
    n, square = len(X), W.shape[0] == W.shape[1]
    return {
        "a transposed weight gradient (dY.T @ X instead of X.T @ dY)": {"dW": right["dW"].T},
        "db not summed over the batch (dY returned as it is, one row per example)":
            {"db": dY},
        "db not summed over the batch (the mean over the batch, N times too small; the 1/N "
        "is already inside dY)": {"db": dY.mean(axis=0)},
        "db summed over the wrong axis (over the features instead of the batch)":
            {"db": dY.sum(axis=1)},
        "the weight gradient averaged over the batch (the 1/N is already inside dY)":
            {"dW": right["dW"] / n},
        "dY @ W instead of dY @ W.T": {"dX": dY @ W if square else None},
    }


@part("ex04_linear_backward", points=3)
def linear_backward_part(t, linear_backward):
    """the backward pass of a linear layer"""
    for name, (X, W, dY) in LINEAR_CASES.items():
        t.close_all(f"{name}: (dX, dW, db)",
                    lambda X=X, W=W, dY=dY: linear_backward(dY.copy(), X.copy(), W.copy()),
                    linear_grads(dY, X, W), mistakes=_linear_mistakes(dY, X, W),
                    hint="expected dX = dY @ W.T, dW = X.T @ dY, db = dY.sum(axis=0)",
                    rtol=1e-6, atol=1e-9)


# -- part 2: relu_backward ----------------------------------------------------------------------

RELU_Z = _normal(5, 4)
RELU_DA = _normal(5, 4)
KINK_Z = np.array([[-1.0, 0.0, 2.0, 0.3], [0.5, 0.0, -3.0, 1.5]])
KINK_DA = np.array([[0.7, -1.2, -0.4, 2.0], [-0.9, 0.8, 1.1, 0.6]])
RELU_Z3, RELU_DA3 = _normal(2, 3, 4), _normal(2, 3, 4)

_RELU_WRONG_TENSOR = "a ReLU mask from the wrong tensor (dA > 0 instead of Z > 0: the mask " \
                     "comes from the forward pass)"


def _relu_mistakes(dA, Z):
    return {
        _RELU_WRONG_TENSOR: dA * (dA > 0),
        "the mask Z >= 0 (the gradient at the kink Z = 0 is 0, as in PyTorch)": dA * (Z >= 0),
        "the forward ReLU max(Z, 0) instead of the gradient": np.maximum(Z, 0),
        "dA * Z: Z itself instead of the 0/1 mask": dA * Z,
        "the mask forgotten (dA returned unchanged)": dA,
    }


@part("ex04_relu_backward", points=2)
def relu_backward_part(t, relu_backward):
    """the backward pass of ReLU"""
    cases = [("a (5, 4) batch", RELU_DA, RELU_Z),
             ("entries exactly at the kink Z = 0 get 0", KINK_DA, KINK_Z),
             ("any shape: a (2, 3, 4) array", RELU_DA3, RELU_Z3)]
    for name, dA, Z in cases:
        t.close(f"{name}: dZ", lambda dA=dA, Z=Z: relu_backward(dA.copy(), Z.copy()),
                dA * (Z > 0), mistakes=_relu_mistakes(dA, Z))


# -- part 3: sigmoid_backward ---------------------------------------------------------------------

SIG_A = sigmoid(_normal(4, 3) * 2)
SIG_DA = _normal(4, 3)
SAT_A = sigmoid(np.array([[-30.0, -8.0, 0.0, 8.0, 30.0]]))
SAT_DA = np.array([[1.0, -2.0, 0.5, 1.5, -1.0]])
HALF_A = np.full((2, 3), 0.5)
HALF_DA = np.array([[1.0, -1.0, 2.0], [0.5, -0.25, 3.0]])

_SIGMOID_FROM_INPUT = "sigmoid′ computed from the input instead of the output: " \
                      "sigmoid(A) * (1 - sigmoid(A)) treats the output A as if it were Z; " \
                      "with the output it is A * (1 - A)"


def _sigmoid_mistakes(dA, A):
    s = sigmoid(A)
    return {
        _SIGMOID_FROM_INPUT: dA * s * (1 - s),
        "the upstream gradient dA forgotten (A * (1 - A) alone)": A * (1 - A),
        "tanh's derivative 1 - A**2 instead of the sigmoid's A * (1 - A)": dA * (1 - A ** 2),
        "dA * A: the (1 - A) factor forgotten": dA * A,
    }


@part("ex04_sigmoid_backward", points=2)
def sigmoid_backward_part(t, sigmoid_backward):
    """the backward pass of the sigmoid, from its output"""
    cases = [("a (4, 3) batch", SIG_DA, SIG_A),
             ("saturated units (Z = ±8, ±30) pass almost nothing back", SAT_DA, SAT_A),
             ("A = 0.5 everywhere (Z = 0): dZ = dA / 4", HALF_DA, HALF_A)]
    for name, dA, A in cases:
        t.close(f"{name}: dZ", lambda dA=dA, A=A: sigmoid_backward(dA.copy(), A.copy()),
                dA * A * (1 - A), mistakes=_sigmoid_mistakes(dA, A), atol=1e-12)


# -- part 4: softmax_ce_backward ------------------------------------------------------------------

CE_LOGITS = _normal(5, 4) * 2
CE_LABELS = np.array([0, 3, 1, 1, 2])
BIG_LOGITS = np.array([[1000.0, 0.0, -1000.0], [500.0, 501.0, 499.0], [-800.0, -800.0, -799.0]])
BIG_LABELS = np.array([1, 2, 0])
CHECK_LOGITS = _normal(3, 5)
CHECK_LABELS = np.array([4, 0, 2])


def softmax_ce_grad(logits, y):
    n, c = logits.shape
    return (softmax(logits, axis=1) - one_hot(y, c)) / n


def _naive_softmax(z, axis=1):
    with np.errstate(all="ignore"):
        e = np.exp(z)
        return e / e.sum(axis=axis, keepdims=True)


def _ce_mistakes(logits, y):
    n, c = logits.shape
    P, T = softmax(logits, axis=1), one_hot(y, c)
    return {
        "a forgotten 1/N (P - T instead of (P - T) / N: the loss is a mean over the batch)":
            P - T,
        "softmax without max-subtraction (overflow at large logits): subtract each row's "
        "max before exp": (_naive_softmax(logits) - T) / n,
        "T - P instead of P - T (the sign)": (T - P) / n,
        "the one-hot targets not subtracted (P / N)": P / n,
        "divided by N * C (a mean over every entry) instead of by N": (P - T) / (n * c),
        "the softmax over the batch axis (axis=0) instead of over the classes":
            (softmax(logits, axis=0) - T) / n,
        "T[y] = 1 sets whole rows of T (the rows numbered y): the one-hot targets need "
        "T[np.arange(N), y] = 1": (P - np.isin(np.arange(n), y)[:, None]) / n,
    }


def _numerical_ce_grad():
    loss = CrossEntropyLoss()
    return numerical_gradient(lambda z: loss(z, CHECK_LABELS), CHECK_LOGITS.copy())


@part("ex04_softmax_ce_backward", points=2)
def softmax_ce_backward_part(t, softmax_ce_backward):
    """the gradient of softmax + cross-entropy with respect to the logits"""
    t.close("5 examples, 4 classes: dZ = (P - T) / N",
            lambda: softmax_ce_backward(CE_LOGITS.copy(), CE_LABELS.copy()),
            softmax_ce_grad(CE_LOGITS, CE_LABELS), mistakes=_ce_mistakes(CE_LOGITS, CE_LABELS))
    t.close("large logits (±1000): finite, no overflow",
            lambda: softmax_ce_backward(BIG_LOGITS.copy(), BIG_LABELS.copy()),
            softmax_ce_grad(BIG_LOGITS, BIG_LABELS), mistakes=_ce_mistakes(BIG_LOGITS, BIG_LABELS))
    t.close("agrees with the numerical gradient of CrossEntropyLoss (3 examples, 5 classes)",
            lambda: softmax_ce_backward(CHECK_LOGITS.copy(), CHECK_LABELS.copy()),
            _numerical_ce_grad(), mistakes=_ce_mistakes(CHECK_LOGITS, CHECK_LABELS),
            rtol=1e-6, atol=1e-9)


# -- part 5: mlp_backward ----------------------------------------------------------------------


def _mlp_case(n, d, h, c, cross_entropy=False):
    params = {"W1": _normal(d, h), "b1": _normal(h) * 0.5,
              "W2": _normal(h, c) / np.sqrt(h), "b2": _normal(c) * 0.5}
    X = _normal(n, d)
    cache = mlp_forward(X, params)
    if cross_entropy:
        y = _RNG.integers(0, c, size=n)
        loss = CrossEntropyLoss()
        loss(cache["Z2"], y)
        dZ2 = loss.backward()
    else:
        dZ2 = _normal(n, c) / n
    return cache, params, dZ2


def mlp_forward(X, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    return {"X": X, "Z1": Z1, "A1": A1, "Z2": A1 @ params["W2"] + params["b2"]}


def mlp_grads(cache, params, dZ2, mask=None, transpose=False, bias=None, scale=1.0):
    """The reference backward pass, and its usual bugs: ``mask`` a function of
    (cache, dA1) giving the ReLU mask, ``transpose`` dW's transposed, ``bias`` a function
    of dZ giving db."""
    dZ2 = dZ2 * scale
    bias = bias or (lambda dZ: dZ.sum(axis=0))
    dW2 = cache["A1"].T @ dZ2
    dA1 = dZ2 @ params["W2"].T
    m = (cache["Z1"] > 0) if mask is None else mask(cache, dA1)
    if m is None:
        return None
    dZ1 = dA1 * m
    dW1 = cache["X"].T @ dZ1
    if transpose:
        dW1, dW2 = dW1.T, dW2.T
    return {"W1": dW1, "b1": bias(dZ1), "W2": dW2, "b2": bias(dZ2)}


def _same_shape(a, b):
    return a if a.shape == b.shape else None


def _mlp_mistakes(cache, params, dZ2):
    n = len(cache["X"])

    def bug(**kwargs):
        return lambda: mlp_grads(cache, params, dZ2, **kwargs) or {}

    return {
        "a ReLU mask from the wrong tensor (dA1 > 0 instead of Z1 > 0)":
            bug(mask=lambda c, dA1: dA1 > 0),
        "a ReLU mask from the output of the wrong layer (Z2 > 0 instead of Z1 > 0)":
            bug(mask=lambda c, dA1: _same_shape(c["Z2"] > 0, dA1)),
        "a ReLU mask from the wrong tensor (X > 0 instead of Z1 > 0)":
            bug(mask=lambda c, dA1: _same_shape(c["X"] > 0, dA1)),
        "the ReLU mask forgotten (dZ1 = dA1)": bug(mask=lambda c, dA1: np.ones_like(dA1)),
        "a transposed weight gradient (dZ.T @ A instead of A.T @ dZ)": bug(transpose=True),
        "db not summed over the batch (dZ returned as it is)": bug(bias=lambda dZ: dZ),
        "db not summed over the batch (the mean over the batch instead of the sum)":
            bug(bias=lambda dZ: dZ.mean(axis=0)),
        "db summed over the wrong axis (over the units, axis=1, instead of the batch)":
            bug(bias=lambda dZ: dZ.sum(axis=1)),
        "divided by N again (dZ2 already holds the 1/N of the loss)": bug(scale=1.0 / n),
    }


MLP_CASES = {
    "N = 6, D = 3, H = 5, C = 2, a random dZ2": _mlp_case(6, 3, 5, 2),
    "N = 5 and D = H = C = 4 (square: a transposed or misplaced gradient has the right shape)":
        _mlp_case(5, 4, 4, 4),
    "N = 12, D = 2, H = 8, C = 3, dZ2 from CrossEntropyLoss": _mlp_case(12, 2, 8, 3,
                                                                       cross_entropy=True),
}


def _copies(d):
    return {key: value.copy() for key, value in d.items()}


@part("ex04_mlp_backward", points=4)
def mlp_backward_part(t, mlp_backward):
    """the backward pass of a two-layer network"""
    for name, (cache, params, dZ2) in MLP_CASES.items():
        t.close_all(f"{name}: dW1, db1, dW2, db2",
                    lambda c=cache, p=params, g=dZ2: mlp_backward(_copies(c), _copies(p), g.copy()),
                    _library_mlp_grads(cache, params, dZ2),
                    mistakes=_mlp_mistakes(cache, params, dZ2),
                    hint="not the gradients of the network", rtol=1e-6, atol=1e-9)


def _library_mlp_grads(cache, params, dZ2):
    """The expected gradients, from backproplab's own layers (Sequential.backward)."""
    d, h = params["W1"].shape
    c = params["W2"].shape[1]
    rng = np.random.default_rng(0)  # not the package generator: the student's stays as it is
    model = Sequential(Linear(d, h, rng=rng), ReLU(), Linear(h, c, rng=rng))
    for layer, (w, b) in ((model[0], ("W1", "b1")), (model[2], ("W2", "b2"))):
        layer.W.data[...], layer.b.data[...] = params[w], params[b]
    model(cache["X"])
    model.backward(dZ2, input_grad=False)
    return {"W1": model[0].W.grad, "b1": model[0].b.grad,
            "W2": model[2].W.grad, "b2": model[2].b.grad}


# -- part 6: numerical_gradient ----------------------------------------------------------------

NG_X = _normal(3, 4)
NG_G = _normal(3, 4)
CUBE_X = np.array([[1.0, 2.0], [-1.0, 0.5]])
MAT_X, MAT_W, MAT_G = _normal(5, 3), _normal(3, 2), _normal(5, 2)


def _finite_difference(f, x, eps, kind):
    x = x.astype(float).copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        center = f(x)
        grad[i] = {"central": (plus - minus) / (2 * eps), "forward": (plus - center) / eps,
                   "h": (plus - minus) / eps, "half": (plus - center) / (2 * eps)}[kind]
    return grad


def _ng_mistakes(f, x, eps):
    return {
        "a forward difference (f(x + eps) - f(x)) / eps instead of the central one":
            _finite_difference(f, x, eps, "forward"),
        "the central difference divided by eps instead of 2 eps":
            _finite_difference(f, x, eps, "h"),
        "f(x) where f(x - eps) belongs: (f(x + eps) - f(x)) / (2 eps), half a forward "
        "difference": _finite_difference(f, x, eps, "half"),
        "every entry moved at once, f(x + eps) - f(x - eps): one number for all entries; move "
        "one entry at a time": np.full(x.shape, (f(x + eps) - f(x - eps)) / (2 * eps)),
    }


def _sin_loss(x):
    return float(np.sum(np.sin(x) * NG_G))


def _cube_loss(x):
    return float(np.sum(x ** 3))


def _matrix_loss(w):
    return float(np.sum((MAT_X @ w) * MAT_G))


def _restores(numerical_gradient_fn):
    W = MAT_W.copy()
    grad = numerical_gradient_fn(_matrix_loss, W)
    return {"the gradient": grad, "x afterwards": W}


@part("ex04_numerical_gradient", points=2, writable=(1, "x"))
def numerical_gradient_part(t, numerical_gradient_fn):
    """a numerical gradient by central differences"""
    t.close("sum(sin(x) * G) for a (3, 4) x, default eps: cos(x) * G within 1e-8",
            lambda: numerical_gradient_fn(_sin_loss, NG_X.copy()), np.cos(NG_X) * NG_G,
            mistakes=_ng_mistakes(_sin_loss, NG_X, 1e-6), rtol=0, atol=1e-8)
    t.close("sum(x**3) with eps = 0.1: exactly 3 x**2 + eps**2",
            lambda: numerical_gradient_fn(_cube_loss, CUBE_X.copy(), 0.1),
            3 * CUBE_X ** 2 + 0.01, rtol=1e-9, mistakes={
                **_ng_mistakes(_cube_loss, CUBE_X, 0.1),
                "the eps argument ignored (a fixed small step used instead of eps = 0.1)":
                    3 * CUBE_X ** 2,
            })
    t.close_all("sum((X @ W) * G) with respect to a (3, 2) W: X.T @ G, and W restored",
                lambda: _restores(numerical_gradient_fn),
                {"the gradient": MAT_X.T @ MAT_G, "x afterwards": MAT_W},
                mistakes={
                    "a forward difference (f(x + eps) - f(x)) / eps instead of the central one":
                        {"the gradient": _finite_difference(_matrix_loss, MAT_W, 1e-6, "forward")},
                    "x not restored (each entry left at x[i] - eps)":
                        {"x afterwards": MAT_W - 1e-6},
                    "x not restored (each entry left at x[i] + eps)":
                        {"x afterwards": MAT_W + 1e-6},
                }, hint="each entry must be put back exactly as it was", rtol=1e-6, atol=1e-8,
                exact=("x afterwards",))


# -- part 7: MyLinear, checked with check_layer -------------------------------------------------


def _linear_layer_grads(layer, x, G):
    """Run the student's layer once: (dX, W.grad, b.grad), or the exception's message."""
    layer.zero_grad()
    layer(x.copy())
    dX = layer.backward(G.copy())
    return {"dX": dX, "W": layer.W.grad, "b": layer.b.grad}


def _shape_mistake(exc):
    """The mistake behind the ShapeError of Parameter.accumulate, or None."""
    if "gradient of b" in str(exc):
        return "db not summed over the batch (grad_out instead of grad_out.sum(axis=0))"
    if "gradient of W" in str(exc):
        return "a transposed weight gradient (grad_out.T @ x instead of x.T @ grad_out)"
    return None


def _name_linear_mistake(layer, x, G):
    """The likely mistake in a MyLinear.backward that fails check_layer, or None."""
    W = layer.W.data.copy()
    right = {"dX": G @ W.T, "W": x.T @ G, "b": G.sum(axis=0)}
    try:
        got = _linear_layer_grads(layer, x, G)
    except ValueError as exc:  # Parameter.accumulate refuses a gradient of the wrong shape
        return _shape_mistake(exc)
    except Exception:
        return None
    variants = {
        "a transposed weight gradient (grad_out.T @ x instead of x.T @ grad_out)":
            ("W", right["W"].T),
        "db not summed over the batch (the mean over the batch instead of the sum)":
            ("b", G.mean(axis=0)),
        "dX = grad_out @ W instead of grad_out @ W.T": ("dX", G @ W),
    }
    for description, (key, value) in variants.items():
        if same_value(got[key], value) and not same_value(got[key], right[key]):
            return description
    return None


def _passes_check_layer(MyLinear, d, h, n, seed):
    def run():
        rng = np.random.default_rng(seed)
        layer, x = MyLinear(d, h, rng=rng), rng.normal(size=(n, d))
        report = check_layer(layer, x)
        if report.passed:
            return True
        failing = [f"{name} (max rel err {err:.2g})" for name, err in report.errors.items()
                   if not err <= report.tol]
        message = f"check_layer FAILED for {', '.join(failing)}"
        G = np.random.default_rng(seed + 1).normal(size=(n, h))
        mistake = _name_linear_mistake(MyLinear(d, h, rng=np.random.default_rng(seed)), x, G)
        if mistake:
            message += f": looks like {mistake}"
        elif report.notes:
            message += f" ({report.notes[0]})"
        raise AssertionError(message)
    return run


def _twice(MyLinear):
    """Two backward passes without zero_grad: .grad must hold twice the gradient."""
    def run():
        layer = MyLinear(3, 2, rng=np.random.default_rng(7))
        data = np.random.default_rng(8)
        x, G = data.normal(size=(4, 3)), data.normal(size=(4, 2))
        W = layer.W.data.copy()
        dW, db = x.T @ G, G.sum(axis=0)
        expected = {"dX": G @ W.T, "W.grad after two passes": 2 * dW,
                    "b.grad after two passes": 2 * db,
                    "what backward(..., input_grad=False) returns": None}
        mistakes = {
            "gradients assigned with = instead of accumulated (+=): use "
            "self.W.accumulate(...)": {"W.grad after two passes": dW,
                                       "b.grad after two passes": db},
            "a transposed weight gradient (grad_out.T @ x instead of x.T @ grad_out)":
                {"W.grad after two passes": 2 * dW.T},
            "db not summed over the batch (the mean over the batch instead of the sum)":
                {"b.grad after two passes": 2 * G.mean(axis=0)},
        }
        layer(x.copy())
        try:
            dX = layer.backward(G.copy())
            second = layer.backward(G.copy(), input_grad=False)
        except ValueError as exc:  # Parameter.accumulate: a gradient of the wrong shape
            mistake = _shape_mistake(exc)
            if mistake is None:
                raise
            raise AssertionError(f"backward raised {type(exc).__name__}: {exc}: looks like "
                                 f"{mistake}") from None
        got = {"dX": dX, "W.grad after two passes": layer.W.grad,
               "b.grad after two passes": layer.b.grad,
               "what backward(..., input_grad=False) returns": second}
        return compare_all(got, expected, mistakes, rtol=1e-6, atol=1e-9)
    return run


@part("ex04_mylinear", points=3)
def mylinear_part(t, MyLinear):
    """a Linear layer's backward, checked with check_layer"""
    t.true("check_layer passes on MyLinear(3, 2) with a (4, 3) batch",
           _passes_check_layer(MyLinear, 3, 2, 4, seed=11), "the gradient check failed")
    t.true("check_layer passes on a square MyLinear(4, 4) with a (6, 4) batch",
           _passes_check_layer(MyLinear, 4, 4, 6, seed=12), "the gradient check failed")
    t.true("two backward passes add up (the second with input_grad=False)", _twice(MyLinear),
           "gradients accumulate, and input_grad=False returns None")
