"""Tests for backproplab.layers: forward values, backward vs finite differences, module
plumbing (parameters, modes, state) and the errors bad input gets."""

import warnings

import numpy as np
import pytest

from backproplab.gradcheck import numerical_gradient

from backproplab import (BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Residual, Sequential,
                         ShapeError, Sigmoid, Tanh)


def rng(seed=0):
    return np.random.default_rng(seed)


def set_linear(layer, W, b=None):
    layer.W.data[...] = W
    if b is not None:
        layer.b.data[...] = b
    return layer


# -------------------------------------------------------------------------- a tiny gradient checker

def numerical_grad(f, arr):
    """d f() / d arr by central differences (the library's checker; f reads ``arr``)."""
    return numerical_gradient(lambda _: f(), arr)


def assert_backward_matches_numeric(layer, x, seed=1, forward=None):
    """Check dL/dx and every dL/dparam for L = sum(layer(x) * R), R random."""
    forward = forward or layer.forward
    R = rng(seed).normal(size=forward(x).shape)
    layer.zero_grad()
    forward(x)
    dx = layer.backward(R.copy())
    analytic = {name: p.grad.copy() for name, p in layer.named_parameters()}

    def loss():
        return float(np.sum(forward(x) * R))

    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-5, atol=1e-7)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(analytic[name], numerical_grad(loss, p.data),
                                   rtol=1e-5, atol=1e-7, err_msg=f"gradient of {name}")


# ----------------------------------------------------------------------------------- forward values

def test_linear_forward_is_x_at_W_plus_b():
    layer = set_linear(Linear(3, 2), W=[[1, 2], [3, 4], [5, 6]], b=[0.5, -1.0])
    x = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    # row 0: [1-5, 2-6] + b; row 1: [2+3, 4+4] + b
    np.testing.assert_array_equal(layer(x), [[-3.5, -5.0], [5.5, 7.0]])
    assert layer.W.shape == (3, 2) and layer.b.shape == (2,)


def test_linear_without_bias():
    layer = set_linear(Linear(2, 1, bias=False), W=[[2.0], [-1.0]])
    assert layer.b is None
    np.testing.assert_array_equal(layer(np.array([[3.0, 4.0]])), [[2.0]])
    assert [name for name, _ in layer.named_parameters()] == ["W"]


def test_activation_known_values():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU(0.1)(x), [[-0.2, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU()(x), [[-0.02, 0.0, 3.0]])  # default slope 0.01
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4
    np.testing.assert_allclose(Sigmoid()(np.log([[1.0, 3.0, 1 / 3]])), [[0.5, 0.75, 0.25]])
    # tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6
    np.testing.assert_allclose(Tanh()(np.array([[0.0, np.log(2), -np.log(2)]])),
                               [[0.0, 0.6, -0.6]])


def test_sigmoid_and_tanh_layers_saturate_without_warnings():
    x = np.array([[-1000.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. no "overflow encountered in exp"
        s, t = Sigmoid()(x), Tanh()(x)
    np.testing.assert_array_equal(s, [[0.0, 1.0]])
    np.testing.assert_array_equal(t, [[-1.0, 1.0]])


# -- Dropout

def test_dropout_p_is_the_drop_probability_with_inverted_scaling():
    p = 0.25
    layer = Dropout(p, rng=rng(0))
    x = np.full((400, 500), 2.0)
    out = layer(x)
    dropped = out == 0
    assert dropped.mean() == pytest.approx(p, abs=0.005)  # p is the chance of dropping
    np.testing.assert_allclose(out[~dropped], 2.0 / (1 - p))  # survivors scaled by 1/(1-p)
    assert out.mean() == pytest.approx(2.0, rel=0.01)  # so the mean is preserved


def test_dropout_backward_uses_the_same_mask():
    layer = Dropout(0.5, rng=rng(1))
    x = rng(2).normal(size=(6, 7))
    out = layer(x)
    g = rng(3).normal(size=x.shape)
    dx = layer.backward(g)
    kept = out != 0
    np.testing.assert_allclose(dx[kept], g[kept] * 2.0)
    np.testing.assert_array_equal(dx[~kept], 0.0)


def test_dropout_is_identity_in_eval_and_for_p0():
    x = rng(0).normal(size=(5, 4))
    layer = Dropout(0.9, rng=rng(0)).eval()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    np.testing.assert_array_equal(Dropout(0.0, rng=rng(0))(x), x)  # training, p = 0


def test_dropout_p1_drops_everything():
    x = rng(0).normal(size=(5, 4))
    layer = Dropout(1.0, rng=rng(0))
    out = layer(x)
    np.testing.assert_array_equal(out, 0.0)
    assert np.isfinite(out).all()  # no 1/(1-p) = inf
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), 0.0)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError):
        Dropout(p)


def test_dropout_with_same_rng_seed_is_reproducible():
    x = np.ones((10, 10))
    np.testing.assert_array_equal(Dropout(0.5, rng=rng(7))(x), Dropout(0.5, rng=rng(7))(x))


# -- BatchNorm1d

BN_X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [7.0, 14.0]])
# column means 4 and 8; biased variances 20/4 = 5 and 80/4 = 20; unbiased 20/3 and 80/3


def test_batchnorm_train_output_is_standardised():
    bn = BatchNorm1d(2)
    assert (bn.eps, bn.momentum) == (1e-5, 0.1)
    out = bn(BN_X)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # biased variance of the output is var / (var + eps), just below 1
    np.testing.assert_allclose(out.var(axis=0), [5 / (5 + 1e-5), 20 / (20 + 1e-5)], rtol=1e-12)
    np.testing.assert_allclose(out[:, 0], (BN_X[:, 0] - 4) / np.sqrt(5 + 1e-5))


def test_batchnorm_running_stats_after_one_step():
    bn = BatchNorm1d(2)
    bn(BN_X)
    # running = 0.9 * initial + 0.1 * batch statistic; running_var uses the unbiased variance
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 4, 0.9 * 0 + 0.1 * 8])
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 20 / 3, 0.9 * 1 + 0.1 * 80 / 3])


def test_batchnorm_gamma_beta_scale_and_shift():
    bn = BatchNorm1d(2)
    bn.gamma.data[...] = [2.0, -1.0]
    bn.beta.data[...] = [0.5, 3.0]
    out = bn(BN_X)
    np.testing.assert_allclose(out.mean(axis=0), [0.5, 3.0], atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), [2.0, 1.0], rtol=1e-5)


def test_batchnorm_eval_uses_running_stats():
    bn = BatchNorm1d(2)
    bn(BN_X)
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    bn.eval()
    x = np.array([[0.0, 1.0], [2.0, -3.0], [1.0, 1.0]])
    np.testing.assert_allclose(bn(x), (x - rm) / np.sqrt(rv + 1e-5))
    np.testing.assert_array_equal(bn.running_mean, rm)  # eval does not update the stats
    np.testing.assert_array_equal(bn.running_var, rv)
    np.testing.assert_allclose(bn(x[:1]), (x[:1] - rm) / np.sqrt(rv + 1e-5))  # 1 sample is fine


def test_batchnorm_one_sample_in_training_raises():
    with pytest.raises(ValueError, match="BatchNorm1d"):
        BatchNorm1d(3)(np.ones((1, 3)))


# -- Residual and Sequential

def test_residual_adds_the_input():
    block = set_linear(Linear(2, 2), W=[[1.0, 0.0], [2.0, -1.0]], b=[0.0, 1.0])
    x = np.array([[1.0, 1.0], [0.0, 2.0]])
    # block(x) = [[3, 0], [4, -1]]; out = x + block(x)
    np.testing.assert_array_equal(Residual(block)(x), [[4.0, 1.0], [4.0, 1.0]])


def test_residual_rejects_a_block_that_changes_the_shape():
    with pytest.raises(ShapeError, match="Residual"):
        Residual(Linear(2, 3))(np.ones((4, 2)))


def test_sequential_indexing_slicing_len_iteration():
    layers = [Linear(2, 3, rng=rng()), ReLU(), Linear(3, 1, rng=rng())]
    model = Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[:2]
    assert isinstance(head, Sequential) and len(head) == 2
    assert head[0] is layers[0] and head[1] is layers[1]  # the same layers, not copies
    assert list(model) == layers
    x = rng(1).normal(size=(4, 2))
    np.testing.assert_array_equal(model(x), layers[2](layers[1](layers[0](x))))
    np.testing.assert_array_equal(head(x), layers[1](layers[0](x)))


def test_sequential_repr_text():
    model = Sequential(Linear(2, 3), ReLU(), Residual(Sequential(Linear(3, 3), Tanh())),
                       Dropout(0.2), BatchNorm1d(3), LeakyReLU(0.1))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Residual(\n"
        "    (block): Sequential(\n"
        "      (0): Linear(in_features=3, out_features=3, bias=True)\n"
        "      (1): Tanh()\n"
        "    )\n"
        "  )\n"
        "  (3): Dropout(p=0.2)\n"
        "  (4): BatchNorm1d(3, eps=1e-05, momentum=0.1)\n"
        "  (5): LeakyReLU(negative_slope=0.1)\n"
        ")"
    )


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError):
        Sequential(Linear(2, 2), np.tanh)


# ------------------------------------------------------------------- backward vs finite differences

@pytest.mark.parametrize("make_layer", [
    lambda: Linear(3, 4, rng=rng(5)),
    lambda: Linear(3, 4, bias=False, rng=rng(5)),
    lambda: ReLU(),
    lambda: LeakyReLU(0.1),
    lambda: Sigmoid(),
    lambda: Tanh(),
    lambda: Residual(Sequential(Linear(3, 3, rng=rng(6)), Tanh())),
    lambda: Sequential(Linear(3, 5, rng=rng(7)), Tanh(), Linear(5, 2, rng=rng(8)), Sigmoid()),
], ids=["Linear", "Linear-nobias", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Residual",
        "Sequential"])
def test_layer_backward_matches_numerical_gradient(make_layer):
    x = rng(0).normal(size=(5, 3))  # no entry within 1e-6 of the ReLU kink
    assert np.abs(x).min() > 1e-3
    assert_backward_matches_numeric(make_layer(), x)


def test_batchnorm_train_backward_matches_numerical_gradient():
    bn = BatchNorm1d(3)
    bn.gamma.data[...] = [1.5, -0.5, 2.0]
    bn.beta.data[...] = [0.1, 0.2, -0.3]
    x = rng(0).normal(loc=1.0, scale=2.0, size=(6, 3))
    assert_backward_matches_numeric(bn, x)


def test_batchnorm_eval_backward_matches_numerical_gradient():
    bn = BatchNorm1d(3)
    for seed in range(3):  # move the running statistics away from (0, 1)
        bn(rng(seed).normal(loc=2.0, scale=3.0, size=(8, 3)))
    bn.gamma.data[...] = [1.5, -0.5, 2.0]
    bn.eval()
    assert_backward_matches_numeric(bn, rng(9).normal(size=(4, 3)))


def test_dropout_backward_matches_numerical_gradient_for_a_fixed_mask():
    layer = Dropout(0.4)

    def forward(x):  # the same mask every call: reseed the layer's generator
        layer.rng = rng(11)
        return Dropout.forward(layer, x)

    assert_backward_matches_numeric(layer, rng(0).normal(size=(5, 6)), forward=forward)


def test_model_with_every_layer_matches_numerical_gradient():
    model = Sequential(Linear(3, 6, rng=rng(1)), BatchNorm1d(6), LeakyReLU(0.2),
                       Residual(Sequential(Linear(6, 6, rng=rng(2)), Tanh())),
                       Linear(6, 2, rng=rng(3)), Sigmoid())
    assert_backward_matches_numeric(model, rng(0).normal(size=(7, 3)))


# -------------------------------------------------------------- gradients: accumulation, input_grad

def make_mlp():
    return Sequential(Linear(2, 3, rng=rng(1)), ReLU(), Linear(3, 2, rng=rng(2)))


def test_parameter_grad_is_none_before_backward():
    for p in make_mlp().parameters():
        assert p.grad is None


def test_two_backward_passes_without_zero_grad_double_the_grads():
    model = make_mlp()
    x, g = rng(3).normal(size=(4, 2)), rng(4).normal(size=(4, 2))
    model(x)
    model.backward(g)
    once = [p.grad.copy() for p in model.parameters()]
    model(x)
    model.backward(g)
    for p, g1 in zip(model.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g1, rtol=1e-15)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_input_grad_false_returns_none_but_fills_parameter_grads():
    x, g = rng(3).normal(size=(4, 2)), rng(4).normal(size=(4, 2))
    reference = make_mlp()
    reference(x)
    reference.backward(g)
    for make in (make_mlp, lambda: Linear(2, 2, rng=rng(1))):
        model = make()
        model(x)
        assert model.backward(g, input_grad=False) is None
        assert all(p.grad is not None for p in model.parameters())
    # the Sequential's grads are the same as with input_grad=True
    model = make_mlp()
    model(x)
    model.backward(g, input_grad=False)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


# ---------------------------------------------------------------------------------- module plumbing

def test_parameters_and_named_parameters():
    model = Sequential(Linear(2, 3), ReLU(), BatchNorm1d(3),
                       Residual(Sequential(Linear(3, 3), Tanh())), Linear(3, 1, bias=False))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "2.gamma", "2.beta", "3.block.0.W", "3.block.0.b", "4.W"]
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert model.parameters()[0] is model[0].W
    assert [p.name for p in model.parameters()] == ["W", "b", "gamma", "beta", "W", "b", "W"]


def test_train_and_eval_propagate_to_children():
    model = Sequential(Linear(2, 3), Dropout(0.5), Residual(Sequential(BatchNorm1d(3))))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert len(list(model.modules())) == 6
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not any(m.training for m in model.modules())


def make_bn_model(seed):
    return Sequential(Linear(3, 4, rng=rng(seed)), BatchNorm1d(4), ReLU(),
                      Linear(4, 2, rng=rng(seed + 1)))


def test_state_dict_round_trip_includes_batchnorm_buffers():
    model = make_bn_model(0)
    model(rng(5).normal(size=(8, 3)))  # update running statistics
    state = model.state_dict()
    assert set(state) == {"0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
                          "3.W", "3.b"}
    np.testing.assert_array_equal(state["1.running_mean"], model[1].running_mean)
    other = make_bn_model(10)
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    x = rng(6).normal(size=(5, 3))
    np.testing.assert_array_equal(other.eval()(x), model.eval()(x))


def test_state_dict_is_a_copy():
    model = make_bn_model(0)
    state = model.state_dict()
    before = state["0.W"].copy()
    model[0].W.data += 1.0
    np.testing.assert_array_equal(state["0.W"], before)


def test_load_state_dict_shape_mismatch_and_missing_keys():
    model = make_bn_model(0)
    state = model.state_dict()
    bad = dict(state, **{"0.W": np.zeros((4, 3))})
    with pytest.raises(ShapeError, match="0.W"):
        model.load_state_dict(bad)
    missing = {k: v for k, v in state.items() if k != "1.running_var"}
    with pytest.raises(KeyError, match="1.running_var"):
        model.load_state_dict(missing)


def test_to_float32_casts_parameters_buffers_and_output():
    model = make_bn_model(0)
    assert model.to(np.float32) is model
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float32
    assert model[1].running_var.dtype == np.float32
    x = rng(1).normal(size=(6, 3)).astype(np.float32)
    out = model(x)
    assert out.dtype == np.float32
    model.backward(np.ones_like(out))
    model.eval()
    assert model(x).dtype == np.float32


def test_linear_float32_dtype_argument():
    layer = Linear(3, 2, dtype=np.float32, rng=rng())
    assert layer.W.data.dtype == np.float32 and layer.b.data.dtype == np.float32
    assert layer(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


# ---------------------------------------------------------------------------------------- bad input

def test_linear_wrong_feature_count_names_layer_and_shapes():
    with pytest.raises(ShapeError) as info:
        Linear(3, 4)(np.ones((5, 2)))
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "Linear" in msg and "(5, 2)" in msg and "3" in msg


def test_linear_wrong_ndim_raises_shape_error():
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        Linear(3, 4)(np.ones(3))


def test_shape_error_inside_sequential_names_the_layer_index():
    model = Sequential(ReLU(), Linear(3, 4))
    with pytest.raises(ShapeError) as info:
        model(np.ones((5, 2)))
    msg = str(info.value)
    assert "[1]" in msg and "Linear" in msg and "(5, 2)" in msg and "3" in msg


@pytest.mark.parametrize("layer", [Linear(2, 2), ReLU(), Sigmoid(), BatchNorm1d(2), Dropout(0.5),
                                   Residual(Linear(2, 2)), Sequential(Linear(2, 2))],
                         ids=lambda m: type(m).__name__)
def test_backward_before_forward_raises_runtime_error(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize("layer", [Linear(2, 3), ReLU(), Tanh(), BatchNorm1d(2), Dropout(0.5)],
                         ids=lambda m: type(m).__name__)
def test_wrong_grad_out_shape_raises_shape_error(layer):
    out = layer(rng(0).normal(size=(4, 2)))
    with pytest.raises(ShapeError):
        layer.backward(np.ones((out.shape[0] + 1, out.shape[1])))


def test_integer_input_is_converted_to_float64():
    layer = Linear(3, 2, rng=rng())
    x_int = np.array([[1, 2, 3], [-4, 0, 7]])
    out = layer(x_int)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, layer(x_int.astype(np.float64)))
    assert ReLU()(x_int).dtype == np.float64
    assert ReLU()(np.array([[True, False]])).dtype == np.float64


@pytest.mark.parametrize("bad", [np.array([["a", "b", "c"]]),
                                 np.array([[1.0, None, 2.0]], dtype=object),
                                 np.array([[1j, 2, 3]])],
                         ids=["str", "object", "complex"])
def test_non_numeric_input_raises_type_error(bad):
    with pytest.raises(TypeError):
        Linear(3, 2)(bad)
    with pytest.raises(TypeError):
        ReLU()(bad)


def test_empty_batch_passes_through_linear_and_relu():
    layer = Linear(3, 4, rng=rng())
    out = layer(np.zeros((0, 3)))
    assert out.shape == (0, 4)
    assert ReLU()(np.zeros((0, 3))).shape == (0, 3)
    dx = layer.backward(np.zeros((0, 4)))
    assert dx.shape == (0, 3)
    np.testing.assert_array_equal(layer.W.grad, np.zeros((3, 4)))  # no examples, no gradient


def test_linear_rejects_non_positive_sizes():
    with pytest.raises(ValueError):
        Linear(0, 3)
