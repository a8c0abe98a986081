"""Tests for backproplab.curvature: Hessian-vector products from gradients, power iteration,
and lambda_max of a loss, each against a Hessian known exactly."""

import numpy as np
import pytest

import backproplab as bp
from backproplab.curvature import (gradient_vector, hessian_vector_product,
                                   parameters_to_vector, power_iteration, sharpness,
                                   vector_to_parameters)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)) * [1.0, 3.0, 0.3]     # features of different scales
Y = RNG.normal(size=(40, 2))


def linear_regression():
    """MSE of a Linear(3, 2): a quadratic in (W, b) whose Hessian is known exactly."""
    return bp.Linear(3, 2, rng=np.random.default_rng(1)), bp.MSELoss()


def exact_hessian():
    """MSE = sum((x W + b - y)^2) / (N * 2). With A = [x, 1] (N, 4), each output column j
    has Hessian 2 A^T A / (N * 2) in its own (W[:, j], b[j]); parameters_to_vector orders
    W (3, 2) row-major, then b (2,)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    block = 2 * A.T @ A / Y.size
    H = np.zeros((8, 8))
    for j in range(2):
        idx = [0 * 2 + j, 1 * 2 + j, 2 * 2 + j, 6 + j]  # W[0, j], W[1, j], W[2, j], b[j]
        H[np.ix_(idx, idx)] = block
    return H


def spiral_mlp(seed=0):
    bp.manual_seed(seed)
    Xs, ys = bp.data.make_spiral(n_samples=90, noise=0.2, seed=0)
    return bp.Sequential(bp.Linear(2, 16), bp.ReLU(), bp.Linear(16, 3)), bp.CrossEntropyLoss(), Xs, ys


def test_parameters_round_trip_in_place():
    model = bp.Sequential(bp.Linear(2, 3), bp.Tanh(), bp.Linear(3, 1))
    arrays = [p.data for p in model.parameters()]
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (2 * 3 + 3 + 3 * 1 + 1,)
    np.testing.assert_array_equal(vec[:6], model.parameters()[0].data.ravel())
    vector_to_parameters(np.arange(vec.size, dtype=float), model.parameters())
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))  # the same arrays
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()), np.arange(vec.size))
    with pytest.raises(ValueError, match=r"expected shape \(13,\)"):
        vector_to_parameters(np.zeros(12), model.parameters())


def test_gradient_vector_is_the_backward_pass_flattened():
    model, loss_fn = linear_regression()
    loss, g = gradient_vector(model, loss_fn, X, Y)
    A = np.hstack([X, np.ones((len(X), 1))])
    residual = X @ model.W.data + model.b.data - Y
    assert loss == pytest.approx(np.mean(residual ** 2))
    grad = 2 * A.T @ residual / Y.size                   # (4, 2): rows W[0..2], then b
    np.testing.assert_allclose(g, np.r_[grad[:3].ravel(), grad[3]], rtol=1e-12)


def test_hessian_vector_product_of_a_quadratic_is_exact():
    model, loss_fn = linear_regression()
    H = exact_hessian()
    theta = parameters_to_vector(model.parameters())
    for v in [RNG.normal(size=8), np.eye(8)[7] * 1e-3, RNG.normal(size=8) * 1e4]:
        np.testing.assert_allclose(hessian_vector_product(model, loss_fn, X, Y, v), H @ v,
                                   rtol=1e-6, atol=1e-7 * np.linalg.norm(H @ v))
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()), theta)  # restored
    assert not hessian_vector_product(model, loss_fn, X, Y, np.zeros(8)).any()
    with pytest.raises(ValueError, match="8 parameters"):
        hessian_vector_product(model, loss_fn, X, Y, np.ones(7))


def test_hessian_vector_product_holds_for_large_parameters():
    model, loss_fn = linear_regression()
    model.b.data += 1e6                                   # the step follows the scale
    v = RNG.normal(size=8)
    np.testing.assert_allclose(hessian_vector_product(model, loss_fn, X, Y, v),
                               exact_hessian() @ v, rtol=1e-5)


def test_hessian_vector_products_of_a_relu_network_are_symmetric_and_linear():
    model, loss_fn, Xs, ys = spiral_mlp()
    P = parameters_to_vector(model.parameters()).size
    u, w = RNG.normal(size=P), RNG.normal(size=P)
    Hu = hessian_vector_product(model, loss_fn, Xs, ys, u)
    Hw = hessian_vector_product(model, loss_fn, Xs, ys, w)
    assert w @ Hu == pytest.approx(u @ Hw, rel=1e-5)   # H is symmetric: no kink was crossed
    np.testing.assert_allclose(hessian_vector_product(model, loss_fn, Xs, ys, 3 * u), 3 * Hu,
                               rtol=1e-5, atol=1e-6 * np.abs(Hu).max())


def test_power_iteration_finds_the_largest_eigenvalue_and_its_vector():
    Q = np.linalg.qr(RNG.normal(size=(6, 6)))[0]
    lam = np.array([5.0, 2.0, 1.0, 0.5, -1.0, -3.0])
    A = Q @ np.diag(lam) @ Q.T
    result = power_iteration(lambda v: A @ v, np.ones(6), iters=500, tol=1e-12)
    assert result.eigenvalue == pytest.approx(5.0, rel=1e-9)
    assert abs(result.vector @ Q[:, 0]) == pytest.approx(1.0, abs=1e-6)
    assert len(result.estimates) < 500 and result.estimates[-1] == result.eigenvalue
    # the smallest eigenvalue: A - 5 I has eigenvalues 0 ... -8, the largest in magnitude -8
    shifted = power_iteration(lambda v: A @ v - 5.0 * v, np.ones(6), iters=500, tol=1e-12)
    assert shifted.eigenvalue + 5.0 == pytest.approx(-3.0, rel=1e-9)


def test_power_iteration_returns_the_largest_in_magnitude_even_if_negative():
    A = np.diag([1.0, -4.0])
    assert power_iteration(lambda v: A @ v, [1.0, 1.0], iters=200).eigenvalue == pytest.approx(-4.0)


def test_power_iteration_rejects_bad_input():
    with pytest.raises(ValueError, match="non-zero"):
        power_iteration(lambda v: v, np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        power_iteration(lambda v: v[:2], np.ones(3))


def test_sharpness_of_a_quadratic_is_its_largest_eigenvalue():
    model, loss_fn = linear_regression()
    result = sharpness(model, loss_fn, X, Y, iters=300, tol=1e-10)
    assert result.eigenvalue == pytest.approx(np.linalg.eigvalsh(exact_hessian())[-1], rel=1e-6)


def test_sharpness_of_a_network_is_below_the_edge_of_stability_it_predicts():
    """2 / lambda_max is where gradient descent starts to fail along the sharpest direction:
    full-batch steps at 0.5 x 2/lambda_max lower the loss at every step, and a step at
    3 x 2/lambda_max along the top eigenvector overshoots (the loss rises)."""
    model, loss_fn, Xs, ys = spiral_mlp()
    top = sharpness(model, loss_fn, Xs, ys)
    assert top.eigenvalue > 0
    theta = parameters_to_vector(model.parameters())
    g = gradient_vector(model, loss_fn, Xs, ys)[1]
    v = top.vector * np.sign(top.vector @ g)             # the top direction, pointing uphill
    loss0 = gradient_vector(model, loss_fn, Xs, ys)[0]
    losses = {}
    for factor in [0.5, 3.0]:
        t = factor * 2 / top.eigenvalue * (v @ g)        # a gradient step projected on v
        vector_to_parameters(theta - t * v, model.parameters())
        losses[factor] = gradient_vector(model, loss_fn, Xs, ys)[0]
        vector_to_parameters(theta, model.parameters())
    assert losses[0.5] < loss0 < losses[3.0]
