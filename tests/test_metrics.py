"""Tests for backproplab.metrics: calibration bins and the expected calibration error."""

import numpy as np
import pytest

import backproplab as bp
from backproplab.metrics import calibration_bins, expected_calibration_error


def two_class(p1):
    """Rows [1 - p, p] for each p in p1: the confidence is max(p, 1 - p)."""
    p1 = np.asarray(p1, dtype=float)
    return np.column_stack([1 - p1, p1])


def test_bins_by_hand():
    # confidences 0.55, 0.65, 0.95, 0.95 and 1.0 with 5 bins of width 0.2:
    # bin 2 (0.4, 0.6]: one prediction, right; bin 3 (0.6, 0.8]: one, wrong;
    # bin 4 (0.8, 1.0]: three (0.95, 0.95, 1.0), two right
    probs = two_class([0.55, 0.35, 0.95, 0.05, 1.0])
    y = np.array([1, 1, 1, 1, 1])   # predictions 1, 0, 1, 0, 1
    bins = calibration_bins(probs, y, n_bins=5)
    np.testing.assert_array_equal(bins.edges, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_array_equal(bins.counts, [0, 0, 1, 1, 3])
    np.testing.assert_allclose(bins.confidence[2:], [0.55, 0.65, (0.95 + 0.95 + 1.0) / 3])
    np.testing.assert_allclose(bins.accuracy[2:], [1.0, 0.0, 2 / 3])
    assert np.isnan(bins.confidence[:2]).all() and np.isnan(bins.accuracy[:2]).all()
    expected = (1 * 0.45 + 1 * 0.65 + 3 * abs(2 / 3 - 2.9 / 3)) / 5
    assert expected_calibration_error(probs, y, n_bins=5) == pytest.approx(expected, abs=1e-15)


def test_an_edge_belongs_to_the_bin_below_and_one_to_the_last_bin():
    # 0.6 = 3/5 is the upper edge of bin 2; 0.6 * 5 rounds up to 3.0000000000000004 in
    # floating point, so a ceil(conf * M) formula would put it in bin 3
    bins = calibration_bins(two_class([0.6, 1.0, 0.2 + 0.2]), [1, 1, 1], n_bins=5)
    np.testing.assert_array_equal(bins.counts, [0, 0, 2, 0, 1])
    bins = calibration_bins(np.eye(4), np.arange(4), n_bins=15)  # every confidence exactly 1
    assert bins.counts[-1] == 4 and bins.counts.sum() == 4


def test_calibrated_predictions_have_zero_ece():
    # 10 predictions at confidence 0.7, 7 of them right; 10 at confidence 0.9, 9 right
    probs = np.vstack([two_class([0.7] * 10), two_class([0.9] * 10)])
    y = np.array([1] * 7 + [0] * 3 + [1] * 9 + [0])
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0, abs=1e-12)


def test_gaps_of_opposite_sign_do_not_cancel():
    # overconfident at 0.9 (half right), underconfident at 0.6 (all right): the overall
    # mean confidence 0.75 equals the overall accuracy 0.75, but every bin is off
    probs = two_class([0.9] * 4 + [0.6] * 4)
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1])
    ece = expected_calibration_error(probs, y, n_bins=10)
    assert ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert probs.max(axis=1).mean() == pytest.approx(np.mean(probs.argmax(axis=1) == y))


def test_one_bin_is_the_gap_between_mean_confidence_and_accuracy():
    rng = np.random.default_rng(0)
    probs = bp.softmax(rng.normal(size=(50, 4)) * 2, axis=1)
    y = rng.integers(0, 4, size=50)
    gap = abs(probs.max(axis=1).mean() - np.mean(probs.argmax(axis=1) == y))
    assert expected_calibration_error(probs, y, n_bins=1) == pytest.approx(gap)


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_direct_loop_over_bins(seed):
    rng = np.random.default_rng(seed)
    n, c, m = 200, 10, 15
    probs = bp.softmax(rng.normal(size=(n, c)) * rng.uniform(0.5, 6), axis=1)
    y = rng.integers(0, c, size=n)
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    ece = 0.0
    for b in range(m):
        inside = (conf > b / m) & (conf <= (b + 1) / m)
        if inside.any():
            ece += inside.sum() / n * abs(correct[inside].mean() - conf[inside].mean())
    assert expected_calibration_error(probs, y, n_bins=m) == pytest.approx(ece, rel=1e-12)
    order = rng.permutation(n)   # the order of the predictions does not matter
    assert expected_calibration_error(probs[order], y[order], m) == pytest.approx(ece)
    assert calibration_bins(probs, y, m).counts.sum() == n


def test_bad_input_gets_a_clear_error():
    probs, y = two_class([0.8, 0.3]), np.array([1, 0])
    with pytest.raises(ValueError, match="softmax"):
        expected_calibration_error(np.array([[2.0, -1.0], [0.5, 0.1]]), y)   # logits
    with pytest.raises(ValueError, match="softmax"):
        expected_calibration_error(np.array([[1.5, -0.5], [0.5, 0.5]]), y)   # sums to 1, < 0
    with pytest.raises(bp.ShapeError, match="column_stack"):
        expected_calibration_error(np.array([0.8, 0.3]), y)
    with pytest.raises(bp.ShapeError, match="one label per row"):
        expected_calibration_error(probs, np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="labels must be in 0 .. 1"):
        expected_calibration_error(probs, np.array([1, 2]))
    with pytest.raises(TypeError, match="integer class labels"):
        expected_calibration_error(probs, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="NaN"):
        expected_calibration_error(np.array([[np.nan, 1.0], [0.5, 0.5]]), y)
    for n_bins in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_bins"):
            expected_calibration_error(probs, y, n_bins=n_bins)
    assert expected_calibration_error(probs, y.astype(float)) >= 0   # 1.0, 0.0 are labels
