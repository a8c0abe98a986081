"""How curved is the loss? Hessian-vector products and the sharpest curvature, lambda_max.

Gradient descent on a quadratic with Hessian H is stable only for learning rates below
2 / lambda_max(H) (lesson 05). A network's Hessian has P x P entries (P = the number of
parameters), too many to write down for any real network, but multiplying it by a vector is
cheap: H v is how fast the gradient changes along v, so two gradients give it,

    H v  ~  (g(theta + h v) - g(theta - h v)) / (2 h),

two backward passes and no second derivatives (a finite difference, as in lesson 04, but of
the gradient). Repeating v <- H v / ||H v|| (power iteration) turns v towards the direction
of largest curvature, and v . H v (the Rayleigh quotient, for a unit v) towards lambda_max.

The vectors here are the model's parameters flattened in the order of
``model.parameters()`` (``parameters_to_vector``, as ``torch.nn.utils``).
"""

from typing import NamedTuple

import numpy as np

__all__ = ["parameters_to_vector", "vector_to_parameters", "gradient_vector",
           "hessian_vector_product", "power_iteration", "PowerIteration", "sharpness"]


def parameters_to_vector(params):
    """All ``params``' values as one new vector (P,), in order, each flattened row-major."""
    return np.concatenate([np.ravel(p.data) for p in params])


def vector_to_parameters(vec, params):
    """Copy ``vec`` (P,) into the ``params``' arrays in place (the inverse of
    :func:`parameters_to_vector`)."""
    params = list(params)
    vec = np.asarray(vec, dtype=float)
    sizes = [p.data.size for p in params]
    if vec.shape != (sum(sizes),):
        raise ValueError(f"vector of shape {vec.shape} for {len(params)} parameters with "
                         f"{sum(sizes)} values in all: expected shape ({sum(sizes)},)")
    start = 0
    for p, n in zip(params, sizes):
        p.data[...] = vec[start:start + n].reshape(p.data.shape)
        start += n


def gradient_vector(model, loss_fn, X, y):
    """``(loss, g)``: the loss of ``model`` on (X, y) and its gradient with respect to every
    parameter, flattened into one vector g (P,) in the order of ``model.parameters()``.

    One forward and one backward pass over the whole of (X, y), in the model's current mode;
    each ``p.grad`` holds its part of g afterwards (a parameter that took no part gives 0).
    """
    model.zero_grad()
    loss = loss_fn(model(X), y)
    model.backward(loss_fn.backward(), input_grad=False)
    g = [np.zeros(p.data.size) if p.grad is None else np.ravel(p.grad)
         for p in model.parameters()]
    return loss, np.concatenate(g)


def hessian_vector_product(model, loss_fn, X, y, v, h=1e-8):
    """H v (P,) for the Hessian H (P, P) of the loss on (X, y) at the current parameters and
    a vector v (P,), from a central difference of two gradients along the unit vector
    u = v / ||v||: ``(g(theta + s u) - g(theta - s u)) / (2 s) * ||v||``.

    The step is ``s = h * (1 + max |theta|)``, so that it stays far above the spacing
    of floats near the parameters whatever their scale. It is tiny on purpose: a ReLU's
    gradient jumps where its input crosses 0, and a step across such a kink would add that
    jump divided by the step. At 1e-8 almost no unit crosses, while the round-off of the two
    gradients, divided by the step, still leaves H v right to about 1e-7 of its size
    (``benchmarks/torch_parity.py`` compares it with PyTorch's exact product). The
    parameters are restored afterwards.
    """
    params = model.parameters()
    v = np.asarray(v, dtype=float)
    norm = np.linalg.norm(v)
    if norm == 0:
        return np.zeros_like(v)
    theta = parameters_to_vector(params)
    if v.shape != theta.shape:
        raise ValueError(f"v has shape {v.shape}; the model has {theta.size} parameters")
    u = v / norm
    step = h * (1 + np.max(np.abs(theta)))
    try:
        vector_to_parameters(theta + step * u, params)
        g_plus = gradient_vector(model, loss_fn, X, y)[1]
        vector_to_parameters(theta - step * u, params)
        g_minus = gradient_vector(model, loss_fn, X, y)[1]
    finally:
        vector_to_parameters(theta, params)
    return (g_plus - g_minus) / (2 * step) * norm


class PowerIteration(NamedTuple):
    """What :func:`power_iteration` found: the eigenvalue, its unit eigenvector (P,), and
    the estimate after each iteration (to watch it converge)."""
    eigenvalue: float
    vector: np.ndarray
    estimates: list


def power_iteration(matvec, v0, iters=100, tol=1e-6):
    """The eigenvalue of largest magnitude of a symmetric matrix A that you can only
    multiply by: ``matvec(v) = A v``.

    From the start vector ``v0`` (P,), repeat ``w = A v``; estimate ``lambda = v . w`` (the
    Rayleigh quotient of the unit vector v); ``v = w / ||w||``. Components along the
    eigenvector of largest |lambda| grow fastest, so v turns towards it. Stops after
    ``iters`` products or once the estimate changes by less than ``tol`` (relative).
    Convergence is slow when the two largest |eigenvalues| are close.

    For the largest eigenvalue of a matrix that also has large negative ones, or for the
    smallest, iterate on a shifted matrix: ``matvec = lambda v: A v - s v`` has the
    eigenvalues lambda_i - s.
    """
    v = np.asarray(v0, dtype=float)
    norm = np.linalg.norm(v)
    if v.ndim != 1 or norm == 0 or not np.isfinite(norm):
        raise ValueError("v0 must be a non-zero, finite vector (P,)")
    v = v / norm
    estimates = []
    for _ in range(iters):
        w = np.asarray(matvec(v), dtype=float)
        if w.shape != v.shape:
            raise ValueError(f"matvec returned shape {w.shape} for a vector of shape {v.shape}")
        estimates.append(float(v @ w))
        w_norm = np.linalg.norm(w)
        if w_norm == 0:  # v is in the null space: A v = 0, eigenvalue 0
            break
        v = w / w_norm
        if len(estimates) > 1 and abs(estimates[-1] - estimates[-2]) <= tol * abs(estimates[-1]):
            break
    return PowerIteration(estimates[-1], v, estimates)


def sharpness(model, loss_fn, X, y, iters=100, tol=1e-6, seed=0):
    """lambda_max, the largest eigenvalue of the Hessian of the loss on (X, y) at the
    current parameters (assuming, as near a minimum, that it is also the largest in
    magnitude), by power iteration on Hessian-vector products from a random start.
    Returns a :class:`PowerIteration`. 2 / lambda_max is the learning rate above which
    gradient descent is unstable along the sharpest direction.
    """
    P = sum(p.data.size for p in model.parameters())
    v0 = np.random.default_rng(seed).standard_normal(P)
    return power_iteration(lambda v: hessian_vector_product(model, loss_fn, X, y, v), v0,
                           iters=iters, tol=tol)
