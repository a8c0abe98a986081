"""Tests for backproplab.diagnostics: Monitor statistics and gradient_norms."""

import math

import numpy as np
import pytest

import backproplab as bl
from backproplab.diagnostics import STATS, Monitor, gradient_norms, gradient_through_time
from backproplab.optim import SGD
from backproplab.train import fit


def rng(seed=0):
    return np.random.default_rng(seed)


def small_mlp():
    return bl.Sequential(bl.Linear(2, 6, rng=rng(1)), bl.ReLU(), bl.Linear(6, 3, rng=rng(2)))


def classification_data(n=40):
    X = rng(0).normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)


# ----------------------------------------------------------------------------- when Monitor records

def test_monitor_layer_names_and_record_shapes():
    model = small_mlp()
    mon = Monitor(model)
    assert [name for name, _ in mon.layers] == ["0", "1", "2"]
    assert mon.layers[1][1] is model[1]
    assert set(mon.records["0"]) == set(STATS)


@pytest.mark.parametrize("every, expected", [
    (1, list(range(1, 21))),
    # the first step (the network at initialisation) and then every 3rd step
    (3, [1, 3, 6, 9, 12, 15, 18]),
    (5, [1, 5, 10, 15, 20]),
])
def test_monitor_records_every_k_steps(every, expected):
    X, y = classification_data(40)
    model = small_mlp()
    mon = Monitor(model, every=every)
    fit(model, bl.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
        batch_size=4, callbacks=[mon], progress=False)  # 10 steps per epoch, 20 in all
    assert mon.steps == expected
    for name, _ in mon.layers:
        for stat in STATS:
            assert len(mon.records[name][stat]) == len(expected), (name, stat)
    names, table = mon.table("act_mean")
    assert names == ["0", "1", "2"] and table.shape == (len(expected), 3)
    # the forward wrappers are removed at the end of training
    assert all("forward" not in vars(layer) for _, layer in mon.layers)


def test_monitor_values_for_one_step_match_a_manual_computation():
    X, y = classification_data(40)
    loss_fn = bl.CrossEntropyLoss()
    # the reference: the same network, forward and backward by hand
    ref = small_mlp()
    h0 = ref[0](X)
    a1 = ref[1](h0)
    loss_fn(ref[2](a1), y)
    ref[0].backward(ref[1].backward(ref[2].backward(loss_fn.backward())))
    W0, W2 = ref[0].W.data.copy(), ref[2].W.data.copy()

    model = small_mlp()
    mon = Monitor(model)
    lr = 0.1
    fit(model, loss_fn, SGD(model.parameters(), lr=lr), (X, y), epochs=1, batch_size=40,
        shuffle=False, callbacks=[mon], progress=False)
    r0, r1, r2 = mon.records["0"], mon.records["1"], mon.records["2"]
    assert mon.steps == [1]
    assert r0["act_mean"][0] == pytest.approx(h0.mean(), rel=1e-12)
    assert r0["act_std"][0] == pytest.approx(h0.std(), rel=1e-12)
    assert r1["act_mean"][0] == pytest.approx(a1.mean(), rel=1e-12)
    assert r1["dead"][0] == pytest.approx(np.mean(np.all(a1 <= 0, axis=0)))
    assert r0["grad_norm"][0] == pytest.approx(np.linalg.norm(ref[0].W.grad), rel=1e-12)
    assert r2["grad_norm"][0] == pytest.approx(np.linalg.norm(ref[2].W.grad), rel=1e-12)
    # plain SGD moves W by lr * grad, so the ratio is lr ||grad|| / ||W||
    assert r0["update_ratio"][0] == pytest.approx(
        lr * np.linalg.norm(ref[0].W.grad) / np.linalg.norm(W0), rel=1e-9)
    assert r2["update_ratio"][0] == pytest.approx(
        lr * np.linalg.norm(ref[2].W.grad) / np.linalg.norm(W2), rel=1e-9)
    # statistics that do not apply are NaN: ReLU has no weight; Linear is neither dead nor saturated
    assert math.isnan(r1["grad_norm"][0]) and math.isnan(r1["update_ratio"][0])
    assert math.isnan(r0["dead"][0]) and math.isnan(r0["saturated"][0])
    assert math.isnan(r1["saturated"][0])
    np.testing.assert_array_equal(mon.activations["1"], a1)


# ------------------------------------------------------------------------- dead and saturated units

def test_dead_relu_fraction_is_one_when_every_preactivation_is_negative():
    lin = bl.Linear(3, 5)
    lin.W.data[...] = -1.0
    lin.b.data[...] = -1.0
    model = bl.Sequential(lin, bl.ReLU(), bl.Linear(5, 2, rng=rng()))
    x = rng(0).uniform(0.0, 1.0, size=(16, 3))  # positive inputs: x @ W + b <= -1 everywhere
    w_before = [p.data.copy() for p in model.parameters()]
    mon = Monitor(model).measure(bl.CrossEntropyLoss(), x, rng(1).integers(0, 2, 16))
    assert mon.latest("dead") == {"1": 1.0}
    assert mon.latest("grad_norm")["0"] == 0.0  # dead units pass no gradient to their weights
    for p, w in zip(model.parameters(), w_before):
        np.testing.assert_array_equal(p.data, w)  # measure does not train
    assert mon.latest("update_ratio") == {}


def test_dead_relu_fraction_counts_units_dead_for_the_whole_batch():
    lin = bl.Linear(2, 5, init="zeros")
    # units 0 and 1 get negative pre-activations for positive x; units 2..4 positive ones
    lin.W.data[...] = [[-1, -2, 1, 2, 3], [-1, -1, 1, 1, 1]]
    model = bl.Sequential(lin, bl.ReLU())
    x = rng(0).uniform(0.1, 1.0, size=(10, 2))
    mon = Monitor(model).measure(bl.MSELoss(), x, np.zeros((10, 5)))
    assert mon.latest("dead") == {"1": pytest.approx(2 / 5)}


@pytest.mark.parametrize("act, expected_key", [(bl.Sigmoid, "1"), (bl.Tanh, "1")])
def test_saturation_with_huge_inputs(act, expected_key):
    lin = bl.Linear(2, 4, init="zeros")
    lin.W.data[...] = [[100, -100, 100, -100], [100, -100, -50, 50]]
    model = bl.Sequential(lin, act())
    x = rng(0).uniform(0.5, 1.0, size=(32, 2))  # |pre-activation| >= 25: deep in the tails
    mon = Monitor(model).measure(bl.MSELoss(), x, np.zeros((32, 4)))
    assert mon.latest("saturated") == {expected_key: pytest.approx(1.0)}
    # with tiny weights the same layer sits in its linear middle: nothing saturated
    lin.W.data[...] *= 1e-3
    mon = Monitor(model).measure(bl.MSELoss(), x, np.zeros((32, 4)))
    assert mon.latest("saturated") == {expected_key: 0.0}


# --------------------------------------------------------------------------- gradient flow in depth

def deep_mlp(act, init, depth=20, width=32):
    r = rng(1)
    layers = []
    for _ in range(depth - 1):
        layers += [bl.Linear(width, width, init=init, rng=r), act()]
    layers.append(bl.Linear(width, 10, init=init, rng=r))
    return bl.Sequential(*layers)


def layer_norms(model):
    x = rng(0).normal(size=(64, 32))
    y = rng(0).integers(0, 10, size=64)
    norms = gradient_norms(model, bl.CrossEntropyLoss(), x, y)
    names = sorted(norms, key=int)
    assert names == [str(2 * i) for i in range(20)]  # the 20 Linear layers, nothing else
    return np.array([norms[n] for n in names])


def test_sigmoid_network_gradients_vanish_towards_the_input():
    norms = layer_norms(deep_mlp(bl.Sigmoid, "default"))
    # sigmoid' <= 1/4 at every layer: the first layer's gradient is orders of magnitude smaller
    assert norms[0] / norms[-1] < 1e-3
    assert np.all(np.diff(np.log10(norms[:10])) > 0)  # and it shrinks layer after layer


def test_relu_he_network_keeps_gradients_of_the_same_order():
    norms = layer_norms(deep_mlp(bl.ReLU, "he_normal"))
    ratios = norms / norms[-1]
    assert np.all((ratios > 1e-1) & (ratios < 1e1)), ratios


def test_act_spread_sees_examples_that_all_look_the_same():
    # Zero weights and different biases: every example gets the same output, so the spread
    # across examples is 0 while the pooled std (over units) is not.
    layer = bl.Linear(3, 4)
    layer.W.data[:] = 0.0
    layer.b.data[:] = [0.0, 1.0, 2.0, 3.0]
    model = bl.Sequential(layer, bl.Tanh(), bl.Linear(4, 2))
    x = np.random.default_rng(0).normal(size=(8, 3))
    rec = Monitor(model).measure(bl.CrossEntropyLoss(), x, np.zeros(8, dtype=int)).records["1"]
    assert rec["act_spread"][-1] < 1e-15
    assert rec["act_std"][-1] == pytest.approx(np.tanh([0.0, 1.0, 2.0, 3.0]).std())


def test_gradient_through_time_is_the_product_of_step_jacobians():
    """Entry k is ||dL/dh_(T-k)|| / ||dL/dh_T||, computed here with the Jacobians by hand."""
    rng = np.random.default_rng(0)
    rnn = bl.RNN(3, 4, rng=rng)
    x = rng.normal(size=(5, 6, 3))
    before = rnn.W_hh.grad = np.ones((4, 4))
    norms = gradient_through_time(rnn, x, seed=1)
    out = rnn(x)
    g = np.random.default_rng(1).standard_normal((5, 4))
    expected = [np.linalg.norm(g)]
    for t in range(5, 0, -1):  # dh_(t-1) = (dh_t * (1 - h_t^2)) @ W_hh.T
        g = (g * (1 - out[:, t] ** 2)) @ rnn.W_hh.data.T
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(norms, np.array(expected) / expected[0], rtol=1e-12)
    assert norms.shape == (6,) and norms[0] == 1.0
    assert rnn.W_hh.grad is before and np.all(before == 1.0)   # the caller's gradients kept
    assert rnn.W_ih.grad is None
