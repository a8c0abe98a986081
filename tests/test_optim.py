"""Tests for backproplab.optim: update rules worked out by hand, clipping and schedules."""

import math

import numpy as np
import pytest

from backproplab import Parameter
from backproplab.optim import (SGD, Adam, CosineAnnealingLR, ExponentialLR, StepLR,
                               clip_grad_norm)


def param(values, grad=None):
    p = Parameter(np.array(values, dtype=float), "p")
    if grad is not None:
        p.grad = np.array(grad, dtype=float)
    return p


def run(opt, p, grads):
    """Take one step per gradient in ``grads``; return the parameter after each step."""
    out = []
    for g in grads:
        p.grad = np.array(g, dtype=float)
        opt.step()
        out.append(p.data.copy())
    return out


# ---------------------------------------------------------------------------------------------- SGD

def test_sgd_plain_step():
    p = param([1.0, -2.0], grad=[0.5, 1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.95, -2.1], rtol=1e-15)  # p - lr * g


def test_sgd_does_not_modify_the_gradient():
    p = param([1.0, -2.0], grad=[0.5, 1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(p.grad, [0.5, 1.0])


def test_sgd_momentum_three_steps():
    p = param([0.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    steps = run(opt, p, [[1.0], [2.0], [-1.0]])
    # v1 = g1 = 1 (PyTorch starts the buffer at the first gradient)
    # v2 = 0.9 * 1 + 2 = 2.9;  v3 = 0.9 * 2.9 - 1 = 1.61
    # p: 0 - 0.1 = -0.1;  -0.1 - 0.29 = -0.39;  -0.39 - 0.161 = -0.551
    np.testing.assert_allclose(np.concatenate(steps), [-0.1, -0.39, -0.551], rtol=1e-12)
    np.testing.assert_allclose(opt.state[0]["velocity"], [1.61], rtol=1e-12)


def test_sgd_momentum_first_buffer_is_the_gradient():
    p = param([0.0, 0.0])
    opt = SGD([p], lr=1.0, momentum=0.5)
    run(opt, p, [[3.0, -4.0]])
    np.testing.assert_array_equal(opt.state[0]["velocity"], [3.0, -4.0])
    np.testing.assert_array_equal(p.data, [-3.0, 4.0])


def test_sgd_weight_decay():
    p = param([2.0], grad=[0.5])
    SGD([p], lr=0.1, weight_decay=0.1).step()
    # g = 0.5 + 0.1 * 2 = 0.7; p = 2 - 0.1 * 0.7
    np.testing.assert_allclose(p.data, [1.93], rtol=1e-15)


def test_sgd_nesterov_two_steps():
    p = param([0.0])
    steps = run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, [[1.0], [2.0]])
    # step 1: v = 1, update g + 0.9 v = 1.9 -> p = -0.19
    # step 2: v = 0.9 + 2 = 2.9, update 2 + 0.9 * 2.9 = 4.61 -> p = -0.19 - 0.461 = -0.651
    np.testing.assert_allclose(np.concatenate(steps), [-0.19, -0.651], rtol=1e-12)


def test_sgd_validation():
    with pytest.raises(ValueError):
        SGD([], lr=0.1)
    with pytest.raises(ValueError):
        SGD([param([1.0])], lr=0.0)
    with pytest.raises(ValueError):
        SGD([param([1.0])], lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        SGD([param([1.0])], lr=0.1, momentum=-0.5)


# --------------------------------------------------------------------------------------------- Adam

def test_adam_first_step_moves_each_coordinate_by_lr_times_sign():
    # m_hat = g and v_hat = g^2 after bias correction, so the step is lr * g / |g|
    g = [0.5, -3.0, 1e-3, -200.0]
    p = param([1.0, 1.0, 1.0, 1.0], grad=g)
    Adam([p], lr=0.01).step()
    step = p.data - 1.0
    # eps = 1e-8 only matters relative to |g|: a 1e-5 relative effect for g = 1e-3
    np.testing.assert_allclose(step, -0.01 * np.sign(g), rtol=2e-5)


def test_adam_two_steps_with_weight_decay_by_hand():
    lr, b1, b2, eps, wd = 0.1, 0.9, 0.999, 1e-8, 0.5
    p = param([1.0])
    steps = run(Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), p, [[0.2], [-0.1]])
    # step 1: g = 0.2 + 0.5 * 1 = 0.7; m = 0.07, v = 0.00049; m_hat = 0.7, sqrt(v_hat) = 0.7
    p1 = 1.0 - lr * 0.7 / (0.7 + eps)  # ~ 0.9
    # step 2: g = -0.1 + 0.5 * p1 ~ 0.35
    g2 = -0.1 + wd * p1
    m2 = b1 * 0.07 + (1 - b1) * g2  # ~ 0.098
    v2 = b2 * 0.00049 + (1 - b2) * g2 * g2  # ~ 0.00061201
    p2 = p1 - lr / (1 - b1**2) * m2 / (math.sqrt(v2) / math.sqrt(1 - b2**2) + eps)
    assert p1 == pytest.approx(0.9, abs=1e-8)
    assert p2 == pytest.approx(0.80678, abs=1e-5)  # the hand calculation, to 5 places
    np.testing.assert_allclose(np.concatenate(steps), [p1, p2], rtol=1e-12)


def test_adam_validation():
    with pytest.raises(ValueError):
        Adam([param([1.0])], betas=(1.0, 0.999))


# --------------------------------------------------------------------------------- shared behaviour

@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: Adam(ps, lr=0.1)], ids=["SGD", "Adam"])
def test_params_with_grad_none_are_skipped(make):
    a = param([1.0, 2.0], grad=[1.0, 1.0])
    b = param([5.0])  # no gradient: it took no part in the loss
    opt = make([a, b])
    opt.step()
    np.testing.assert_array_equal(b.data, [5.0])
    assert b.grad is None
    assert not np.array_equal(a.data, [1.0, 2.0])


def test_optimizer_zero_grad_sets_none():
    a, b = param([1.0], grad=[1.0]), param([2.0], grad=[3.0])
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_accepts_a_generator_of_parameters():
    ps = [param([1.0], grad=[1.0]), param([2.0], grad=[1.0])]
    opt = SGD((p for p in ps), lr=0.5)
    opt.step()
    assert [float(p.data[0]) for p in ps] == [0.5, 1.5]


# ----------------------------------------------------------------------------------- clip_grad_norm

def test_clip_grad_norm_returns_norm_before_and_scales():
    a, b = param([0.0, 0.0], grad=[3.0, 4.0]), param([0.0], grad=[12.0])
    norm = clip_grad_norm([a, b], max_norm=6.5)
    assert norm == pytest.approx(13.0, rel=1e-15)  # sqrt(9 + 16 + 144), over all grads jointly
    coef = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * coef, 4.0 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [12.0 * coef], rtol=1e-15)
    assert math.sqrt(np.sum(a.grad**2) + np.sum(b.grad**2)) < 6.5


def test_clip_grad_norm_below_max_does_nothing():
    a = param([0.0, 0.0], grad=[3.0, 4.0])
    assert clip_grad_norm([a], max_norm=10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_clip_grad_norm_inf_norm():
    a, b = param([0.0, 0.0], grad=[3.0, -4.0]), param([0.0], grad=[-12.0])
    norm = clip_grad_norm([a, b], max_norm=6.0, norm_type=math.inf)
    assert norm == 12.0  # the largest |g|
    coef = 6.0 / (12.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * coef, -4.0 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [-12.0 * coef], rtol=1e-15)


def test_clip_grad_norm_skips_none_grads():
    a, b = param([0.0, 0.0], grad=[3.0, 4.0]), param([1.0])
    assert clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(5.0)
    assert b.grad is None
    assert clip_grad_norm([param([1.0])], max_norm=1.0) == 0.0  # no gradients at all


# ---------------------------------------------------------------------------------------- schedules

def lrs(schedule, n):
    out = []
    for _ in range(n):
        schedule.step()
        out.append(schedule.get_last_lr())
    return out


def test_step_lr():
    opt = SGD([param([1.0])], lr=1.0)
    # lr = 1.0 * 0.5 ** (epoch // 2)
    assert lrs(StepLR(opt, step_size=2, gamma=0.5), 5) == pytest.approx([1.0, 0.5, 0.5, 0.25, 0.25])
    assert opt.lr == pytest.approx(0.25)


def test_exponential_lr():
    opt = SGD([param([1.0])], lr=0.1)
    assert lrs(ExponentialLR(opt, gamma=0.9), 3) == pytest.approx([0.09, 0.081, 0.0729])


def test_cosine_annealing_lr():
    opt = SGD([param([1.0])], lr=1.0)
    c = math.cos(math.pi / 4)
    # eta_min + (1 - eta_min) (1 + cos(pi t / 4)) / 2 for t = 1..4, with eta_min = 0.1
    expected = [0.1 + 0.9 * (1 + c) / 2, 0.55, 0.1 + 0.9 * (1 - c) / 2, 0.1]
    assert lrs(CosineAnnealingLR(opt, T_max=4, eta_min=0.1), 4) == pytest.approx(expected)


def test_schedule_changes_the_step_size():
    p = param([0.0])
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.1)
    run(opt, p, [[1.0]])
    sched.step()
    run(opt, p, [[1.0]])
    np.testing.assert_allclose(p.data, [-1.1])  # steps of 1.0 then 0.1
