"""Tests for backproplab.data: generated datasets, splits, labels, batches and shipped digits."""

import hashlib
from importlib import resources

import numpy as np
import pytest

from backproplab import data

CLASSIFICATION_MAKERS = [data.make_spiral, data.make_moons, data.make_circles, data.make_xor]


# --------------------------------------------------------------------------- generators

@pytest.mark.parametrize("make", CLASSIFICATION_MAKERS)
def test_classification_makers_are_deterministic_in_seed(make):
    X1, y1 = make(seed=3)
    X2, y2 = make(seed=3)
    X3, _ = make(seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", CLASSIFICATION_MAKERS)
def test_classification_makers_shapes_and_dtypes(make):
    X, y = make(n_samples=101)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", CLASSIFICATION_MAKERS)
def test_classification_makers_reject_bad_arguments(make):
    with pytest.raises(ValueError, match="noise"):
        make(noise=-0.1)
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=1)  # fewer points than classes
    with pytest.raises(TypeError, match="n_samples"):
        make(n_samples=100.0)


def test_spiral_splits_points_evenly_between_classes():
    _, y = data.make_spiral(n_samples=302, n_classes=3)
    np.testing.assert_array_equal(np.bincount(y), [101, 101, 100])
    _, y = data.make_spiral(n_samples=50, n_classes=5)
    np.testing.assert_array_equal(np.bincount(y), [10] * 5)


def test_spiral_noise_is_angular_so_radii_run_from_0_to_1():
    # Noise only turns points around the origin: each arm's radii stay exactly linspace(0, 1).
    X, y = data.make_spiral(n_samples=300, n_classes=3, noise=0.5)
    for k in range(3):
        np.testing.assert_allclose(np.linalg.norm(X[y == k], axis=1), np.linspace(0, 1, 100))


def test_spiral_without_noise_matches_cs231n_formula():
    X, y = data.make_spiral(n_samples=30, n_classes=3, noise=0.0)
    r, t = np.linspace(0, 1, 10), np.linspace(4, 8, 10)  # arm 1
    np.testing.assert_allclose(X[y == 1], np.column_stack([r * np.sin(t), r * np.cos(t)]))


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = data.make_moons(n_samples=101, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 50 and len(lower) == 51
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    assert np.all(lower[:, 1] <= 0.5)


def test_circles_radii_are_one_and_factor():
    X, y = data.make_circles(n_samples=200, noise=0.0, factor=0.3)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    # With noise the radii scatter, but their averages stay close.
    X, y = data.make_circles(n_samples=2000, noise=0.05, factor=0.5)
    r = np.linalg.norm(X, axis=1)
    assert abs(r[y == 0].mean() - 1.0) < 0.01
    assert abs(r[y == 1].mean() - 0.5) < 0.01
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(factor=1.0)


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_xor_labels_follow_the_sign_rule(noise):
    # At noise 0.1 a point would need a 10-sigma draw to leave its quadrant.
    X, y = data.make_xor(n_samples=400, noise=noise)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    np.testing.assert_array_equal(np.bincount(y), [200, 200])


def test_polynomial_noise_std_matches_and_curve_is_the_default_cubic():
    x, y = data.make_polynomial(n_samples=20000, noise=0.3, seed=1)
    assert x.shape == (20000, 1) and y.shape == (20000,)
    assert np.all(np.diff(x[:, 0]) >= 0) and x.min() >= -1 and x.max() <= 1
    residual = y - data.true_function(x[:, 0])
    assert abs(residual.std() - 0.3) < 0.01
    assert abs(residual.mean()) < 0.01
    # Default degree-3 curve: Chebyshev T_3 = 4x^3 - 3x.
    np.testing.assert_allclose(data.true_function([-0.5, 0.0, 0.5, 1.0]), [1.0, 0.0, -1.0, 1.0])


def test_polynomial_custom_coefficients_and_range():
    x, y = data.make_polynomial(n_samples=10, degree=1, coef=[1.0, 2.0], noise=0.0, x_range=(2, 5))
    np.testing.assert_allclose(y, 1.0 + 2.0 * x[:, 0])
    assert x.min() >= 2 and x.max() <= 5
    with pytest.raises(ValueError, match="coef"):
        data.make_polynomial(degree=3, coef=[1.0, 2.0])
    with pytest.raises(ValueError, match="x_range"):
        data.make_polynomial(x_range=(1, -1))


def test_polynomial_is_deterministic_in_seed():
    np.testing.assert_array_equal(data.make_polynomial(seed=5)[1], data.make_polynomial(seed=5)[1])
    assert not np.array_equal(data.make_polynomial(seed=5)[1], data.make_polynomial(seed=6)[1])


def test_polynomial_features_powers_without_bias():
    expected = [[2.0, 4.0, 8.0], [3.0, 9.0, 27.0]]
    np.testing.assert_array_equal(data.polynomial_features([2, 3], 3), expected)
    np.testing.assert_array_equal(data.polynomial_features([[2], [3]], 3), expected)
    assert data.polynomial_features(np.zeros(5), 1).dtype == np.float64
    with pytest.raises(ValueError, match=r"\(N,\) or \(N, 1\)"):
        data.polynomial_features(np.zeros((4, 2)), 2)
    with pytest.raises(ValueError, match="degree"):
        data.polynomial_features([1.0], 0)


# --------------------------------------------------------------------------- splits

def test_train_val_split_sizes_cover_everything_without_overlap():
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50)  # y doubles as a row id
    X_tr, X_val, y_tr, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=0)
    assert len(y_tr) == 40 and len(y_val) == 10
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows of X and y stay paired
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    assert not np.array_equal(y_tr, np.sort(y_tr))  # shuffled, not a slice


def test_train_val_split_is_deterministic_in_seed():
    X, y = data.make_moons()
    a = data.train_val_split(X, y, seed=1)
    b = data.train_val_split(X, y, seed=1)
    c = data.train_val_split(X, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[3], c[3])


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [70, 20, 10])
    _, _, y_tr, y_val = data.train_val_split(y[:, None], y, val_fraction=0.2, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_val), [14, 4, 2])
    np.testing.assert_array_equal(np.bincount(y_tr), [56, 16, 8])
    assert np.any(np.diff(y_val) < 0)  # shuffled, not left grouped by class


def test_train_val_test_split_three_disjoint_parts_with_exact_sizes():
    X, y = data.load_digits()
    X_tr, X_val, X_te, y_tr, y_val, y_te = data.train_val_test_split(
        X, y, val_fraction=0.15, test_fraction=0.15, seed=0, stratify=True
    )
    assert (len(y_tr), len(y_val), len(y_te)) == (1257, 270, 270)
    # Same multiset of row fingerprints: every image lands in exactly one part.
    fingerprint = np.arange(64.0)
    parts = np.concatenate([X_tr, X_val, X_te]) @ fingerprint
    np.testing.assert_array_equal(np.sort(parts), np.sort(X @ fingerprint))
    for part in (y_val, y_te):  # each class ~10% of every part
        assert np.bincount(part, minlength=10).min() >= 26 and np.bincount(part).max() <= 28


def test_split_errors():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="same length"):
        data.train_val_split(X, y[:9])
    with pytest.raises(ValueError, match="val_fraction"):
        data.train_val_split(X, y, val_fraction=1.0)
    with pytest.raises(ValueError, match="< 1"):
        data.train_val_test_split(X, y, val_fraction=0.5, test_fraction=0.5)


# --------------------------------------------------------------------------- k-fold

@pytest.mark.parametrize("n, k", [(20, 5), (11, 3), (7, 7), (10, 2)])
def test_kfold_every_sample_validated_exactly_once(n, k):
    splits = data.kfold_split(n, k, seed=3)
    assert len(splits) == k
    held = np.concatenate([val for _, val in splits])
    np.testing.assert_array_equal(np.sort(held), np.arange(n))  # a partition of 0..n-1
    for train, val in splits:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(n))
        assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)  # sorted, no repeats


def test_kfold_sizes_as_scikit_learn_the_first_folds_get_the_remainder():
    assert [len(v) for _, v in data.kfold_split(11, 3)] == [4, 4, 3]
    assert [len(v) for _, v in data.kfold_split(23, 5)] == [5, 5, 5, 4, 4]


def test_kfold_shuffles_by_seed_and_can_keep_the_order():
    a, b = data.kfold_split(30, 3, seed=0), data.kfold_split(30, 3, seed=0)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    c = data.kfold_split(30, 3, seed=1)
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c))
    # unshuffled, fold i is a block of consecutive rows: with sorted data, one range of x
    ordered = data.kfold_split(10, 3, shuffle=False)
    assert [v.tolist() for _, v in ordered] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    shuffled = [v for _, v in data.kfold_split(30, 3, seed=0)]
    assert any(np.ptp(v) > 10 for v in shuffled)  # a shuffled fold spans the rows


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_folds"):
        data.kfold_split(10, 1)
    with pytest.raises(ValueError, match="at least as many samples"):
        data.kfold_split(3, 5)
    with pytest.raises(TypeError, match="n_samples"):
        data.kfold_split(10.0, 2)


# --------------------------------------------------------------------------- one_hot

def test_one_hot_values():
    out = data.one_hot([2, 0, 1, 2])
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert out.dtype == np.float64
    assert data.one_hot(np.array([0, 1]), n_classes=4).shape == (2, 4)
    np.testing.assert_array_equal(data.one_hot([1.0, 0.0]), [[0, 1], [1, 0]])  # whole floats ok


@pytest.mark.parametrize(
    "labels, n_classes, error, match",
    [
        ([0, -1, 2], None, ValueError, ">= 0"),
        ([0, 1.5], None, ValueError, "integer"),
        ([0, np.nan], None, ValueError, "integer"),
        ([0, 3], 3, ValueError, "out of range"),
        ([[0, 1]], None, ValueError, "1-D"),
        (["a", "b"], None, TypeError, "integer"),
        ([0, 1], 0, ValueError, "n_classes"),
    ],
)
def test_one_hot_errors(labels, n_classes, error, match):
    with pytest.raises(error, match=match):
        data.one_hot(labels, n_classes)


# --------------------------------------------------------------------------- minibatches

def test_minibatches_cover_every_sample_once_per_epoch():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(data.iterate_minibatches(X, y, 4, rng=np.random.default_rng(0)))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    assert not np.array_equal(seen, y)  # shuffled
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)


def test_minibatches_shuffle_differs_per_epoch_and_replays_with_seed():
    X, y = np.zeros((50, 1)), np.arange(50)

    def two_epochs(seed):
        rng = np.random.default_rng(seed)
        return [np.concatenate([yb for _, yb in data.iterate_minibatches(X, y, 8, rng=rng)])
                for _ in range(2)]

    first, second = two_epochs(0)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(two_epochs(0)[0], first)


def test_minibatches_in_order_and_drop_last():
    X, y = np.arange(10), np.arange(10)
    batches = [yb.tolist() for _, yb in data.iterate_minibatches(X, y, 4, shuffle=False)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    kept = [len(yb) for _, yb in data.iterate_minibatches(X, y, 4, shuffle=False, drop_last=True)]
    assert kept == [4, 4]
    assert list(data.iterate_minibatches(np.zeros((0, 3)), np.zeros(0), 4, shuffle=False)) == []


def test_minibatches_errors_raise_at_call_time():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="rng"):
        data.iterate_minibatches(X, y, 4)
    with pytest.raises(TypeError, match="Generator"):
        data.iterate_minibatches(X, y, 4, rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        data.iterate_minibatches(X, y, 0, shuffle=False)
    with pytest.raises(ValueError, match="same length"):
        data.iterate_minibatches(X, y[:9], 4, shuffle=False)


# --------------------------------------------------------------------------- standardize

def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 3.0, size=(200, 3))
    Z_train, Z_val = data.standardize(X_train, X_train + 3.0 * X_train.std(axis=0))
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z_train.std(axis=0), 1.0)
    np.testing.assert_allclose(Z_val, Z_train + 3.0)  # shifted by 3 training stds, not re-centred
    np.testing.assert_array_equal(data.standardize(X_train), Z_train)  # single array, no tuple


def test_standardize_constant_feature_gives_zeros_not_nan():
    X = np.column_stack([np.full(5, 0.1), np.arange(5.0)])
    Z = data.standardize(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z[:, 0], 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="feature shape"):
        data.standardize(X, np.zeros((2, 3)))


# --------------------------------------------------------------------------- augmentation

IMG = np.arange(1.0, 10.0).reshape(1, 3, 3)  # [[1 2 3] [4 5 6] [7 8 9]]


@pytest.mark.parametrize("dy, dx, expected", [
    (1, 0, [[0, 0, 0], [1, 2, 3], [4, 5, 6]]),     # down: the top row is blank
    (0, -1, [[2, 3, 0], [5, 6, 0], [8, 9, 0]]),    # left: nothing wraps around
    (-1, 1, [[0, 4, 5], [0, 7, 8], [0, 0, 0]]),    # up and right
    (0, 0, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    (3, 0, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),     # out of the frame altogether
])
def test_shift_images_moves_and_fills_with_zero(dy, dx, expected):
    np.testing.assert_array_equal(data.shift_images(IMG, dy, dx)[0], expected)


def test_shift_images_takes_flat_rows_and_one_shift_per_image():
    X = np.stack([IMG[0], 10 * IMG[0]]).reshape(2, 9)
    out = data.shift_images(X, np.array([1, 0]), np.array([0, -1]), image_shape=(3, 3))
    assert out.shape == (2, 9) and out.dtype == np.float64
    np.testing.assert_array_equal(out[0].reshape(3, 3), data.shift_images(IMG, 1, 0)[0])
    np.testing.assert_array_equal(out[1].reshape(3, 3), 10 * data.shift_images(IMG, 0, -1)[0])
    digits = data.load_digits()[0][:5]
    back = data.shift_images(data.shift_images(digits, 0, 1), 0, -1)
    # shifting right then left loses only the column that left the frame (blank in digits)
    np.testing.assert_array_equal(back.reshape(5, 8, 8)[:, :, :7], digits.reshape(5, 8, 8)[:, :, :7])


def test_shift_images_errors():
    with pytest.raises(TypeError, match="whole pixels"):
        data.shift_images(IMG, 0.5, 0)
    with pytest.raises(ValueError, match="one per image"):
        data.shift_images(IMG, np.array([1, 0]), 0)
    with pytest.raises(ValueError, match="image_shape"):
        data.shift_images(np.zeros((2, 10)), 1, 1, image_shape=(3, 3))


def test_random_shift_draws_every_shift_up_to_max_and_keeps_the_ink():
    X = np.zeros((900, 5, 5))
    X[:, 2, 2] = 1.0                                  # one dot in the middle of each image
    out = data.random_shift(X, max_shift=1, seed=0)
    rows, cols = np.nonzero(out.sum(axis=0))
    assert set(zip(rows.tolist(), cols.tolist())) == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}
    np.testing.assert_array_equal(out.sum(axis=(1, 2)), 1.0)  # moved, never lost
    counts = out.sum(axis=0)[1:4, 1:4]
    assert counts.min() > 70 and counts.max() < 130       # about 100 of each of the 9 shifts
    np.testing.assert_array_equal(out, data.random_shift(X, 1, seed=0))
    assert not np.array_equal(out, data.random_shift(X, 1, seed=1))
    np.testing.assert_array_equal(data.random_shift(X, 0, seed=0), X)
    rng = np.random.default_rng(0)
    assert not np.array_equal(data.random_shift(X, 1, rng=rng), data.random_shift(X, 1, rng=rng))


# --------------------------------------------------------------------------- digits

def test_digits_shapes_dtypes_and_ranges():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    counts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    np.testing.assert_array_equal(np.bincount(y), counts)


def test_digits_known_values_match_scikit_learn_copy():
    X, y = data.load_digits()
    np.testing.assert_array_equal(y[:10], np.arange(10))
    assert X.sum() == 561718.0
    # Checksums recorded in DIGITS_LICENSE.txt when the file was made from scikit-learn 1.9.1.
    x_sha = hashlib.sha256(np.ascontiguousarray(X, dtype="<f8").tobytes()).hexdigest()
    y_sha = hashlib.sha256(np.ascontiguousarray(y, dtype="<i8").tobytes()).hexdigest()
    assert x_sha == "20def7f70a702f0af9732fbba4375e147a7d54fe70d8c45569b8e7c1c7010c10"
    assert y_sha == "a3c91c262eddcf7ba8f0e37507c30284493c9b20412ffe4af30d536401f7ba21"
    license_text = (resources.files("backproplab") / "datasets" / "DIGITS_LICENSE.txt").read_text()
    assert x_sha in license_text and y_sha in license_text and "CC BY 4.0" in license_text


def test_digits_images_and_fresh_copies():
    X, y, images = data.load_digits(return_images=True)
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    X[:] = -1.0  # a caller's in-place edit must not leak into the next load
    assert data.load_digits()[0].min() == 0


# --------------------------------------------------------------------------- sequences

def test_memory_task_is_one_hot_and_labelled_by_the_first_symbol():
    X, y = data.make_memory_task(n_samples=200, gap=7, n_symbols=3, seed=4)
    assert X.shape == (200, 8, 3) and X.dtype == np.float64
    assert y.shape == (200,) and y.dtype == np.int64
    np.testing.assert_array_equal(X.sum(axis=2), 1.0)          # one symbol per step
    np.testing.assert_array_equal(y, X[:, 0].argmax(axis=1))   # the label is the first one
    symbols = X.argmax(axis=2)
    assert set(np.unique(symbols)) == {0, 1, 2}
    # the distractors carry no information about the label
    assert not np.all(symbols[:, 1:] == y[:, None])
    X2, y2 = data.make_memory_task(n_samples=200, gap=7, n_symbols=3, seed=4)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(data.make_memory_task(200, 7, 3, seed=5)[1], y)


def test_memory_task_longer_than_the_gap_labels_the_symbol_gap_steps_before_the_end():
    X, y = data.make_memory_task(n_samples=300, gap=2, n_symbols=4, seed=3, length=50)
    assert X.shape == (300, 50, 4)
    np.testing.assert_array_equal(y, X[:, 47].argmax(axis=1))
    assert np.mean(y == X[:, 0].argmax(axis=1)) < 0.5  # not the first symbol any more
    # the default length is gap + 1, and giving it changes nothing
    for a, b in zip(data.make_memory_task(20, 7, 3, seed=4),
                    data.make_memory_task(20, 7, 3, seed=4, length=8)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        data.make_memory_task(gap=5, length=5)  # the labelled step would be before the start


def test_memory_task_gap_zero_and_bad_arguments():
    X, y = data.make_memory_task(n_samples=5, gap=0, seed=0)
    assert X.shape == (5, 1, 4)
    for kwargs, error in [({"gap": -1}, ValueError), ({"n_symbols": 1}, ValueError),
                          ({"n_samples": 0}, ValueError), ({"gap": 2.5}, TypeError)]:
        with pytest.raises(error):
            data.make_memory_task(**kwargs)
