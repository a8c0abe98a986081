"""Small datasets and the plumbing around them: splits, one-hot labels, minibatches, scaling.

The ``make_*`` generators follow scikit-learn's style: they return ``X`` (float64) and labels
``y`` (int64), and the same ``seed`` always gives the same arrays. Rows come grouped by class
(all of class 0 first); :func:`train_val_split` and :func:`iterate_minibatches` shuffle.

:func:`load_digits` reads the 8x8 handwritten digits shipped inside the package
(``backproplab/datasets/digits.npz``; source and license in ``DIGITS_LICENSE.txt``), so no
download and no scikit-learn are needed.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = [
    "make_spiral",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_memory_task",
    "make_polynomial",
    "true_function",
    "polynomial_features",
    "train_val_split",
    "train_val_test_split",
    "kfold_split",
    "one_hot",
    "iterate_minibatches",
    "standardize",
    "shift_images",
    "random_shift",
    "load_digits",
]


# --------------------------------------------------------------------------- input checks

def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_noise(noise):
    if not noise >= 0:  # written this way so NaN is rejected too
        raise ValueError(f"noise must be >= 0, got {noise}")


def _as_float(name, a):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {a.dtype}")
    return a.astype(np.float64)


def _even_counts(n, k):
    """Split n into k integer counts that differ by at most one (the first ones get the extra)."""
    return n // k + (np.arange(k) < n % k)


# --------------------------------------------------------------------------- classification

def make_spiral(n_samples=300, n_classes=3, noise=0.2, seed=0):
    """Interleaved spiral arms, one per class: the classic CS231n toy problem.

    Arm ``k`` has radii evenly spaced from 0 to 1 and angles from ``4k`` to ``4(k+1)`` radians,
    plus Gaussian angular noise. No straight line separates the classes, so a linear model
    fails where a small network succeeds.

    Parameters
    ----------
    n_samples : int
        Total number of points, split as evenly as possible between the classes
        (must be >= n_classes).
    n_classes : int
        Number of arms (classes), >= 1.
    noise : float
        Standard deviation of the angular noise, in radians (0.2 is the CS231n value).
    seed : int
        Seed for ``np.random.default_rng``: same seed, same data.

    Returns
    -------
    X : ndarray, shape (n_samples, 2), float64
        Points, all inside the disk of radius 1.
    y : ndarray, shape (n_samples,), int64
        Class labels 0..n_classes-1, grouped by class.
    """
    n_classes = _check_int("n_classes", n_classes, 1)
    n_samples = _check_int("n_samples", n_samples, n_classes)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, n_k in enumerate(_even_counts(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, n_k)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), n_k) + rng.normal(scale=noise, size=n_k)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_k, k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def make_moons(n_samples=200, noise=0.1, seed=0):
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``).

    Class 0 is the upper half of the unit circle centred at (0, 0); class 1 is the lower half
    of the unit circle centred at (1, 0.5).

    Parameters
    ----------
    n_samples : int
        Total number of points (>= 2); class 0 gets ``n_samples // 2``, class 1 the rest.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    X : ndarray, shape (n_samples, 2), float64
    y : ndarray, shape (n_samples,), int64
        Labels in {0, 1}, grouped by class.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_samples - n_upper)
    X = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])
    X += rng.normal(scale=noise, size=X.shape)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_upper, n_samples - n_upper])
    return X, y


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    """A small circle inside a large one (as ``sklearn.datasets.make_circles``).

    Parameters
    ----------
    n_samples : int
        Total number of points (>= 2); the outer circle gets ``n_samples // 2``.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate.
    factor : float
        Radius of the inner circle, relative to the outer one (radius 1); 0 <= factor < 1.
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    X : ndarray, shape (n_samples, 2), float64
    y : ndarray, shape (n_samples,), int64
        0 for the outer circle, 1 for the inner one, grouped by class.
    """
    n_samples = _check_int("n_samples", n_samples, 2)
    _check_noise(noise)
    if not 0 <= factor < 1:
        raise ValueError(f"factor must be in [0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n_samples - n_outer, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
    ])
    X += rng.normal(scale=noise, size=X.shape)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_outer, n_samples - n_outer])
    return X, y


def make_xor(n_samples=200, noise=0.1, seed=0):
    """Four Gaussian blobs at (+-1, +-1), labelled by the XOR of the signs of their centres.

    Blobs at (1, 1) and (-1, -1) are class 0; blobs at (1, -1) and (-1, 1) are class 1. The
    label belongs to the blob, so with large noise a point can stray into another quadrant.

    Parameters
    ----------
    n_samples : int
        Total number of points (>= 4), split as evenly as possible between the four blobs.
    noise : float
        Standard deviation of each blob.
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    X : ndarray, shape (n_samples, 2), float64
    y : ndarray, shape (n_samples,), int64
        Labels in {0, 1}, grouped by class.
    """
    n_samples = _check_int("n_samples", n_samples, 4)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    centers = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    counts = _even_counts(n_samples, 4)
    X = np.repeat(centers, counts, axis=0) + rng.normal(scale=noise, size=(n_samples, 2))
    y = np.repeat(np.array([0, 0, 1, 1], dtype=np.int64), counts)
    return X, y


# --------------------------------------------------------------------------- sequences

def make_memory_task(n_samples=1000, gap=10, n_symbols=4, seed=0, length=None):
    """Sequences whose label is the symbol seen ``gap`` steps before the end (by default
    their first symbol).

    Each sequence has ``length`` steps (default ``gap + 1``), and every step shows one of
    ``n_symbols`` symbols, drawn uniformly at random, as a one-hot vector. The label is the
    symbol of step ``length - 1 - gap``; by default the *first* step: a recurrent network
    that reads the whole sequence and answers at the end must carry it across ``gap`` steps
    of distracting symbols (Bengio, Simard and Frasconi 1994 studied tasks of this kind).
    A longer ``length`` adds steps before it: little to remember, but backpropagation runs
    through all of them. Chance accuracy is ``1 / n_symbols``.

    Parameters
    ----------
    n_samples : int
        Number of sequences N (>= 1).
    gap : int
        Steps after the first one (>= 0); the sequences have T = gap + 1 steps.
    n_symbols : int
        Size of the alphabet (>= 2), also the number of classes.
    seed : int
        Seed for ``np.random.default_rng``.
    length : int, optional
        Steps T of each sequence (>= gap + 1); default ``gap + 1``.

    Returns
    -------
    X : ndarray, shape (n_samples, T, n_symbols), float64
        One-hot symbols, batch first: ``X[n, t]`` is step t of sequence n.
    y : ndarray, shape (n_samples,), int64
        The symbol ``gap`` steps before the end, ``X[:, T - 1 - gap].argmax(axis=1)``.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    gap = _check_int("gap", gap, 0)
    n_symbols = _check_int("n_symbols", n_symbols, 2)
    length = gap + 1 if length is None else _check_int("length", length, gap + 1)
    symbols = np.random.default_rng(seed).integers(0, n_symbols, size=(n_samples, length))
    X = one_hot(symbols.ravel(), n_symbols).reshape(n_samples, length, n_symbols)
    return X, symbols[:, length - 1 - gap].astype(np.int64)


# --------------------------------------------------------------------------- regression

def _coefficients(degree, coef):
    degree = _check_int("degree", degree, 1)
    if coef is None:
        # Chebyshev polynomial T_degree: degree-1 bumps, all between -1 and 1 on [-1, 1].
        return np.polynomial.chebyshev.cheb2poly([0.0] * degree + [1.0])
    coef = _as_float("coef", coef)
    if coef.shape != (degree + 1,):
        raise ValueError(
            f"coef must hold degree + 1 = {degree + 1} numbers (constant term first), "
            f"got shape {coef.shape}"
        )
    return coef


def true_function(x, degree=3, coef=None):
    """The noiseless curve behind :func:`make_polynomial`, to draw next to a model's fit.

    Parameters
    ----------
    x : array_like, any shape
        Inputs.
    degree : int
        Degree of the polynomial, >= 1.
    coef : array_like, shape (degree + 1,), optional
        Coefficients in increasing powers: ``coef[0] + coef[1] x + ... + coef[degree] x**degree``.
        Default: the Chebyshev polynomial of that degree (for degree 3, ``4x^3 - 3x``).

    Returns
    -------
    ndarray, same shape as x, float64
    """
    return np.polynomial.polynomial.polyval(_as_float("x", x), _coefficients(degree, coef))


def make_polynomial(n_samples=30, degree=3, noise=0.3, x_range=(-1, 1), coef=None, seed=0):
    """Noisy samples of a polynomial: a small regression set on which big models overfit.

    ``y = true_function(x, degree, coef) + noise * N(0, 1)`` with ``x`` uniform in ``x_range``.

    Parameters
    ----------
    n_samples : int
        Number of points, >= 1.
    degree : int
        Degree of the true polynomial, >= 1.
    noise : float
        Standard deviation of the Gaussian noise added to y.
    x_range : (float, float)
        Interval ``(low, high)`` the inputs are drawn from.
    coef : array_like, shape (degree + 1,), optional
        Coefficients, constant term first; see :func:`true_function` for the default.
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    x : ndarray, shape (n_samples, 1), float64
        Inputs, sorted in increasing order (so ``plt.plot(x, ...)`` draws a clean line).
    y : ndarray, shape (n_samples,), float64
        Noisy targets.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    _check_noise(noise)
    low, high = x_range
    if not low < high:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
    coef = _coefficients(degree, coef)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=n_samples))
    y = np.polynomial.polynomial.polyval(x, coef) + rng.normal(scale=noise, size=n_samples)
    return x[:, None], y


def polynomial_features(x, degree):
    """Powers of a single input, so a ``Linear`` layer can fit a polynomial.

    Parameters
    ----------
    x : array_like, shape (N,) or (N, 1)
        Inputs.
    degree : int
        Highest power, >= 1.

    Returns
    -------
    ndarray, shape (N, degree), float64
        Columns ``x, x**2, ..., x**degree``. No column of ones: the layer's bias plays that role.
    """
    degree = _check_int("degree", degree, 1)
    x = _as_float("x", x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"polynomial_features expects x of shape (N,) or (N, 1), got {x.shape}")
    return x[:, None] ** np.arange(1, degree + 1)


# --------------------------------------------------------------------------- splits

def _apportion(total, sizes):
    """Split ``total`` into integer parts proportional to ``sizes`` (largest remainder first)."""
    if total == 0:
        return np.zeros_like(sizes)
    quotas = total * sizes / sizes.sum()
    parts = np.floor(quotas).astype(np.int64)
    parts[np.argsort(parts - quotas, kind="stable")[: total - parts.sum()]] += 1
    return parts


def _split(X, y, val_fraction, test_fraction, seed, stratify):
    """Shuffled train / val / test indices; per class when stratifying."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 <= f < 1:
            raise ValueError(f"{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training data, "
            f"got {val_fraction} + {test_fraction}"
        )
    if stratify and y.ndim != 1:
        raise ValueError(f"stratify needs 1-D labels y, got shape {y.shape}")
    n = len(y)
    groups = np.unique(y, return_inverse=True)[1] if stratify else np.zeros(n, dtype=np.int64)
    sizes = np.bincount(groups, minlength=1)
    n_val, n_test = round(val_fraction * n), round(test_fraction * n)
    # Exact totals overall, split between classes in proportion to their sizes.
    n_held_k = _apportion(n_val + n_test, sizes)
    n_val_k = _apportion(n_val, n_held_k)
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for k in range(len(sizes)):
        idx = rng.permutation(np.flatnonzero(groups == k))
        val.append(idx[: n_val_k[k]])
        test.append(idx[n_val_k[k] : n_held_k[k]])
        train.append(idx[n_held_k[k] :])
    # Concatenating per class groups the rows by class again: shuffle each part once more.
    train, val, test = (rng.permutation(np.concatenate(p)) for p in (train, val, test))
    return X, y, train, val, test


def train_val_split(X, y, val_fraction=0.2, seed=0, stratify=False):
    """Shuffle and split into a training and a validation set (scikit-learn's output order).

    Parameters
    ----------
    X : array_like, shape (N, ...)
        Inputs.
    y : array_like, shape (N, ...)
        Targets (1-D class labels if ``stratify``).
    val_fraction : float
        Fraction of the samples in the validation set, in [0, 1); the count is
        ``round(val_fraction * N)``.
    seed : int
        Seed for ``np.random.default_rng``.
    stratify : bool
        If True, each class keeps (up to rounding) the same proportion in both sets.

    Returns
    -------
    X_train : ndarray, shape (N - n_val, ...)
    X_val : ndarray, shape (n_val, ...)
    y_train : ndarray, shape (N - n_val, ...)
    y_val : ndarray, shape (n_val, ...)
        Dtypes are those of the inputs.
    """
    X, y, train, val, _ = _split(X, y, val_fraction, 0.0, seed, stratify)
    return X[train], X[val], y[train], y[val]


def train_val_test_split(X, y, val_fraction=0.15, test_fraction=0.15, seed=0, stratify=False):
    """Shuffle and split into training, validation and test sets.

    Parameters
    ----------
    X : array_like, shape (N, ...)
        Inputs.
    y : array_like, shape (N, ...)
        Targets (1-D class labels if ``stratify``).
    val_fraction, test_fraction : float
        Fractions of the samples in the validation and test sets, each in [0, 1) and summing
        to less than 1; the counts are ``round(fraction * N)``.
    seed : int
        Seed for ``np.random.default_rng``.
    stratify : bool
        If True, each class keeps (up to rounding) the same proportion in all three sets.

    Returns
    -------
    X_train, X_val, X_test : ndarray, shapes (n_train, ...), (n_val, ...), (n_test, ...)
    y_train, y_val, y_test : ndarray, shapes (n_train, ...), (n_val, ...), (n_test, ...)
    """
    X, y, train, val, test = _split(X, y, val_fraction, test_fraction, seed, stratify)
    return X[train], X[val], X[test], y[train], y[val], y[test]


def kfold_split(n_samples, n_folds=5, seed=0, shuffle=True):
    """Indices for k-fold cross-validation: every sample is validated on exactly once.

    The samples are shuffled (unless ``shuffle=False``) and cut into ``n_folds`` folds whose
    sizes differ by at most one (the first ``n_samples % n_folds`` folds get one more, as in
    scikit-learn's ``KFold``). Round ``i`` validates on fold ``i`` and trains on all the others.
    Shuffle unless the rows are already in random order: the ``make_*`` sets come sorted (by
    class, or by x), and unshuffled folds would then each miss part of the data.

    Parameters
    ----------
    n_samples : int
        Number of samples N, >= n_folds.
    n_folds : int
        Number of folds k, >= 2.
    seed : int
        Seed for ``np.random.default_rng`` (the shuffle).
    shuffle : bool
        Shuffle before cutting (else fold 0 is the first rows, and so on).

    Returns
    -------
    list of n_folds pairs (train_idx, val_idx)
        Integer index arrays, each sorted; ``val_idx`` has ``N // k`` or ``N // k + 1``
        entries and ``train_idx`` holds every other index.
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_folds = _check_int("n_folds", n_folds, 2)
    if n_folds > n_samples:
        raise ValueError(f"n_folds = {n_folds} folds need at least as many samples, "
                         f"got n_samples = {n_samples}")
    order = np.random.default_rng(seed).permutation(n_samples) if shuffle else np.arange(n_samples)
    bounds = np.concatenate([[0], np.cumsum(_even_counts(n_samples, n_folds))])
    splits = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        held = np.zeros(n_samples, dtype=bool)
        held[order[start:stop]] = True
        splits.append((np.flatnonzero(~held), np.flatnonzero(held)))
    return splits


# --------------------------------------------------------------------------- labels and batches

def one_hot(y, n_classes=None):
    """Turn class labels into one-hot rows.

    Parameters
    ----------
    y : array_like, shape (N,)
        Integer labels in 0..n_classes-1 (floats are accepted if they are whole numbers).
    n_classes : int, optional
        Number of classes C. Default: ``max(y) + 1``.

    Returns
    -------
    ndarray, shape (N, C), float64
        ``out[i, y[i]] == 1`` and every other entry is 0.

    Raises
    ------
    TypeError
        If y is not numeric (or is boolean).
    ValueError
        If y is not 1-D, or holds a non-integer, negative or too-large label.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot expects a 1-D array of labels, got shape {y.shape}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"one_hot expects integer class labels, got {y[i]} at index {i}")
    elif y.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"class labels must be >= 0, got {y.min()} at index {int(np.argmin(y))}")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
    else:
        n_classes = _check_int("n_classes", n_classes, 1)
        if y.size and y.max() >= n_classes:
            raise ValueError(
                f"label {y.max()} at index {int(np.argmax(y))} is out of range for "
                f"n_classes={n_classes} (labels must be 0..{n_classes - 1})"
            )
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
    """Yield ``(X_batch, y_batch)`` pairs that cover the data once (one epoch).

    Call it once per epoch. With ``shuffle=True`` you must pass a generator: create it once,
    before the epoch loop, so every epoch sees a new order that is still reproducible::

        rng = np.random.default_rng(0)
        for epoch in range(10):
            for xb, yb in iterate_minibatches(X, y, 32, rng=rng):
                ...

    Parameters
    ----------
    X : array_like, shape (N, ...)
        Inputs.
    y : array_like, shape (N, ...)
        Targets.
    batch_size : int
        Samples per batch, >= 1. The last batch is smaller when N is not a multiple.
    shuffle : bool
        Visit the samples in a random order drawn from ``rng`` (else in their stored order).
    rng : numpy.random.Generator
        Required when ``shuffle`` is True; ignored otherwise.
    drop_last : bool
        Skip the last batch if it is smaller than ``batch_size``.

    Yields
    ------
    X_batch : ndarray, shape (B, ...)
    y_batch : ndarray, shape (B, ...)
        ``B == batch_size`` except possibly for the last batch. An empty dataset yields nothing.

    Raises
    ------
    ValueError
        If X and y differ in length, batch_size < 1, or shuffle is True and rng is None.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    batch_size = _check_int("batch_size", batch_size, 1)
    order = None
    if shuffle:
        if rng is None:
            # No hidden default: a fixed default seed would repeat the same order every epoch.
            raise ValueError(
                "iterate_minibatches(shuffle=True) needs rng=np.random.default_rng(seed), "
                "created once before the epoch loop (or pass shuffle=False)"
            )
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        order = rng.permutation(len(X))  # drawn now, so the checks above also run now
    return _batches(X, y, batch_size, order, drop_last)


def _batches(X, y, batch_size, order, drop_last):
    n = len(X)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = slice(start, start + batch_size) if order is None else order[start:start + batch_size]
        yield X[idx], y[idx]


def standardize(X_train, *others):
    """Scale every feature to mean 0 and standard deviation 1, using training statistics only.

    The mean and standard deviation come from ``X_train`` alone and are applied to the other
    arrays too, so validation and test data never leak into the preprocessing. A feature that
    is constant in ``X_train`` (e.g. a digits pixel that is always blank) is only centred.

    Parameters
    ----------
    X_train : array_like, shape (N, ...)
        Training inputs, N >= 1; statistics are taken over axis 0.
    *others : array_like, shape (M, ...)
        More arrays (validation, test) with the same feature shape as ``X_train``.

    Returns
    -------
    ndarray or tuple of ndarray, float64
        The standardized ``X_train`` alone if no others are given, else a tuple
        ``(X_train, *others)`` of standardized arrays, in the same order.
    """
    X_train = _as_float("X_train", X_train)
    if X_train.ndim == 0 or len(X_train) == 0:
        raise ValueError(f"X_train must have at least one sample, got shape {X_train.shape}")
    others = [_as_float(f"others[{i}]", a) for i, a in enumerate(others)]
    for i, a in enumerate(others):
        if a.shape[1:] != X_train.shape[1:]:
            raise ValueError(
                f"others[{i}] has feature shape {a.shape[1:]}, X_train has {X_train.shape[1:]}"
            )
    mean = X_train.mean(axis=0)
    # A constant feature has std 0 (or a rounding-error 1e-17): divide it by 1 instead.
    std = np.where(np.ptp(X_train, axis=0) == 0, 1.0, X_train.std(axis=0))
    scaled = tuple((a - mean) / std for a in (X_train, *others))
    return scaled if others else scaled[0]


# --------------------------------------------------------------------------- augmentation

def _as_images(X, image_shape):
    """X as a float (N, H, W) stack, from (N, H, W) or flattened (N, H*W) rows."""
    X = _as_float("X", X)
    if X.ndim == 3:
        return X
    if X.ndim == 2 and len(image_shape) == 2 and X.shape[1] == image_shape[0] * image_shape[1]:
        return X.reshape(len(X), *image_shape)
    raise ValueError(f"expected images of shape (N, H, W) or flattened rows (N, "
                     f"{int(np.prod(image_shape))}) for image_shape={tuple(image_shape)}, "
                     f"got shape {X.shape}")


def _as_shifts(name, shift, n):
    shift = np.asarray(shift)
    if shift.dtype.kind not in "iu":
        raise TypeError(f"{name} must be whole pixels (integers), got dtype {shift.dtype}")
    if shift.ndim > 1 or (shift.ndim == 1 and len(shift) != n):
        raise ValueError(f"{name} must be one integer or one per image ({n}), "
                         f"got shape {shift.shape}")
    return np.broadcast_to(shift, (n,)).astype(np.int64)


def shift_images(X, dy, dx, image_shape=(8, 8)):
    """Move images by whole pixels: down by ``dy`` and right by ``dx``, blank (0) filling in.

    ``out[n, i, j] = image[n, i - dy[n], j - dx[n]]`` where that pixel exists, else 0: what
    moves out of the frame is lost (nothing wraps around, unlike ``np.roll``). 0 is the
    background of the digits; standardize after shifting, not before.

    Parameters
    ----------
    X : array_like, shape (N, H, W) or (N, H*W)
        Images, or flattened rows of images of ``image_shape`` (as ``load_digits`` returns).
    dy, dx : int or array_like of int, shape (N,)
        Shift of every image, or one per image; negative moves up / left.
    image_shape : (int, int)
        (H, W) of flattened rows; ignored for (N, H, W) input.

    Returns
    -------
    ndarray, the shape of X, float64
    """
    images = _as_images(X, image_shape)
    n, h, w = images.shape
    rows = np.arange(h) - _as_shifts("dy", dy, n)[:, None]          # (N, H): source row
    cols = np.arange(w) - _as_shifts("dx", dx, n)[:, None]          # (N, W): source column
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    out = images[np.arange(n)[:, None, None], rows.clip(0, h - 1)[:, :, None],
                 cols.clip(0, w - 1)[:, None, :]]
    return np.where(inside, out, 0.0).reshape(np.shape(X))


def random_shift(X, max_shift=1, image_shape=(8, 8), rng=None, seed=0):
    """Data augmentation: every image moved by its own random whole-pixel shift.

    ``dy`` and ``dx`` are drawn independently for each image, uniform on
    ``-max_shift, ..., max_shift`` (so some images stay put), then :func:`shift_images`.
    Call it once per epoch with the same ``rng``, so that every epoch sees new shifts.

    Parameters
    ----------
    X : array_like, shape (N, H, W) or (N, H*W)
    max_shift : int
        Largest shift in pixels, >= 0, in each direction.
    image_shape : (int, int)
        (H, W) of flattened rows.
    rng : numpy.random.Generator, optional
        Takes precedence over ``seed``.
    seed : int
        Seed for ``np.random.default_rng`` when no ``rng`` is given.

    Returns
    -------
    ndarray, the shape of X, float64
    """
    max_shift = _check_int("max_shift", max_shift, 0)
    rng = np.random.default_rng(seed) if rng is None else rng
    n = len(_as_images(X, image_shape))
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    return shift_images(X, dy, dx, image_shape)


# --------------------------------------------------------------------------- shipped data

def load_digits(return_images=False):
    """The 8x8 handwritten digits: 1797 images of 0-9, each pixel an ink count 0..16.

    The test set of the UCI "Optical Recognition of Handwritten Digits" data (Alpaydin and
    Kaynak, 1998; CC BY 4.0), the same arrays as ``sklearn.datasets.load_digits``, read from
    ``backproplab/datasets/digits.npz``. See ``DIGITS_LICENSE.txt`` for source and citation.

    Parameters
    ----------
    return_images : bool
        Also return the pixels as 8x8 images.

    Returns
    -------
    X : ndarray, shape (1797, 64), float64
        One flattened image per row (row-major), values 0..16.
    y : ndarray, shape (1797,), int64
        Digit labels 0..9 (about 180 of each).
    images : ndarray, shape (1797, 8, 8), float64
        Only if ``return_images``: the same pixels as images (a separate copy).
    """
    source = resources.files("backproplab").joinpath("datasets").joinpath("digits.npz")
    with source.open("rb") as f, np.load(f) as archive:
        pixels, labels = archive["pixels"], archive["labels"]
    X = pixels.reshape(len(pixels), 64).astype(np.float64)
    y = labels.astype(np.int64)
    if return_images:
        return X, y, pixels.astype(np.float64)
    return X, y
