"""Tests for backproplab.init: the variance of every scheme, fans, seeding."""

import math

import numpy as np
import pytest

import backproplab as bl
from backproplab import init

SHAPE = (400, 600)  # fan_in 400, fan_out 600: 240 000 draws, variance known to ~0.3 %
FAN_IN, FAN_OUT = SHAPE


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------- variances

VARIANCE_CASES = [
    # name, initialiser, expected variance from the formula
    ("xavier_uniform", lambda s, r: init.xavier_uniform(s, rng=r), 2 / (FAN_IN + FAN_OUT)),
    ("xavier_normal", lambda s, r: init.xavier_normal(s, rng=r), 2 / (FAN_IN + FAN_OUT)),
    ("xavier_uniform_gain2", lambda s, r: init.xavier_uniform(s, gain=2.0, rng=r),
     4 * 2 / (FAN_IN + FAN_OUT)),
    ("he_uniform", lambda s, r: init.he_uniform(s, rng=r), 2 / FAN_IN),
    ("he_normal", lambda s, r: init.he_normal(s, rng=r), 2 / FAN_IN),
    ("kaiming_normal", lambda s, r: init.kaiming_normal(s, rng=r), 2 / FAN_IN),
    ("normal_default_std", lambda s, r: init.normal(s, rng=r), 0.01**2),
    ("normal_std_0.5", lambda s, r: init.normal(s, std=0.5, rng=r), 0.25),
    ("uniform_0.3", lambda s, r: init.uniform(s, 0.3, rng=r), 0.3**2 / 3),  # U(-a, a): a^2/3
    ("default_linear", lambda s, r: init.default_linear(s, rng=r), 1 / (3 * FAN_IN)),
]


@pytest.mark.parametrize("name, make, variance", VARIANCE_CASES, ids=[c[0] for c in VARIANCE_CASES])
def test_empirical_variance_matches_formula(name, make, variance):
    w = make(SHAPE, rng(0))
    assert w.shape == SHAPE and w.dtype == np.float64
    assert w.var() == pytest.approx(variance, rel=0.02)
    assert abs(w.mean()) < 0.01 * math.sqrt(variance)  # centred: 5 standard errors is 0.01 std


def test_uniform_schemes_respect_their_bound():
    a = math.sqrt(6 / (FAN_IN + FAN_OUT))
    w = init.xavier_uniform(SHAPE, rng=rng())
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.99 * a
    w = init.he_uniform(SHAPE, rng=rng())
    assert np.abs(w).max() <= math.sqrt(6 / FAN_IN)


def test_fans_follow_the_in_out_layout():
    assert init.fans((3, 5)) == (3, 5)  # W is (in_features, out_features)
    assert init.fans((7,)) == (7, 7)
    # He uses fan_in = shape[0]: a (10, 2000) weight has variance 2/10, a (2000, 10) one 2/2000
    assert init.he_normal((10, 2000), rng=rng()).var() == pytest.approx(0.2, rel=0.05)
    assert init.he_normal((2000, 10), rng=rng()).var() == pytest.approx(0.001, rel=0.05)


def test_zeros():
    np.testing.assert_array_equal(init.zeros((3, 2)), np.zeros((3, 2)))


def test_dtype_argument():
    for make in (init.xavier_uniform, init.xavier_normal, init.he_uniform, init.he_normal,
                 init.default_linear, init.zeros):
        assert make((4, 3), rng=rng(), dtype=np.float32).dtype == np.float32


# -------------------------------------------------------------------------------------- determinism

def test_same_rng_seed_same_weights():
    for make in (init.xavier_uniform, init.he_normal, init.default_linear):
        np.testing.assert_array_equal(make((5, 4), rng=rng(3)), make((5, 4), rng=rng(3)))
        assert not np.array_equal(make((5, 4), rng=rng(3)), make((5, 4), rng=rng(4)))


def test_linear_with_same_rng_seed_is_identical():
    a, b = bl.Linear(4, 3, rng=rng(9)), bl.Linear(4, 3, rng=rng(9))
    np.testing.assert_array_equal(a.W.data, b.W.data)
    np.testing.assert_array_equal(a.b.data, b.b.data)


def test_manual_seed_reproduces_layers_built_without_rng():
    bl.manual_seed(123)
    first = bl.Sequential(bl.Linear(4, 3), bl.Linear(3, 2))
    bl.manual_seed(123)
    second = bl.Sequential(bl.Linear(4, 3), bl.Linear(3, 2))
    for p, q in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    bl.manual_seed(124)
    assert not np.array_equal(bl.Linear(4, 3).W.data, first[0].W.data)


def test_manual_seed_resets_dropout_masks_of_existing_layers():
    # design.md: "With neither [rng nor seed], layers draw from the package generator,
    # reset by backproplab.manual_seed(seed)". A Dropout built before manual_seed must
    # follow the reset too (as torch.manual_seed does for nn.Dropout).
    layer = bl.Dropout(0.5)
    x = np.ones((8, 8))
    bl.manual_seed(5)
    first = layer(x)
    bl.manual_seed(5)
    second = layer(x)
    np.testing.assert_array_equal(first, second)


# ----------------------------------------------------------------------- get_initializer and Linear

def test_get_initializer_names_and_callables():
    assert init.get_initializer("he_normal") is init.he_normal
    assert init.get_initializer("glorot_uniform") is init.xavier_uniform
    assert init.get_initializer("kaiming_uniform") is init.he_uniform

    def mine(shape, rng=None, dtype=np.float64):
        return np.full(shape, 0.5, dtype=dtype)

    assert init.get_initializer(mine) is mine
    layer = bl.Linear(3, 2, init=mine)
    np.testing.assert_array_equal(layer.W.data, np.full((3, 2), 0.5))
    np.testing.assert_array_equal(layer.b.data, np.zeros(2))  # named/custom schemes: bias 0


def test_get_initializer_unknown_name_lists_choices():
    with pytest.raises(ValueError) as info:
        init.get_initializer("hee_normal")
    msg = str(info.value)
    assert "hee_normal" in msg
    for name in ("he_normal", "xavier_uniform", "default", "zeros"):
        assert name in msg
    with pytest.raises(ValueError, match="he_normal"):
        bl.Linear(3, 2, init="nope")


def test_linear_he_normal_has_zero_bias_and_he_variance():
    layer = bl.Linear(500, 400, init="he_normal", rng=rng(0))
    np.testing.assert_array_equal(layer.b.data, np.zeros(400))
    assert layer.W.data.var() == pytest.approx(2 / 500, rel=0.02)


def test_linear_default_init_is_pytorch_uniform_for_weight_and_bias():
    layer = bl.Linear(400, 600, rng=rng(0))
    bound = 1 / math.sqrt(400)
    assert np.abs(layer.W.data).max() <= bound
    assert np.abs(layer.b.data).max() <= bound
    assert np.any(layer.b.data != 0)  # the default initialises the bias too
    assert layer.W.data.var() == pytest.approx(bound**2 / 3, rel=0.02)
