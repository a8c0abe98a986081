"""Tests for backproplab.scalar_nn.ValueMLP: a network made of Values."""

import numpy as np
import pytest

from backproplab import Value
from backproplab.scalar_nn import ValueMLP

POINTS = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8]]
TARGETS = [1.0, -1.0, 1.0]


def mse(model):
    scores = [model(x)[0] for x in POINTS]
    return Value.sum((s - t) ** 2 for s, t in zip(scores, TARGETS)) / len(POINTS)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_backward_gives_every_parameter_its_numerical_gradient(activation):
    model = ValueMLP((2, 4, 3, 1), activation=activation, seed=3)
    for p in model.parameters():  # biases away from 0, so every path is exercised
        p.data += 0.1
    loss = mse(model)
    loss.backward()
    h = 1e-6
    for p in model.parameters():
        old = p.data
        p.data = old + h
        plus = mse(model).data
        p.data = old - h
        minus = mse(model).data
        p.data = old
        assert p.grad == pytest.approx((plus - minus) / (2 * h), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_predict_is_the_same_network_in_numpy(activation):
    model = ValueMLP((2, 5, 2), activation=activation, seed=1)
    for p in model.parameters():
        p.data += 0.05
    scores = model.predict(np.array(POINTS))
    assert scores.shape == (3, 2)
    expected = [[v.data for v in model(x)] for x in POINTS]
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-14)


def test_parameters_zero_grad_and_initialisation():
    model = ValueMLP((2, 8, 1), seed=0)
    params = model.parameters()
    assert len(params) == (2 + 1) * 8 + (8 + 1) * 1 == 33
    assert len(set(map(id, params))) == 33
    weights = [w.data for layer in model.layers for ws, _ in layer for w in ws]
    assert max(abs(w) for w in weights[:16]) < 1 / np.sqrt(2)  # uniform / sqrt(fan-in)
    assert all(b.data == 0.0 for layer in model.layers for _, b in layer)
    mse(model).backward()
    assert any(p.grad != 0.0 for p in params)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in params)
    again = ValueMLP((2, 8, 1), seed=0)
    assert [p.data for p in again.parameters()] == [p.data for p in params]  # the seed decides
    assert [p.data for p in ValueMLP((2, 8, 1), seed=1).parameters()] != [p.data for p in params]
    assert "33 parameters" in repr(model)


def test_the_output_layer_is_linear():
    model = ValueMLP((1, 1), seed=0)
    (w,), b = model.layers[0][0]
    w.data, b.data = 3.0, 5.0
    assert model([2.0])[0].data == 11.0  # no tanh on the last layer


@pytest.mark.parametrize("sizes, activation, message", [
    ((2,), "tanh", "at least two"), ((2, 0, 1), "tanh", "positive"),
    ((2, 3, 1), "sigmoid", "activation"),
])
def test_bad_settings_raise(sizes, activation, message):
    with pytest.raises(ValueError, match=message):
        ValueMLP(sizes, activation=activation)


def test_wrong_number_of_inputs_raises():
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        ValueMLP((2, 3, 1))([1.0, 2.0, 3.0])
