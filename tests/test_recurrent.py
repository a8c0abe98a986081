"""Tests for backproplab.recurrent: the RNN's forward pass against its formula, backpropagation
through time against finite differences (input, weights, initial state, every hidden state),
truncation against chunked runs, LastStep, and the errors bad input gets."""

import numpy as np
import pytest

import backproplab as bp
from backproplab.gradcheck import check_layer, check_model, numerical_gradient
from backproplab.recurrent import RNN, LastStep

N, T, D, H = 3, 6, 4, 5


def rnn(seed=0, **kwargs):
    return RNN(D, H, rng=np.random.default_rng(seed), **kwargs)


def data(seed=1, steps=T):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, steps, D)), rng.normal(size=(N, H)), rng.normal(size=(N, steps, H))


def test_forward_is_the_recurrence_step_by_step():
    layer = rnn()
    x, h0, _ = data()
    out = layer(x, h0)
    h = h0
    for t in range(T):
        h = np.tanh(x[:, t] @ layer.W_ih.data + h @ layer.W_hh.data + layer.b.data)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-14, atol=1e-15)
    assert out.shape == (N, T, H) and out.dtype == np.float64


def test_default_initial_state_is_zeros_and_the_initial_state_matters():
    layer = rnn()
    x, h0, _ = data()
    np.testing.assert_array_equal(layer(x), layer(x, np.zeros((N, H))))
    assert not np.allclose(layer(x), layer(x, h0))


def test_initialisation_is_pytorchs_uniform_in_one_over_sqrt_hidden():
    layer = RNN(50, 400, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(400)
    for p in layer.parameters():
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.99 * bound  # uniform over the whole interval
    assert [name for name, _ in layer.named_parameters()] == ["W_ih", "W_hh", "b"]
    assert [p.shape for p in layer.parameters()] == [(50, 400), (400, 400), (400,)]
    assert RNN(2, 3, bias=False).parameters()[-1].name == "W_hh"


@pytest.mark.parametrize("bias", [True, False])
def test_backward_passes_the_gradient_check(bias):
    x = data()[0]
    report = check_layer(rnn(bias=bias), x)
    assert report.passed, str(report)


def test_gradient_of_the_initial_state_is_numerical():
    layer = rnn()
    x, h0, G = data()
    layer(x, h0)
    layer.backward(G)
    numeric = numerical_gradient(lambda h: np.sum(layer.forward(x, h) * G), h0.copy())
    np.testing.assert_allclose(layer.grad_h0, numeric, rtol=1e-6, atol=1e-9)


def test_grad_states_is_the_whole_gradient_reaching_each_hidden_state():
    """dL/dh_t = the direct gradient at t + what the later steps send back, which is dL/dh0 of
    a run that starts from h_t on the rest of the sequence."""
    layer = rnn()
    x, h0, G = data()
    out = layer(x, h0)
    layer.backward(G)
    states = layer.grad_states.copy()
    np.testing.assert_array_equal(states[:, -1], G[:, -1])
    for t in range(T - 1):
        rest = rnn()
        rest(x[:, t + 1:], out[:, t])
        rest.backward(G[:, t + 1:])
        np.testing.assert_allclose(states[:, t], G[:, t] + rest.grad_h0, rtol=1e-12, atol=1e-14)


def test_shared_weights_sum_their_gradient_over_the_time_steps():
    """W_hh is used at every step: its gradient is the sum of one term per step."""
    layer = rnn()
    x, h0, G = data()
    out = layer(x, h0)
    layer.backward(G)
    da = layer.grad_states * (1 - out ** 2)
    previous = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
    per_step = [previous[:, t].T @ da[:, t] for t in range(T)]
    np.testing.assert_allclose(layer.W_hh.grad, sum(per_step), rtol=1e-12)
    assert not np.allclose(layer.W_hh.grad, per_step[-1])


def test_a_backward_pass_that_does_not_carry_the_state_gradient_fails_the_check():
    """The gradient check catches the classic BPTT bug (each step on its own)."""

    class Forgetful(RNN):
        def backward(self, grad_out, input_grad=True):
            x, h0, out = self._saved()
            da = grad_out * (1 - out ** 2)  # no gradient from the later steps
            previous = np.concatenate([h0[:, None], out[:, :-1]], axis=1)
            self.W_hh.accumulate(previous.reshape(-1, H).T @ da.reshape(-1, H))
            self.W_ih.accumulate(x.reshape(-1, D).T @ da.reshape(-1, H))
            self.b.accumulate(da.sum(axis=(0, 1)))
            return da @ self.W_ih.data.T

    forgetful = Forgetful(D, H, rng=np.random.default_rng(0))
    report = check_layer(forgetful, data()[0])
    assert not report.passed
    assert all(report.errors[name] > report.tol for name in ("input", "W_ih", "W_hh", "b"))


def test_truncation_equals_chunks_with_the_state_passed_on_but_detached():
    k = 2
    x, h0, G = data(steps=7)
    full = rnn(truncate=k)
    out = full(x, h0)
    dx = full.backward(G)
    chunk, h, grads, dxs = rnn(), h0, {}, []
    for start in range(0, 7, k):
        part = chunk(x[:, start:start + k], h)
        chunk.zero_grad()
        dxs.append(chunk.backward(G[:, start:start + k]))
        if start == 0:
            first_h0_grad = chunk.grad_h0
        for name, p in chunk.named_parameters():
            grads[name] = grads.get(name, 0) + p.grad
        np.testing.assert_allclose(part, out[:, start:start + k], rtol=1e-14)
        h = part[:, -1]  # passed on as a plain array: no gradient flows back through it
    np.testing.assert_allclose(dx, np.concatenate(dxs, axis=1), rtol=1e-12, atol=1e-15)
    for name, p in full.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(full.grad_h0, first_h0_grad, rtol=1e-12, atol=1e-15)
    # and truncation changes the gradient: the full one is different
    exact = rnn()
    exact(x, h0)
    exact.backward(G)
    assert not np.allclose(exact.W_hh.grad, full.W_hh.grad)


def test_gradients_accumulate_and_input_grad_false_returns_none():
    layer = rnn()
    x, _, G = data()
    layer(x)
    dx = layer.backward(G)
    once = [p.grad.copy() for p in layer.parameters()]
    assert layer.backward(G, input_grad=False) is None
    for p, g in zip(layer.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g)
    assert dx.shape == x.shape


def test_float32_stays_float32():
    layer = RNN(D, H, rng=np.random.default_rng(0), dtype=np.float32)
    x = data()[0].astype(np.float32)
    out = layer(x)
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert layer.W_hh.grad.dtype == np.float32


def test_last_step_and_a_sequence_classifier():
    x, _, _ = data()
    last = LastStep()
    np.testing.assert_array_equal(last(x), x[:, -1])
    g = np.arange(N * D, dtype=float).reshape(N, D)
    back = last.backward(g)
    np.testing.assert_array_equal(back[:, -1], g)
    assert not back[:, :-1].any()
    model = bp.Sequential(rnn(), LastStep(), bp.Linear(H, 3, rng=np.random.default_rng(2)))
    report = check_model(model, bp.CrossEntropyLoss(), x, np.array([0, 2, 1]))
    assert report.passed, str(report)


def test_the_memory_model_trains_with_fit():
    """RNN + LastStep + Linear train with the course's fit on the memory task."""
    X, y = bp.data.make_memory_task(512, gap=2, seed=0)
    model = bp.Sequential(RNN(4, 16, rng=np.random.default_rng(0)), LastStep(),
                          bp.Linear(16, 4, rng=np.random.default_rng(1)))
    history = bp.fit(model, bp.CrossEntropyLoss(), bp.optim.Adam(model.parameters(), lr=0.02),
                     (X, y), epochs=15, batch_size=32, progress=False)
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert history.train_acc[-1] > 0.95


@pytest.mark.parametrize("make, call, match", [
    (lambda: rnn(), lambda r: r(np.ones((N, D))), r"\(N, T, 4\)"),
    (lambda: rnn(), lambda r: r(np.ones((N, T, D + 1))), r"\(N, T, 4\)"),
    (lambda: rnn(), lambda r: r(np.ones((N, 0, D))), "T >= 1"),
    (lambda: rnn(), lambda r: r(np.ones((N, T, D)), np.ones((N + 1, H))), "h0"),
    (lambda: rnn(), lambda r: r(np.ones((N, T, D)), np.ones((1, N, H))), r"\(N, H\)"),
    (lambda: LastStep(), lambda m: m(np.ones((N, D))), r"\(N, T, H\)"),
    (lambda: LastStep(), lambda m: m(np.ones((N, 0, D))), "T >= 1"),
])
def test_bad_shapes_raise_shape_error(make, call, match):
    with pytest.raises(bp.ShapeError, match=match):
        call(make())


def test_bad_arguments_and_misuse_raise_clear_errors():
    with pytest.raises(ValueError, match="batch_first"):
        RNN(D, H, batch_first=False)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="truncate"):
            RNN(D, H, truncate=bad)
    with pytest.raises(ValueError, match="positive"):
        RNN(0, H)
    with pytest.raises(RuntimeError, match="before forward"):
        rnn().backward(np.ones((N, T, H)))
    layer = rnn()
    layer(np.ones((N, T, D)))
    with pytest.raises(bp.ShapeError):
        layer.backward(np.ones((N, T - 1, H)))
    with pytest.raises(TypeError):
        layer(np.array([[["a"] * D] * T] * N))


def test_repr_names_the_sizes():
    assert repr(rnn()) == "RNN(4, 5, bias=True, batch_first=True)"
    assert repr(rnn(truncate=3)) == "RNN(4, 5, bias=True, batch_first=True, truncate=3)"
    assert repr(LastStep()) == "LastStep()"
