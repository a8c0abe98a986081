"""The building blocks of lesson 06's experiments (backproplab/experiments/lesson06.py); the
claims themselves are asserted by tests/test_lesson_claims.py."""

import numpy as np
import pytest

import backproplab as bp
from backproplab.experiments import lesson06


def _linears(model):
    return [m for m in model.modules() if isinstance(m, bp.Linear)]


@pytest.mark.parametrize("settings", [{}, {"batchnorm": True}, {"residual": True},
                                      {"depth": 5}, {"init": "he_normal", "weight_scale": 1.5}])
def test_depth_counts_the_linear_layers(settings):
    depth = settings.get("depth", 20)
    model = lesson06.deep_mlp("relu", **settings)
    linears = _linears(model)
    assert len(linears) == depth
    assert (linears[0].in_features, linears[-1].out_features) == (2, 3)
    assert model(np.zeros((4, 2))).shape == (4, 3)


def test_batch_norm_networks_have_no_bias_where_the_normalisation_cancels_it():
    model = lesson06.deep_mlp("sigmoid", batchnorm=True)
    layers = list(model)
    for before, after in zip(layers, layers[1:]):
        if isinstance(before, bp.Linear):
            assert (before.b is None) == isinstance(after, bp.BatchNorm1d)
    assert sum(isinstance(m, bp.BatchNorm1d) for m in layers) == 18


def test_the_seed_fixes_the_weights_and_the_scale_multiplies_them():
    a, b = lesson06.deep_mlp("tanh", seed=3), lesson06.deep_mlp("tanh", seed=3)
    c = lesson06.deep_mlp("tanh", seed=4)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a[0].W.data, c[0].W.data)
    he = lesson06.deep_mlp("relu", init="he_normal", seed=1)
    big = lesson06.deep_mlp("relu", init="he_normal", weight_scale=1.5, seed=1)
    for small, large in zip(_linears(he), _linears(big)):
        np.testing.assert_allclose(large.W.data, 1.5 * small.W.data, rtol=1e-15)


def test_distinct_columns_counts_the_different_units():
    W = np.tile(np.array([[0.5], [-1.0], [2.0]]), (1, 6))    # six copies of one unit
    assert lesson06._distinct_columns(W) == 1
    W[:, 4] += 1e-6                                         # far above the tolerance
    assert lesson06._distinct_columns(W) == 2
    W[:, 2] += 1e-14                                        # rounding-sized: the same unit
    assert lesson06._distinct_columns(W) == 2


def test_largest_rise_measures_how_far_the_loss_climbs_back():
    assert lesson06._largest_rise([3.0, 2.0, 1.0]) == 0.0
    assert lesson06._largest_rise([3.0, 1.0, 1.5, 0.5, 0.9]) == pytest.approx(0.5)
