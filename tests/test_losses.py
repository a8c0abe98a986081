"""Tests for backproplab.losses and backproplab.functional: values, gradients, stability,
bad input."""

import math
import warnings

import numpy as np
import pytest

from backproplab.gradcheck import numerical_gradient

from backproplab import (BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, MultiMarginLoss,
                         ShapeError, functional, log_softmax, logsumexp, sigmoid, softmax)


def rng(seed=0):
    return np.random.default_rng(seed)


def numerical_grad(f, arr):
    """d f() / d arr by central differences (the library's checker; f reads ``arr``)."""
    return numerical_gradient(lambda _: f(), arr)


# ----------------------------------------------------------------------------------- values by hand

def test_mse_is_the_mean_over_all_elements():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[0.0, 2.0], [5.0, 4.0]])
    # squared errors 1, 0, 4, 0 -> mean over the 4 elements, not the 2 rows
    loss = MSELoss()(pred, target)
    assert isinstance(loss, float)
    assert loss == 1.25


def test_l1_is_the_mean_absolute_error_and_its_gradient_the_sign_over_size():
    loss = L1Loss()
    assert loss(np.array([[1.0, -2.0], [0.5, 3.0]]), np.zeros((2, 2))) == pytest.approx(1.625)
    # sign(diff) / 4, and 0 where pred equals target (PyTorch's choice at the kink)
    loss(np.array([2.0, 0.0, -1.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(loss.backward(), [0.25, 0.0, -0.25, 0.0])


def test_cross_entropy_uniform_logits_is_log_c():
    assert CrossEntropyLoss()(np.array([[0.0, 0.0]]), np.array([0])) == pytest.approx(math.log(2))
    loss = CrossEntropyLoss()(np.zeros((4, 5)), np.array([0, 1, 2, 4]))
    assert loss == pytest.approx(math.log(5))  # uniform over 5 classes


def test_cross_entropy_is_averaged_over_the_batch():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    labels = np.array([0, 1])
    per_row = [-(2.0 - math.log(math.exp(2) + 1 + math.exp(-1))),
               -(0.5 - math.log(2 * math.exp(0.5) + math.exp(3)))]
    assert CrossEntropyLoss()(logits, labels) == pytest.approx(sum(per_row) / 2, rel=1e-12)


def test_multi_margin_is_cs231n_svm_loss_divided_by_c_and_averaged_over_the_batch():
    # CS231n's example: scores (cat, car, frog) = (3.2, 5.1, -1.7) for a cat. The car beats
    # the cat by 1.9, so it costs 1.9 + 1 = 2.9; the frog trails by 4.9 > 1 and costs nothing.
    # A second example with every wrong class far behind costs 0.
    scores = np.array([[3.2, 5.1, -1.7], [9.0, 1.0, 2.0]])
    loss = MultiMarginLoss()(scores, np.array([0, 0]))
    assert loss == pytest.approx((2.9 / 3 + 0.0) / 2, rel=1e-12)
    # the right class is not compared with itself (that would add margin / C per example)
    assert MultiMarginLoss()(np.zeros((1, 4)), np.array([2])) == pytest.approx(3 / 4)


def test_multi_margin_p2_and_margin_follow_pytorch():
    scores = np.array([[0.5, 0.2, -1.0]])
    # margin 2: terms 2 - 0.5 + 0.2 = 1.7 and 2 - 0.5 - 1.0 = 0.5; squared, summed, / C = 3
    assert MultiMarginLoss(p=2, margin=2.0)(scores, np.array([0])) == pytest.approx(
        (1.7 ** 2 + 0.5 ** 2) / 3)
    with pytest.raises(ValueError, match="p = 1 or 2"):
        MultiMarginLoss(p=3)


def test_multi_margin_gradient_is_zero_for_satisfied_margins():
    loss = MultiMarginLoss()
    scores = np.array([[3.2, 5.1, -1.7], [9.0, 1.0, 2.0]])
    loss(scores, np.array([0, 0]))
    # only the car term of example 0 is active: +1/(N C) at the car, -1/(N C) at the cat
    np.testing.assert_allclose(loss.backward(), [[-1 / 6, 1 / 6, 0.0], [0.0, 0.0, 0.0]])


def test_bce_with_logits_is_the_mean_over_elements():
    logits = np.array([[0.0, 2.0], [-1.0, 3.0]])
    targets = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    terms = [-math.log(s(0.0)), -math.log(1 - s(2.0)), -math.log(1 - s(-1.0)), -math.log(s(3.0))]
    assert BCEWithLogitsLoss()(logits, targets) == pytest.approx(sum(terms) / 4, rel=1e-12)
    # logit 0 -> probability 1/2 -> loss log 2 whatever the target
    assert BCEWithLogitsLoss()(np.zeros(3), np.array([0.0, 1.0, 0.5])) == pytest.approx(math.log(2))


# ---------------------------------------------------------------------------------------- stability

def test_cross_entropy_is_stable_at_huge_logits():
    loss = CrossEntropyLoss()
    # -log softmax(z)[1] = log(1 + e^(1000 - 1001)) = log(1 + e^-1)
    assert loss(np.array([[1000.0, 1001.0]]), np.array([1])) == pytest.approx(
        math.log1p(math.exp(-1)), rel=1e-12)
    assert loss(np.array([[1000.0, -1000.0]]), np.array([1])) == pytest.approx(2000.0)
    grad = loss.backward()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[1.0, -1.0]])  # softmax (1, 0) minus onehot (0, 1)


def test_bce_with_logits_is_stable_at_huge_logits():
    loss = BCEWithLogitsLoss()
    logits = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    targets = np.array([1.0, 0.0, 0.0, 1.0])
    # the first two are right and cost 0; the last two are wrong by 1000 each
    assert loss(logits, targets) == pytest.approx(2000.0 / 4)
    grad = loss.backward()
    np.testing.assert_allclose(grad, [0.0, 0.0, 0.25, -0.25])


def test_softmax_log_softmax_logsumexp_are_stable():
    z = np.array([[1000.0, 1001.0], [-1000.0, -1001.0], [0.0, 0.0]])
    p = softmax(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    e = math.exp(-1)
    np.testing.assert_allclose(p[0], [e / (1 + e), 1 / (1 + e)], rtol=1e-12)
    np.testing.assert_allclose(logsumexp(z), [1001 + math.log1p(e), -1000 + math.log1p(e),
                                              math.log(2)], rtol=1e-12)
    np.testing.assert_allclose(log_softmax(z), np.log(p), rtol=1e-12)
    assert logsumexp(z, keepdims=True).shape == (3, 1)


def test_softmax_along_axis_0():
    z = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(softmax(z, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(softmax(z, axis=0)[:, 1], 0.5)


def test_logsumexp_of_all_minus_infinity_is_minus_infinity_without_warning():
    # logsumexp handles an all -inf row on purpose (it avoids inf - inf); the answer is
    # log(0) = -inf, and no RuntimeWarning should escape while computing it.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = logsumexp(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    assert out[0] == -np.inf
    assert out[1] == pytest.approx(math.log(2))


def test_functional_sigmoid_at_extremes_has_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        ls = functional.log_sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(ls, [-1000.0, 0.0])


def test_functional_sigmoid_keeps_float32():
    assert sigmoid(np.zeros(3, dtype=np.float32)).dtype == np.float32


# ---------------------------------------------------------------------------------------- gradients

LOSS_CASES = [
    ("MSE", MSELoss, lambda: (rng(0).normal(size=(4, 3)), rng(1).normal(size=(4, 3)))),
    ("L1", L1Loss, lambda: (rng(0).normal(size=(4, 3)), rng(1).normal(size=(4, 3)))),
    ("CE", CrossEntropyLoss, lambda: (rng(0).normal(size=(5, 4)), np.array([0, 3, 1, 1, 2]))),
    ("BCE", BCEWithLogitsLoss,
     lambda: (rng(0).normal(size=(4, 2)), rng(1).integers(0, 2, size=(4, 2)).astype(float))),
    # scores spread wide enough that no hinge term sits within the finite-difference step of 0
    ("hinge", MultiMarginLoss, lambda: (rng(2).normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 0]))),
    ("squared hinge", lambda: MultiMarginLoss(p=2, margin=0.5),
     lambda: (rng(3).normal(size=(6, 4)), np.array([1, 0, 3, 2, 2, 1]))),
]


@pytest.mark.parametrize("name, make_loss, make_data", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_loss_backward_matches_numerical_gradient(name, make_loss, make_data):
    loss_fn = make_loss()
    pred, target = make_data()
    loss_fn(pred, target)
    grad = loss_fn.backward()
    assert grad.shape == pred.shape and grad.dtype == pred.dtype
    numeric = numerical_grad(lambda: make_loss()(pred, target), pred)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_cross_entropy_backward_formula():
    logits = np.array([[0.0, 0.0], [0.0, np.log(3.0)]])
    loss = CrossEntropyLoss()
    loss(logits, np.array([1, 1]))
    # (softmax - onehot) / N with softmax rows (1/2, 1/2) and (1/4, 3/4)
    np.testing.assert_allclose(loss.backward(), [[0.25, -0.25], [0.125, -0.125]])


def test_loss_backward_keeps_float32():
    pred = np.ones((2, 3), dtype=np.float32)
    for loss, target in ((MSELoss(), np.zeros((2, 3))), (CrossEntropyLoss(), np.array([0, 2])),
                         (BCEWithLogitsLoss(), np.zeros((2, 3)))):
        loss(pred, target)
        assert loss.backward().dtype == np.float32


# ---------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("loss", [MSELoss(), CrossEntropyLoss(), BCEWithLogitsLoss(),
                                  MultiMarginLoss()], ids=lambda x: type(x).__name__)
def test_backward_before_forward_raises(loss):
    with pytest.raises(RuntimeError, match="before"):
        loss.backward()


@pytest.mark.parametrize("labels", [[0, 3], [-1, 0]])
@pytest.mark.parametrize("loss", [CrossEntropyLoss(), MultiMarginLoss()],
                         ids=lambda x: type(x).__name__)
def test_class_losses_reject_labels_out_of_range(loss, labels):
    with pytest.raises(ValueError, match=rf"{type(loss).__name__}.*\[0, 3\)"):
        loss(np.zeros((2, 3)), np.array(labels))


def test_cross_entropy_rejects_float_labels():
    with pytest.raises(TypeError, match="integer"):
        CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_cross_entropy_rejects_batch_size_mismatch():
    with pytest.raises(ShapeError) as info:
        CrossEntropyLoss()(np.zeros((4, 3)), np.array([0, 1, 2]))
    assert "4" in str(info.value) and "(3,)" in str(info.value)


def test_cross_entropy_rejects_1d_logits():
    with pytest.raises(ShapeError):
        CrossEntropyLoss()(np.zeros(3), np.array([0, 1, 2]))


def test_mse_shape_mismatch():
    with pytest.raises(ShapeError) as info:
        MSELoss()(np.zeros((4, 1)), np.zeros(4))  # (N, 1) vs (N,): no silent broadcasting
    assert "(4, 1)" in str(info.value) and "(4,)" in str(info.value)


def test_bce_shape_mismatch_and_bad_targets():
    with pytest.raises(ShapeError):
        BCEWithLogitsLoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError):
        BCEWithLogitsLoss()(np.zeros(2), np.array([0.0, 2.0]))


@pytest.mark.parametrize("loss, pred, target", [
    (MSELoss(), np.zeros((0, 2)), np.zeros((0, 2))),
    (CrossEntropyLoss(), np.zeros((0, 3)), np.zeros(0, dtype=int)),
    (BCEWithLogitsLoss(), np.zeros((0,)), np.zeros((0,))),
], ids=["MSE", "CE", "BCE"])
def test_empty_batch_raises_clear_shape_error(loss, pred, target):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a "mean of empty slice" warning and a nan
        with pytest.raises(ShapeError, match="empty"):
            loss(pred, target)


def test_string_inputs_raise_type_error():
    with pytest.raises(TypeError):
        MSELoss()(np.array(["a", "b"]), np.zeros(2))
    with pytest.raises(TypeError):
        MSELoss()(np.zeros(2), np.array(["a", "b"]))


def test_integer_predictions_are_converted():
    assert MSELoss()(np.array([1, 2]), np.array([0, 0])) == 2.5


@pytest.mark.parametrize("dtype", [float, int])
@pytest.mark.parametrize("loss", [CrossEntropyLoss(), MultiMarginLoss()],
                         ids=lambda x: type(x).__name__)
def test_class_losses_name_one_hot_labels(loss, dtype):
    # A one-hot matrix has the logits' shape: say so, and how to get class labels.
    with pytest.raises(ShapeError, match=r"look one-hot.*argmax\(axis=1\)"):
        loss(np.zeros((3, 2)), np.eye(2, dtype=dtype)[[0, 1, 1]])


def test_multi_margin_rejects_float_labels_and_1d_scores():
    with pytest.raises(TypeError, match="MultiMarginLoss expects integer"):
        MultiMarginLoss()(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ShapeError, match="MultiMarginLoss expects logits of shape"):
        MultiMarginLoss()(np.zeros(3), np.array([0, 1, 2]))
