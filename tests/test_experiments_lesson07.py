"""backproplab.experiments.lesson07 beyond its claims (tests/test_lesson_claims.py checks those):
its polynomial fit is the explorer's, and the lesson's claim groups are exactly CLAIMS."""

import numpy as np
import pytest

from backproplab.data import polynomial_features
from backproplab.experiments import lesson07
from backproplab.widgets.overfitting import fit_polynomial as explorers_fit


@pytest.mark.parametrize("l2", [0.0, 1e-3, 1.0])
@pytest.mark.parametrize("degree", [1, 3, 8, 15])
def test_fit_polynomial_is_the_explorers(degree, l2):
    x, y = lesson07.polynomial_data(seed=2)
    ours, theirs = lesson07.fit_polynomial(x, y, degree, l2), explorers_fit(x, y, degree, l2)
    features = polynomial_features(lesson07.X_POLY_VAL, degree)
    np.testing.assert_allclose(ours(features), theirs(features), rtol=1e-6, atol=1e-9)


def test_fit_polynomial_interpolates_when_it_can_and_shrinks_with_l2():
    x, y = lesson07.polynomial_data(seed=0)
    exact = lesson07.fit_polynomial(x, y, 19)               # 20 parameters, 20 points
    assert lesson07.mse(exact, x, y, 19) < 1e-8
    weights = [np.sum(lesson07.fit_polynomial(x, y, 15, l2).W.data ** 2) for l2 in (1e-3, 1.0)]
    assert weights[1] < weights[0]


def test_the_lessons_claim_groups_are_exactly_the_claims():
    groups = [value for name, value in vars(lesson07).items()
              if name.endswith("_CLAIMS") and isinstance(value, list)]
    grouped = [claim for group in groups for claim in group]
    assert sorted(map(id, grouped)) == sorted(map(id, lesson07.CLAIMS))  # each once


def test_cross_validation_mse_averages_the_held_out_folds():
    x, y = lesson07.polynomial_data(seed=0)
    by_hand = []
    for train, val in lesson07.kfold_split(20, 4, seed=5):
        model = lesson07.fit_polynomial(x[train], y[train], 3)
        by_hand.append(np.mean((model(polynomial_features(x[val], 3))[:, 0] - y[val]) ** 2))
    assert lesson07.cross_validation_mse(x, y, 3, n_folds=4, seed=5) == pytest.approx(
        np.mean(by_hand), rel=1e-12)
