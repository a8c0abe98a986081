"""Tests for backproplab.optim.AdamW: decoupled weight decay, worked out by hand.

PyTorch's rule (torch.optim.AdamW): ``p *= 1 - lr * weight_decay``, then Adam's step for the
data gradient alone. benchmarks/torch_parity.py compares it with PyTorch itself.
"""

import math

import numpy as np
import pytest

from backproplab.optim import Adam, AdamW, StepLR
from test_optim import param, run  # tests/ is on sys.path (pytest's prepend import mode)


def test_defaults_are_pytorchs():
    opt = AdamW([param([1.0])])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 1e-2)


def test_a_zero_gradient_only_decays_by_one_minus_lr_times_weight_decay():
    # Adam's step is exactly 0 when the gradient has always been 0 (m = 0)
    p = param([2.0, -3.0])
    steps = run(AdamW([p], lr=0.1, weight_decay=0.5), p, [[0.0, 0.0]] * 5)
    np.testing.assert_allclose(steps[-1], np.array([2.0, -3.0]) * 0.95**5, rtol=1e-15)


def test_two_steps_by_hand():
    lr, b1, b2, eps, wd = 0.1, 0.9, 0.999, 1e-8, 0.5
    p = param([1.0])
    steps = run(AdamW([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), p, [[0.2], [-0.1]])
    # step 1: decay 1 -> 0.95; m = 0.02, v = 4e-5, m_hat = 0.2 = sqrt(v_hat): a step of lr
    p1 = 1.0 * (1 - lr * wd) - lr * 0.2 / (0.2 + eps)
    # step 2: decay, then Adam on g = -0.1 alone (the decay never enters m and v)
    m2, v2 = b1 * 0.02 + (1 - b1) * -0.1, b2 * 4e-5 + (1 - b2) * 0.01
    p2 = p1 * (1 - lr * wd) - lr / (1 - b1**2) * m2 / (math.sqrt(v2) / math.sqrt(1 - b2**2) + eps)
    assert p1 == pytest.approx(0.85, abs=1e-7)
    assert p2 == pytest.approx(0.780866, abs=1e-6)  # the hand calculation, to 6 places
    np.testing.assert_allclose(np.concatenate(steps), [p1, p2], rtol=1e-13)


def test_the_decay_stays_out_of_the_moments():
    grads = [[0.5, -1.0], [0.25, 2.0], [-1.5, 0.0]]
    a, b = param([1.0, -2.0]), param([1.0, -2.0])
    decoupled, plain = AdamW([a], lr=0.05, weight_decay=0.3), Adam([b], lr=0.05)
    run(decoupled, a, grads)
    run(plain, b, grads)
    for key in ("m", "v", "t"):
        np.testing.assert_array_equal(decoupled.state[0][key], plain.state[0][key])
    assert not np.allclose(a.data, b.data)


def test_without_weight_decay_it_is_adam_bit_for_bit():
    grads = np.random.default_rng(0).normal(size=(4, 3))
    a, b = param([1.0, -2.0, 0.5]), param([1.0, -2.0, 0.5])
    run(AdamW([a], lr=0.01, weight_decay=0.0), a, grads)
    run(Adam([b], lr=0.01), b, grads)
    np.testing.assert_array_equal(a.data, b.data)


def test_coupled_and_decoupled_decay_differ():
    # Adam's L2 goes through sqrt(v): a weight with a zero data gradient moves by about lr
    # per step whatever the strength; AdamW shrinks it by the factor (1 - lr * wd) per step
    a, b = param([1.0]), param([1.0])
    run(Adam([a], lr=0.01, weight_decay=1e-4), a, [[0.0]] * 10)
    run(AdamW([b], lr=0.01, weight_decay=1e-4), b, [[0.0]] * 10)
    assert a.data[0] == pytest.approx(0.9, abs=1e-3)
    assert b.data[0] == pytest.approx((1 - 1e-6) ** 10, rel=1e-14)


def test_the_decay_follows_the_current_learning_rate():
    p = param([1.0])
    opt = AdamW([p], lr=0.1, weight_decay=1.0)
    schedule = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        p.grad = np.zeros(1)
        opt.step()
        schedule.step()
    np.testing.assert_allclose(p.data, [0.9 * 0.95], rtol=1e-15)


def test_a_parameter_without_gradient_is_neither_stepped_nor_decayed():
    a, b = param([1.0], grad=[1.0]), param([5.0])
    AdamW([a, b], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_array_equal(b.data, [5.0])
    assert b.grad is None and a.data[0] != 1.0


def test_the_gradient_is_left_alone():
    p = param([1.0, -2.0], grad=[0.5, 1.0])
    AdamW([p], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_array_equal(p.grad, [0.5, 1.0])


@pytest.mark.parametrize("make", [Adam, AdamW], ids=["Adam", "AdamW"])
def test_a_negative_weight_decay_is_refused(make):
    with pytest.raises(ValueError, match="weight_decay"):
        make([param([1.0])], weight_decay=-0.1)
