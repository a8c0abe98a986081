"""Tests for backproplab.optim.RMSprop: torch.optim.RMSprop's rule, worked out by hand."""

import math

import numpy as np
import pytest

from backproplab import Parameter
from backproplab.optim import RMSprop
from test_optim import run as run_steps


def run(opt, p, grads):
    """One step per gradient; the parameter after each step, as one array (steps, ...)."""
    return np.array(run_steps(opt, p, grads))


def test_first_step_is_lr_over_sqrt_one_minus_alpha_without_bias_correction():
    # s = (1 - alpha) g^2, so the step is lr * g / (sqrt(1 - alpha) |g|) = 10 lr sign(g)
    p = Parameter(np.array([1.0, 1.0, 1.0]))
    steps = run(RMSprop([p], lr=0.01), p, [[0.5, -300.0, 2e-3]])
    # (eps = 1e-8 is 5e-5 of sqrt(s) = 2e-4 for the smallest gradient)
    np.testing.assert_allclose(steps[0] - 1.0, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_two_steps_by_hand():
    lr, alpha, eps = 0.1, 0.9, 1e-8
    p = Parameter(np.array([2.0]))
    steps = run(RMSprop([p], lr=lr, alpha=alpha, eps=eps), p, [[1.0], [-3.0]])
    s1 = 0.1 * 1.0                      # 0.9 * 0 + 0.1 * 1^2
    p1 = 2.0 - lr * 1.0 / (math.sqrt(s1) + eps)
    s2 = 0.9 * s1 + 0.1 * 9.0           # 0.99
    p2 = p1 - lr * -3.0 / (math.sqrt(s2) + eps)
    assert p1 == pytest.approx(2.0 - 0.1 / math.sqrt(0.1))
    np.testing.assert_allclose(steps.ravel(), [p1, p2], rtol=1e-14)


def test_momentum_centered_and_weight_decay_by_hand():
    lr, alpha, eps, mu, wd = 0.05, 0.8, 1e-6, 0.5, 0.1
    p = Parameter(np.array([1.0]))
    opt = RMSprop([p], lr=lr, alpha=alpha, eps=eps, momentum=mu, centered=True, weight_decay=wd)
    theta, s, a, buf, out = 1.0, 0.0, 0.0, 0.0, []
    for g in [0.4, -0.2, 0.7]:
        g = g + wd * theta
        s = alpha * s + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g          # centered: subtract the mean's square
        buf = mu * buf + g / (math.sqrt(s - a * a) + eps)
        theta -= lr * buf
        out.append(theta)
    np.testing.assert_allclose(run(opt, p, [[0.4], [-0.2], [0.7]]).ravel(), out, rtol=1e-12)
    assert set(opt.state[0]) == {"square_avg", "grad_avg", "momentum_buffer"}


def test_the_step_does_not_depend_on_the_scale_of_the_gradient():
    grads = np.random.default_rng(0).normal(size=(5, 3))
    paths = []
    for scale in [1.0, 1e4]:
        p = Parameter(np.zeros(3))
        paths.append(run(RMSprop([p], lr=0.01, eps=0.0), p, grads * scale))
    np.testing.assert_allclose(paths[0], paths[1], rtol=1e-12)


def test_parameters_without_gradient_are_skipped_and_grad_untouched():
    a, b = Parameter(np.array([1.0])), Parameter(np.array([5.0]))
    a.grad = np.array([2.0])
    RMSprop([a, b], lr=0.1).step()
    assert b.grad is None and b.data[0] == 5.0
    assert a.grad[0] == 2.0 and a.data[0] != 1.0


def test_validation():
    p = [Parameter(np.array([1.0]))]
    for bad in [dict(alpha=1.0), dict(alpha=-0.1), dict(eps=-1.0), dict(momentum=-0.5),
                dict(weight_decay=-1.0), dict(lr=0.0)]:
        with pytest.raises(ValueError):
            RMSprop(p, **bad)
