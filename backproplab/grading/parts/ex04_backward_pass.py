"""Parts of exercise 04 (the backward pass in matrix form): the backward passes of a linear
layer, ReLU, sigmoid and softmax + cross-entropy, the backward pass of a network of any depth
as a loop over its layers, a numerical gradient, a ``MyLinear`` layer checked with
``backproplab.gradcheck``, and the overfit-a-tiny-batch check.

A backward pass returns several arrays at once, (dX, dW, db). Each test compares *all* of them,
so that a bug in any one (a transposed dW, a bias gradient not summed over the batch) fails
every test of its part, and the message says which array is wrong and names the likely mistake.
Every input is given to the student's code as a fresh copy: an answer that modifies its inputs
in place cannot change the expected values of the next test.
"""

import numpy as np

from ...data import one_hot
from ...experiments.lesson04 import tiny_batch, tiny_network
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
    X, W, dZ = _normal(n, d), _normal(d, h), _normal(n, h)
    return X, W, dZ


LINEAR_CASES = {
    "a (4, 3) batch through a 3 -> 2 layer": _linear_case(4, 3, 2),
    "a square 3 -> 3 layer on a batch of 5 (a transposed dW has the right shape here)":
        _linear_case(5, 3, 3),
    "a (6, 2) batch through a 2 -> 5 layer": _linear_case(6, 2, 5),
}


def linear_grads(dZ, X, W):
    return {"dX": dZ @ W.T, "dW": X.T @ dZ, "db": dZ.sum(axis=0)}


def _linear_mistakes(dZ, X, W):
    right = linear_grads(dZ, X, W)
    n, square = len(X), W.shape[0] == W.shape[1]
    return {
        "a transposed weight gradient (dZ.T @ X instead of X.T @ dZ)": {"dW": right["dW"].T},
        "db not summed over the batch (dZ returned as it is, one row per example)":
            {"db": dZ},
        "db not summed over the batch (the mean over the batch, N times too small; the 1/N "
        "is already inside dZ)": {"db": dZ.mean(axis=0)},
        "db summed over the wrong axis (over the features instead of the batch)":
            {"db": dZ.sum(axis=1)},
        "the weight gradient averaged over the batch (the 1/N is already inside dZ)":
            {"dW": right["dW"] / n},
        "dZ @ W instead of dZ @ W.T": {"dX": dZ @ W if square else None},
    }


@part("ex04_linear_backward", points=3)
def linear_backward_part(t, linear_backward):
    """the backward pass of a linear layer"""
    for name, (X, W, dZ) in LINEAR_CASES.items():
        t.close_all(f"{name}: (dX, dW, db)",
                    lambda X=X, W=W, dZ=dZ: linear_backward(dZ.copy(), X.copy(), W.copy()),
                    linear_grads(dZ, X, W), mistakes=_linear_mistakes(dZ, X, W),
                    hint="expected dX = dZ @ W.T, dW = X.T @ dZ, db = dZ.sum(axis=0)",
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


# -- part 5: backward_layers ---------------------------------------------------------------------


def forward_layers(X, W, b):
    """The lesson's forward pass: K layers, ReLU after all but the last; (logits, (A, Z))."""
    K = len(W)
    A, Z = {0: X}, {}
    for l in range(1, K + 1):
        Z[l] = A[l - 1] @ W[l] + b[l]
        if l < K:
            A[l] = np.maximum(Z[l], 0)
    return Z[K], (A, Z)


def _loop_twin(W, cache, dZ, bug):
    """A backward loop with one of the usual bugs; None where the bug cannot run (a shape or
    a layer that does not exist), so that it is simply not offered as an explanation."""
    A, Z = cache
    K = len(W)
    dW, db = {}, {}
    try:
        for l in range(K, 0, -1):
            A_in = A[l] if bug == "A[l]" else A[l - 1]
            dW[l] = dZ.T @ A_in if bug == "transposed" else A_in.T @ dZ
            db[l] = {"db mean": dZ.mean(axis=0),
                     "db axis": dZ.sum(axis=1)}.get(bug, dZ.sum(axis=0))
            if bug == "1/N again":
                dW[l], db[l] = dW[l] / len(dZ), db[l] / len(dZ)
            dA = dZ @ W[l].T
            if l > 1:
                mask = {"mask Z[l]": Z[l] > 0, "mask dA": dA > 0,
                        "no mask": np.ones_like(dA)}.get(bug, Z[l - 1] > 0)
                if mask.shape != dA.shape:
                    return None
                dZ = dA * mask
        if bug == "dX = dZ":
            dA = dZ
    except (KeyError, ValueError):  # A[K] does not exist; shapes that do not multiply
        return None
    return _labeled(dW, db, dA)


def _labeled(dW, db, dX):
    return {**{f"dW[{l}]": dW[l] for l in sorted(dW)}, **{f"db[{l}]": db[l] for l in sorted(db)},
            "dX": dX}


_LOOP_BUGS = {
    "mask Z[l]": "the ReLU mask of the wrong layer (Z[l] > 0 instead of Z[l - 1] > 0: off by "
                 "one)",
    "mask dA": "a ReLU mask from the wrong tensor (dA > 0 instead of Z[l - 1] > 0)",
    "no mask": "the ReLU mask forgotten (dZ = dA)",
    "transposed": "a transposed weight gradient (dZ.T @ A[l - 1] instead of A[l - 1].T @ dZ)",
    "A[l]": "the wrong activation in dW (A[l] instead of A[l - 1], the layer's input)",
    "db mean": "db not summed over the batch (the mean over the batch instead of the sum)",
    "db axis": "db summed over the wrong axis (axis=1 gives one number per example; b has one "
               "per unit: axis=0)",
    "1/N again": "divided by N again (dZ already holds the 1/N of the loss)",
    "dX = dZ": "dX taken from the last dZ instead of dZ @ W[1].T",
}


def _loop_case(sizes, n, cross_entropy=False):
    W = {l: _normal(d, h) / np.sqrt(d) for l, (d, h) in enumerate(zip(sizes[:-1], sizes[1:]), 1)}
    b = {l: _normal(h) * 0.5 for l, h in enumerate(sizes[1:], 1)}
    X = _normal(n, sizes[0])
    logits, cache = forward_layers(X, W, b)
    if cross_entropy:
        loss = CrossEntropyLoss()
        loss(logits, _RNG.integers(0, sizes[-1], size=n))
        dZ = loss.backward()
    else:
        dZ = _normal(n, sizes[-1]) / n
    return W, b, cache, dZ


def _library_grads(W, b, cache, dZ):
    """The expected gradients, from backproplab's own layers (Sequential.backward)."""
    rng = np.random.default_rng(0)  # not the package generator: the student's stays as it is
    layers = []
    for l in range(1, len(W) + 1):
        layers.append(Linear(*W[l].shape, rng=rng))
        layers[-1].W.data[...], layers[-1].b.data[...] = W[l], b[l]
        if l < len(W):
            layers.append(ReLU())
    model = Sequential(*layers)
    model(cache[0][0])
    dX = model.backward(dZ)
    linears = layers[::2]
    return _labeled({l: m.W.grad for l, m in enumerate(linears, 1)},
                    {l: m.b.grad for l, m in enumerate(linears, 1)}, dX)


def _copied(W, cache):
    A, Z = cache
    return ({l: w.copy() for l, w in W.items()},
            ({l: a.copy() for l, a in A.items()}, {l: z.copy() for l, z in Z.items()}))


def _run_loop(backward_layers, W, cache, dZ):
    def run():
        W_, cache_ = _copied(W, cache)
        K = len(W)
        try:
            out = backward_layers(W_, cache_, dZ.copy())
        except KeyError as exc:  # a layer index off by one: say which indices exist
            raise AssertionError(
                f"raised KeyError: {exc}: the cache holds A[0] = X .. A[{K - 1}] and Z[1] .. "
                f"Z[{K}], so layer l's input is A[l - 1] (A[l] is its output) and the mask "
                "before layer l (for l > 1) is Z[l - 1] > 0") from exc
        if not (isinstance(out, tuple) and len(out) == 3 and isinstance(out[0], dict)
                and isinstance(out[1], dict)):
            raise AssertionError("backward_layers must return (dW, db, dX): two dicts keyed by "
                                 f"the layer number 1 .. {len(W)}, and an array")
        missing = [l for l in W if l not in out[0] or l not in out[1]]
        if missing:
            raise AssertionError(f"dW and db need an entry for every layer 1 .. {len(W)}; "
                                 f"missing: {missing} (did the loop stop before layer 1?)")
        return _labeled(*out)
    return run


LOOP_CASES = {
    "K = 1 (no hidden layer, so no mask): 3 -> 2 on a batch of 4": _loop_case((3, 2), 4),
    "K = 2: 3 -> 5 -> 2 on a batch of 6": _loop_case((3, 5, 2), 6),
    "K = 4, every layer 4 wide (an off-by-one mask has the right shape here), batch of 5":
        _loop_case((4, 4, 4, 4, 4), 5),
    "K = 3: 2 -> 8 -> 8 -> 3, dZ from CrossEntropyLoss on 12 examples":
        _loop_case((2, 8, 8, 3), 12, cross_entropy=True),
}


@part("ex04_backward_layers", points=4)
def backward_layers_part(t, backward_layers):
    """the backward pass of a network of any depth, as a loop over its layers"""
    for name, (W, b, cache, dZ) in LOOP_CASES.items():
        expected = _library_grads(W, b, cache, dZ)
        mistakes = {text: (lambda bug=bug: _loop_twin(W, cache, dZ, bug) or {})
                    for bug, text in _LOOP_BUGS.items()}
        t.close_all(f"{name}: dW, db and dX", _run_loop(backward_layers, W, cache, dZ),
                    expected, mistakes=mistakes, hint="not the gradients of the network",
                    rtol=1e-6, atol=1e-9)


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


# -- part 8: the overfit-a-tiny-batch check --------------------------------------------------------


def _train_twin(model, X, y, steps, lr, zero=True, sign=-1.0, biases=True):
    """The reference training loop (lesson04.train_steps) with one of the usual bugs."""
    loss_fn, losses = CrossEntropyLoss(), []
    for _ in range(steps):
        if zero:
            model.zero_grad()
        losses.append(loss_fn(model(X), y))
        model.backward(loss_fn.backward(), input_grad=False)
        for name, p in model.named_parameters():
            if biases or not name.endswith("b"):
                p.data += sign * lr * p.grad
    return losses


def _overfit_result(losses, model, X, y):
    accuracy = float(np.mean(np.argmax(model(X), axis=1) == y))
    return {"losses": np.asarray(losses, dtype=float), "accuracy": np.float64(accuracy)}


def _fresh(seed, bug, grads):
    model = tiny_network(seed, hidden=32, bug=bug)
    for p in model.parameters():  # gradients left over from an earlier backward pass
        p.grad = None if grads is None else np.full(p.data.shape, grads)
    return model


def _reference_overfit(seed, bug, steps, lr, grads=None, **twin):
    X, y = tiny_batch(seed, n=8)
    model = _fresh(seed, bug, grads)
    with np.errstate(all="ignore"):  # a step along the gradient may overflow: not a warning
        losses = _train_twin(model, X, y, steps, lr, **twin)
        return _overfit_result(losses, model, X, y)


def _run_overfit(overfit, seed, bug, steps, lr, grads=None):
    def run():
        X, y = tiny_batch(seed, n=8)
        out = overfit(_fresh(seed, bug, grads), X.copy(), y.copy(), steps, lr)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError("overfit must return (losses, accuracy): the list of the "
                                 "losses of every step, and the final training accuracy")
        losses, accuracy = out
        return {"losses": np.asarray(losses, dtype=float), "accuracy": accuracy}
    return run


def _overfit_mistakes(seed, bug, steps, lr, grads=None):
    def twin(**kwargs):
        return lambda: _reference_overfit(seed, bug, steps, lr, grads, **kwargs)
    return {
        "zero_grad() not called: every step used the sum of all gradients so far":
            twin(zero=False),
        "a step along the gradient (p.data += lr * p.grad) instead of against it":
            twin(sign=1.0),
        "the biases not updated (only the weights)": twin(biases=False),
    }


@part("ex04_overfit", points=3)
def overfit_part(t, overfit):
    """the overfit-a-tiny-batch check"""
    hint = "not the training run expected"
    for name, seed, bug, grads in [
            ("a correct 2-32-3 network on 8 examples, 200 steps at lr 1: losses and accuracy "
             "(it must reach 1.0)", 0, None, None),
            ("the same with gradients left over in every p.grad before training", 1, None, 0.5),
            ("a network with the ReLU mask from the gradient (a planted bug): the loss stays "
             "high, and overfit must say so", 2, "relu_mask", None)]:
        t.close_all(name, _run_overfit(overfit, seed, bug, 200, 1.0, grads),
                    _reference_overfit(seed, bug, 200, 1.0, grads),
                    mistakes=_overfit_mistakes(seed, bug, 200, 1.0, grads), hint=hint,
                    rtol=1e-6, atol=1e-9)
