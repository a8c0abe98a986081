"""Tests for backproplab.scalar.Value: the scalar autodiff engine."""

import math
import warnings

import pytest

from backproplab import Value

EPS = 1e-6


def numeric_derivative(f, x, eps=EPS):
    """Central difference (f(x+eps) - f(x-eps)) / 2eps on plain floats."""
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# ------------------------------------------------------------------- every op vs finite differences

# Each entry: name, f(Value-or-float) -> Value-or-float, a point where f is smooth.
UNARY_CASES = [
    ("add_value", lambda a: a + Value(1.5) if isinstance(a, Value) else a + 1.5, 0.7),
    ("add_number_right", lambda a: a + 2.0, 0.7),
    ("add_number_left", lambda a: 2.0 + a, 0.7),
    ("sub_value", lambda a: a - Value(1.5) if isinstance(a, Value) else a - 1.5, 0.7),
    ("sub_number_right", lambda a: a - 2.0, 0.7),
    ("sub_number_left", lambda a: 2.0 - a, 0.7),
    ("mul_value", lambda a: a * Value(-1.5) if isinstance(a, Value) else a * -1.5, 0.7),
    ("mul_number_right", lambda a: a * 3.0, 0.7),
    ("mul_number_left", lambda a: 3.0 * a, 0.7),
    ("div_value", lambda a: a / Value(2.5) if isinstance(a, Value) else a / 2.5, 0.7),
    ("div_number_right", lambda a: a / 4.0, 0.7),
    ("div_number_left", lambda a: 4.0 / a, 0.7),
    ("pow_2", lambda a: a**2, 0.7),
    ("pow_3", lambda a: a**3, -1.3),
    ("pow_half", lambda a: a**0.5, 0.7),
    ("pow_minus_1", lambda a: a**-1, 0.7),
    ("neg", lambda a: -a, 0.7),
    ("exp", lambda a: a.exp() if isinstance(a, Value) else math.exp(a), 0.7),
    ("log", lambda a: a.log() if isinstance(a, Value) else math.log(a), 0.7),
    ("tanh", lambda a: a.tanh() if isinstance(a, Value) else math.tanh(a), 0.7),
    ("sigmoid", lambda a: a.sigmoid() if isinstance(a, Value) else 1 / (1 + math.exp(-a)), 0.7),
    ("sigmoid_negative", lambda a: a.sigmoid() if isinstance(a, Value) else 1 / (1 + math.exp(-a)),
     -2.3),
    ("relu_positive", lambda a: a.relu() if isinstance(a, Value) else max(a, 0.0), 0.7),
    ("relu_negative", lambda a: a.relu() if isinstance(a, Value) else max(a, 0.0), -0.7),
]


@pytest.mark.parametrize("name, f, x0", UNARY_CASES, ids=[c[0] for c in UNARY_CASES])
def test_each_op_matches_finite_differences(name, f, x0):
    a = Value(x0)
    out = f(a)
    assert out.data == pytest.approx(f(x0), rel=1e-12, abs=1e-12)  # forward is the plain formula
    out.backward()
    assert a.grad == pytest.approx(numeric_derivative(f, x0), rel=1e-6, abs=1e-8)


BINARY_CASES = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
]


@pytest.mark.parametrize("name, f", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
def test_binary_ops_give_both_operands_their_gradient(name, f):
    x0, y0 = 1.7, -0.6
    a, b = Value(x0), Value(y0)
    f(a, b).backward()
    assert a.grad == pytest.approx(numeric_derivative(lambda t: f(t, y0), x0), rel=1e-6)
    assert b.grad == pytest.approx(numeric_derivative(lambda t: f(x0, t), y0), rel=1e-6)


def test_composite_expression_matches_finite_differences():
    def f(x, y):
        if isinstance(x, Value):
            return ((x * y + 1.0).tanh() * x.exp() - (y**2 + 1.0).log() / 3.0 + (-x).sigmoid())
        return (math.tanh(x * y + 1.0) * math.exp(x) - math.log(y**2 + 1.0) / 3.0
                + 1 / (1 + math.exp(x)))

    x0, y0 = 0.4, -1.1
    x, y = Value(x0), Value(y0)
    out = f(x, y)
    assert out.data == pytest.approx(f(x0, y0), rel=1e-12)
    out.backward()
    assert x.grad == pytest.approx(numeric_derivative(lambda t: f(t, y0), x0), rel=1e-6)
    assert y.grad == pytest.approx(numeric_derivative(lambda t: f(x0, t), y0), rel=1e-6)


def test_relu_kink_gets_zero_gradient():
    # d relu / dx at exactly 0 is taken as 0, as in PyTorch
    a = Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0


# ------------------------------------------------------------------------------- the max gate

@pytest.mark.parametrize("x0, y0", [(0.7, -1.2), (-0.3, 2.5), (4.0, 3.999)])
def test_max_routes_the_whole_gradient_to_the_larger_input(x0, y0):
    x, y = Value(x0), Value(y0)
    m = x.max(y)
    assert m.data == max(x0, y0) and m.op == "max" and m.children == (x, y)
    (m * 3.0).backward()
    larger, smaller = (x, y) if x0 > y0 else (y, x)
    assert (larger.grad, smaller.grad) == (3.0, 0.0)
    assert x.grad == pytest.approx(numeric_derivative(lambda t: 3 * max(t, y0), x0, 1e-4))
    assert y.grad == pytest.approx(numeric_derivative(lambda t: 3 * max(x0, t), y0, 1e-4))


def test_max_splits_a_tie_in_half_as_a_central_difference_does():
    x, y = Value(1.5), Value(1.5)
    x.max(y).backward()
    assert (x.grad, y.grad) == (0.5, 0.5)
    assert numeric_derivative(lambda t: max(t, 1.5), 1.5) == pytest.approx(0.5)
    z = Value(2.0)
    z.max(z).backward()  # max(z, z) = z
    assert z.grad == 1.0


def test_max_with_a_number_is_relu_away_from_the_kink():
    for x0 in (-2.0, 0.3):
        a, b = Value(x0), Value(x0)
        r, m = a.relu(), b.max(0.0)
        r.backward()
        m.backward()
        assert (m.data, b.grad) == (r.data, a.grad)
        assert m.children == (b,)
    c = Value(0.0)
    c.max(0.0).backward()
    assert c.grad == 0.5  # at the kink: half, where relu() takes 0 (both are subgradients)


def test_max_gate_in_cs231n_circuit():
    # f = 2 (x y + max(z, w)): add distributes, max routes, multiply swaps
    x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
    f = (x * y + z.max(w)) * 2.0
    f.backward()
    assert f.data == -20.0
    assert (x.grad, y.grad, z.grad, w.grad) == (-8.0, 6.0, 2.0, 0.0)


def test_max_propagates_nan():
    assert math.isnan(Value(math.nan).max(1.0).data)
    assert math.isnan(Value(1.0).max(Value(math.nan)).data)


# ---------------------------------------------------------------------------------------- Value.sum

def test_value_sum_equals_builtin_sum_in_data_and_gradients():
    xs = [0.5, -1.25, 2.0, 3.5]

    def build(summer):
        vs = [Value(x) for x in xs]
        # terms reuse vs[0] and mix in a plain number
        terms = [vs[0] * vs[1], vs[2].tanh(), vs[3] ** 2, vs[0], 4.0]
        out = summer(terms)
        out.backward()
        return out.data, [v.grad for v in vs]

    data_fast, grads_fast = build(Value.sum)
    data_slow, grads_slow = build(sum)
    assert data_fast == pytest.approx(data_slow, rel=1e-15)
    assert grads_fast == pytest.approx(grads_slow, rel=1e-15)
    # one node with every Value term as a child, gradient 1 into each
    vs = [Value(x) for x in xs]
    s = Value.sum(vs)
    assert s.op == "sum"
    assert s.children == tuple(vs)
    assert s.local_grads == (1.0,) * len(xs)


def test_value_sum_with_start_and_repeated_term():
    a = Value(2.0)
    s = Value.sum([a, a, 3.0], start=1.0)
    assert s.data == 8.0  # 1 + 2 + 2 + 3
    s.backward()
    assert a.grad == 2.0  # a appears twice


# ---------------------------------------------------------------------- the tanh neuron (micrograd)

def test_tanh_neuron_known_values():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b  # = 0.8813735870195432, where tanh = 1/sqrt(2)
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    # do/dn = 1 - o^2 = 0.5, then each weight times the other factor
    assert n.grad == pytest.approx(0.5, abs=1e-12)
    assert x1.grad == pytest.approx(-1.5, abs=1e-12)  # w1 * 0.5
    assert w1.grad == pytest.approx(1.0, abs=1e-12)  # x1 * 0.5
    assert x2.grad == pytest.approx(0.5, abs=1e-12)  # w2 * 0.5
    assert w2.grad == pytest.approx(0.0, abs=1e-12)  # x2 * 0.5
    assert b.grad == pytest.approx(0.5, abs=1e-12)


# -------------------------------------------------------------------------------------- graph shape

def test_reused_node_gradients_add_up():
    a = Value(3.0)
    b = a + a  # db/da = 2
    c = b * b  # dc/db = 2b = 12
    c.backward()
    assert b.grad == 12.0
    assert a.grad == 24.0  # 2 * b * 2


def test_self_subtraction_and_division_give_zero_gradient():
    a = Value(1.7)
    (a - a).backward()
    assert a.grad == 0.0
    a2 = Value(1.7)
    (a2 / a2).backward()
    assert a2.grad == pytest.approx(0.0, abs=1e-15)


def test_deep_chain_backward_has_no_recursion_error():
    n = 50_000
    x0 = Value(1.0)
    x = x0
    for _ in range(n):
        x = x * 1.00001 + 0  # 100 000 nodes
    x.backward()  # must not raise RecursionError
    assert x0.grad == pytest.approx(1.00001**n, rel=1e-9)  # product of the local factors


def test_deep_additive_chain_gradient_is_one():
    x0 = Value(0.0)
    x = x0
    for _ in range(100_000):
        x = x + 1
    x.backward()
    assert x.data == 100_000.0
    assert x0.grad == 1.0


# ---------------------------------------------------------------------------------- .grad semantics

def test_backward_twice_doubles_every_gradient_exactly():
    a, b = Value(1.3), Value(-0.4)
    c = (a * b).tanh() + a**2
    c.backward()
    first = (a.grad, b.grad, c.grad)
    c.backward()
    assert (a.grad, b.grad, c.grad) == (2 * first[0], 2 * first[1], 2 * first[2])


def test_zero_grad_resets_the_whole_graph():
    a, b = Value(1.3), Value(-0.4)
    m = a * b
    c = m + a
    c.backward()
    assert a.grad != 0.0
    c.zero_grad()
    assert (a.grad, b.grad, m.grad, c.grad) == (0.0, 0.0, 0.0, 0.0)
    c.backward()  # after a reset one backward gives the single-pass gradients again
    assert a.grad == pytest.approx(b.data + 1.0)
    assert b.grad == pytest.approx(a.data)


def test_new_value_has_zero_grad():
    assert Value(5.0).grad == 0.0


# ----------------------------------------------------------------------------- numerical robustness

@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_tanh_and_sigmoid_saturate_without_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = Value(x)
        t = a.tanh()
        s = a.sigmoid()
        (t + s).backward()
    assert t.data == math.copysign(1.0, x)
    assert s.data == (1.0 if x > 0 else 0.0)
    assert math.isfinite(a.grad) and a.grad == 0.0  # both derivatives underflow to 0


# ------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("x", [0.0, -2.0])
def test_log_of_non_positive_raises_value_error(x):
    with pytest.raises(ValueError, match="log"):
        Value(x).log()


def test_value_power_value_raises_type_error():
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)


@pytest.mark.parametrize("bad", ["abc", None, [1.0], {"a": 1}, 1 + 2j])
def test_non_numeric_data_raises_type_error(bad):
    with pytest.raises(TypeError):
        Value(bad)


def test_numeric_string_is_not_a_number():
    # "3" is text, not a real number: Value's docstring accepts Python and NumPy real numbers
    # only, and as_float_array rejects strings too. float("3") must not slip through.
    with pytest.raises(TypeError):
        Value("3")


@pytest.mark.parametrize("bad", ["abc", None, [1.0]])
def test_non_numeric_operand_raises_type_error(bad):
    with pytest.raises(TypeError):
        Value(1.0) + bad
    with pytest.raises(TypeError):
        Value(1.0) * bad


def test_ints_and_numpy_scalars_become_floats():
    import numpy as np

    for x in (3, np.int64(3), np.float32(3.0), True):
        v = Value(x)
        assert type(v.data) is float
    assert Value(np.float32(0.5)).data == 0.5


# ----------------------------------------------------------------------------------- recorded graph

def test_labels_ops_children_and_local_grads_are_recorded():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    assert (a.label, a.op, a.children, a.local_grads) == ("a", "", (), ())
    c = a * b
    assert c.op == "*"
    assert c.children == (a, b)
    assert c.local_grads == (-3.0, 2.0)  # d(ab)/da = b, d(ab)/db = a
    d = a + 1.0
    assert d.op == "+" and d.children == (a,) and d.local_grads == (1.0,)
    e = 1.0 - a
    assert e.op == "-" and e.children == (a,) and e.local_grads == (-1.0,)
    f = a / b
    assert f.op == "/" and f.children == (a, b)
    assert f.local_grads == pytest.approx((1 / -3.0, -2.0 / 9.0))
    g = a**3
    assert g.op == "**3" and g.local_grads == (12.0,)  # 3 a^2
    assert (-a).op == "neg"
    for name in ("exp", "log", "tanh", "sigmoid", "relu"):
        node = getattr(a, name)()
        assert node.op == name
        assert node.children == (a,)
    assert a.exp().local_grads == pytest.approx((math.exp(2.0),))
    assert a.log().local_grads == (0.5,)
    assert c.label == ""  # results are unlabelled until the user names them
    c.label = "c"
    assert "label='c'" in repr(c)
