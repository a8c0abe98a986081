"""Tests for backproplab.train: fit, History, callbacks, early stopping, evaluate, accuracy,
and the refusal to train on NaN/inf."""

import math
import re
import warnings

import numpy as np
import pytest

import backproplab as bl
from backproplab import NonFiniteError
from backproplab.data import make_spiral
from backproplab.optim import SGD, Adam, StepLR
from backproplab.train import Callback, EarlyStopping, accuracy, evaluate, fit, update_bn


def rng(seed=0):
    return np.random.default_rng(seed)


def spiral_mlp(seed=0, hidden=100):
    r = rng(seed)
    return bl.Sequential(bl.Linear(2, hidden, init="he_normal", rng=r), bl.ReLU(),
                         bl.Linear(hidden, 3, rng=r))


def regression_data(n=40, seed=0):
    X = rng(seed).normal(size=(n, 2))
    return X, X @ np.array([[1.5], [-2.0]]) + 0.5


class Recorder(Callback):
    """Logs every hook as (hook, epoch, step), and snapshots val loss and weights per epoch."""

    def __init__(self, log=None, tag=""):
        self.log = [] if log is None else log
        self.tag = tag
        self.val_losses, self.states = [], []

    def _note(self, hook, state):
        self.log.append((self.tag + hook, state.epoch, state.step))

    def on_train_begin(self, state): self._note("train_begin", state)
    def on_epoch_begin(self, state): self._note("epoch_begin", state)
    def after_backward(self, state): self._note("after_backward", state)
    def on_batch_end(self, state): self._note("batch_end", state)
    def on_train_end(self, state): self._note("train_end", state)

    def on_epoch_end(self, state):
        self._note("epoch_end", state)
        self.val_losses.append(state.history.val_loss[-1] if state.history.val_loss else None)
        self.states.append(state.model.state_dict())


# ----------------------------------------------------------------------------------------- learning

def test_mlp_learns_the_spiral():
    X, y = make_spiral(300, 3)
    model = spiral_mlp()
    loss_fn = bl.CrossEntropyLoss()
    history = fit(model, loss_fn, Adam(model.parameters(), lr=0.01), (X, y), epochs=100,
                  batch_size=32, seed=0, progress=False)
    loss, acc = evaluate(model, loss_fn, X, y)
    assert acc >= 0.97  # a linear model gets about 1/2: the hidden layer does the work
    assert history.train_loss[-1] < history.train_loss[0] / 5
    assert not model.training  # fit leaves the model ready to predict


def test_fit_is_deterministic_bit_for_bit():
    X, y = make_spiral(120, 3, seed=1)

    def run():
        r = rng(3)
        model = bl.Sequential(bl.Linear(2, 16, rng=r), bl.BatchNorm1d(16), bl.ReLU(),
                              bl.Dropout(0.2, rng=rng(4)), bl.Linear(16, 3, rng=r))
        history = fit(model, bl.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9),
                      (X, y), epochs=5, batch_size=16, val_data=(X[:30], y[:30]), seed=7,
                      progress=False)
        return model, history

    (m1, h1), (m2, h2) = run(), run()
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert np.array_equal(a, b), k
    for field in ("train_loss", "val_loss", "train_acc", "val_acc", "batch_loss", "lr"):
        assert np.array_equal(getattr(h1, field), getattr(h2, field)), field
    assert h1.best_epoch == h2.best_epoch


def test_different_shuffle_seed_changes_the_run():
    X, y = regression_data()
    runs = []
    for seed in (0, 1):
        model = bl.Linear(2, 1, rng=rng(0))
        fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.05), (X, y), epochs=2,
            batch_size=8, seed=seed, progress=False)
        runs.append(model.W.data.copy())
    assert not np.array_equal(*runs)


# ------------------------------------------------------------------------------------------ History

def test_history_fields():
    X, y = make_spiral(90, 3)
    Xv, yv = make_spiral(30, 3, seed=5)
    model = spiral_mlp(hidden=8)
    h = fit(model, bl.CrossEntropyLoss(), SGD(model.parameters(), lr=0.05), (X, y), epochs=4,
            batch_size=32, val_data=(Xv, yv), progress=False)
    assert h.epochs == [1, 2, 3, 4]  # epochs count from 1
    for field in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
        assert len(getattr(h, field)) == 4, field
    assert len(h.batch_loss) == 4 * 3  # ceil(90 / 32) = 3 steps per epoch
    assert h.best_epoch == h.epochs[int(np.argmin(h.val_loss))]
    assert h.time > 0
    assert h.stopped_early is False and h.stop_reason == ""
    assert all(0.0 <= a <= 1.0 for a in h.train_acc + h.val_acc)
    assert h.lr == [0.05] * 4
    # the epoch's train loss is the size-weighted mean of its batch losses (32, 32, 26)
    w = np.array([32, 32, 26]) / 90
    assert h.train_loss[0] == pytest.approx(float(np.dot(h.batch_loss[:3], w)), rel=1e-12)
    # val loss is measured in eval mode after the epoch
    assert h.val_loss[-1] == pytest.approx(evaluate(model, bl.CrossEntropyLoss(), Xv, yv)[0])
    assert "4 epochs" in repr(h)


def test_history_without_validation_or_accuracy():
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    h = fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.05), (X, y), epochs=3,
            progress=False)
    assert h.val_loss == [] and h.train_acc == [] and h.val_acc == []  # regression: no accuracy
    assert h.best_epoch == h.epochs[int(np.argmin(h.train_loss))]


# ----------------------------------------------------------------------------------- early stopping

def early_stopping_run(patience, restore_best=True):
    # Train towards y = 2x from w = 0 but validate against y = x: the validation loss falls
    # while w < 1 and rises after, so there is a best epoch in the middle of training.
    r = rng(0)
    X, Xv = r.normal(size=(40, 1)), r.normal(size=(20, 1))
    model = bl.Linear(1, 1, bias=False, init="zeros")
    recorder = Recorder()
    stopper = EarlyStopping(patience=patience, restore_best=restore_best)
    h = fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.02), (X, 2 * X), epochs=200,
            batch_size=40, val_data=(Xv, Xv), callbacks=[recorder], early_stopping=stopper,
            progress=False)
    return model, h, recorder


@pytest.mark.parametrize("patience", [1, 3, 5])
def test_early_stopping_stops_after_patience_epochs_without_improvement(patience):
    model, h, rec = early_stopping_run(patience)
    best = int(np.argmin(rec.val_losses)) + 1  # first epoch with the lowest val loss
    assert 5 < best < 150  # the construction puts the best epoch mid-way
    assert h.epochs[-1] == best + patience  # exactly `patience` epochs without improvement
    assert h.stopped_early and "early stopping" in h.stop_reason
    assert h.best_epoch == best
    # the parameters are those of the best epoch, not of the last one
    np.testing.assert_array_equal(model.W.data, rec.states[best - 1]["W"])
    assert not np.array_equal(model.W.data, rec.states[-1]["W"])


def test_early_stopping_without_restore_keeps_last_parameters():
    model, h, rec = early_stopping_run(3, restore_best=False)
    np.testing.assert_array_equal(model.W.data, rec.states[-1]["W"])


def test_early_stopping_int_argument_and_validation():
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    # train loss keeps falling: no early stop within 5 epochs
    h = fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=5,
            early_stopping=2, progress=False)
    assert h.epochs == [1, 2, 3, 4, 5] and not h.stopped_early
    with pytest.raises(ValueError):
        EarlyStopping(patience=0)


# ---------------------------------------------------------------------------------------- callbacks

def test_callbacks_are_called_in_order_with_the_right_counts():
    X, y = regression_data(n=10)
    model = bl.Linear(2, 1, rng=rng())
    log = []
    fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=2, batch_size=4,
        callbacks=[Recorder(log, "a:"), Recorder(log, "b:")], progress=False)
    expected = []

    def both(hook, epoch, step):
        expected.extend([("a:" + hook, epoch, step), ("b:" + hook, epoch, step)])

    both("train_begin", 0, 0)
    step = 0
    for epoch in (1, 2):
        both("epoch_begin", epoch, step)
        for _ in range(3):  # 10 samples in batches of 4: 4, 4, 2
            step += 1
            both("after_backward", epoch, step)
            both("batch_end", epoch, step)
        both("epoch_end", epoch, step)
    both("train_end", 2, 6)
    assert log == expected


def test_after_backward_sees_gradients_before_the_update():
    X, y = regression_data(n=8)
    model = bl.Linear(2, 1, rng=rng())
    seen = []

    class Check(Callback):
        def after_backward(self, state):
            seen.append((model.W.grad.copy(), model.W.data.copy()))

    w0 = model.W.data.copy()
    fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=1, batch_size=8,
        shuffle=False, callbacks=[Check()], progress=False)
    grad, data = seen[0]
    np.testing.assert_array_equal(data, w0)  # not updated yet
    np.testing.assert_allclose(model.W.data, w0 - 0.1 * grad, rtol=1e-14)


def test_callback_can_stop_training():
    class StopAt2(Callback):
        def on_epoch_end(self, state):
            if state.epoch == 2:
                state.stop, state.stop_reason = True, "enough"

    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    h = fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=10,
            callbacks=[StopAt2()], progress=False)
    assert h.epochs == [1, 2] and h.stopped_early and h.stop_reason == "enough"


# ---------------------------------------------------------------------------- evaluate and accuracy

def test_evaluate_returns_loss_and_accuracy_in_eval_mode_and_restores_mode():
    X, y = make_spiral(60, 3)
    model = bl.Sequential(bl.Linear(2, 8, rng=rng(1)), bl.ReLU(), bl.Dropout(0.5, rng=rng(2)),
                          bl.Linear(8, 3, rng=rng(3)))
    loss_fn = bl.CrossEntropyLoss()
    model.train()
    loss, acc = evaluate(model, loss_fn, X, y, batch_size=7)  # batches of 7 are concatenated
    assert model.training  # restored
    assert all(m.training for m in model.modules())
    model.eval()
    pred = model(X)  # dropout off: the same numbers evaluate saw
    assert loss == pytest.approx(loss_fn(pred, y), rel=1e-12)
    assert acc == pytest.approx(np.mean(pred.argmax(axis=1) == y))
    evaluate(model, loss_fn, X, y)
    assert not model.training  # eval stays eval


def _bn_net(seed=0):
    r = rng(seed)
    return bl.Sequential(bl.Linear(2, 5, rng=r), bl.BatchNorm1d(5, momentum=0.3), bl.Tanh(),
                         bl.Linear(5, 4, rng=r), bl.BatchNorm1d(4), bl.Linear(4, 3, rng=r))


def _bn_inputs(model, X):
    """The input of each BatchNorm1d layer for X, the earlier layers in train mode."""
    inputs, a = [], X
    for layer in model:
        if isinstance(layer, bl.BatchNorm1d):
            inputs.append(a)
        a = layer.forward(a)
    return inputs


def test_update_bn_sets_the_exact_statistics_of_the_data_and_changes_nothing_else():
    X = rng(5).normal(size=(40, 2)) * 3 + 1
    model = _bn_net()
    fit(model, bl.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (X, rng(6).integers(0, 3, 40)),
        epochs=3, batch_size=8, progress=False)  # running statistics that lag behind
    params = [p.data.copy() for p in model.parameters()]
    assert update_bn(X, model) is model
    assert not model.training  # fit left it in eval mode; update_bn restores that
    bns = [m for m in model if isinstance(m, bl.BatchNorm1d)]
    assert [bn.momentum for bn in bns] == [0.3, 0.1]
    model.train()
    for bn, x in zip(bns, _bn_inputs(model, X)):
        np.testing.assert_allclose(bn.running_mean, x.mean(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bn.running_var, x.var(axis=0, ddof=1), rtol=1e-12)
    for p, before in zip(model.parameters(), params):
        np.testing.assert_array_equal(p.data, before)
    # with the exact statistics, eval mode computes what train mode computes on all of X
    # (up to the unbiased variance's factor N / (N - 1) = 40 / 39)
    train_out = model(X)
    model.eval()
    np.testing.assert_allclose(model(X), train_out, atol=0.05)


def test_update_bn_in_batches_averages_the_batch_statistics():
    X = rng(7).normal(size=(30, 2))
    model = _bn_net()
    model.train()
    expected_mean = np.mean([_bn_inputs(model, X[i:i + 10])[0].mean(axis=0)
                             for i in (0, 10, 20)], axis=0)
    expected_var = np.mean([_bn_inputs(model, X[i:i + 10])[0].var(axis=0, ddof=1)
                            for i in (0, 10, 20)], axis=0)
    update_bn(X, model, batch_size=10)
    assert model.training
    np.testing.assert_allclose(model[1].running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(model[1].running_var, expected_var, rtol=1e-12)


def test_update_bn_without_batch_norm_changes_nothing():
    model = spiral_mlp()
    state = model.state_dict()
    update_bn(np.ones((4, 2)), model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key])


def test_evaluate_regression_has_no_accuracy():
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    loss, acc = evaluate(model, bl.MSELoss(), X, y)
    assert acc is None
    assert loss == pytest.approx(float(np.mean((model(X) - y) ** 2)))


def test_accuracy_for_cross_entropy_and_bce():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, np.array([0, 0, 0]), bl.CrossEntropyLoss()) == pytest.approx(2 / 3)
    z = np.array([[1.0], [-2.0], [0.5], [-0.1]])
    t = np.array([[1.0], [0.0], [0.0], [0.0]])
    # predicted class is z > 0: 1, 0, 1, 0 against 1, 0, 0, 0
    assert accuracy(z, t, bl.BCEWithLogitsLoss()) == 0.75
    assert accuracy(z, t, bl.MSELoss()) is None


# --------------------------------------------------------------- grad clipping, schedules, progress

def test_grad_clip_limits_the_update():
    X, y = regression_data()
    y = y * 100  # a huge gradient
    model = bl.Linear(2, 1, rng=rng())
    before = [p.data.copy() for p in model.parameters()]
    fit(model, bl.MSELoss(), SGD(model.parameters(), lr=1.0), (X, y), epochs=1, batch_size=40,
        grad_clip=0.1, progress=False)
    change = math.sqrt(sum(np.sum((p.data - b) ** 2) for p, b in zip(model.parameters(), before)))
    # with lr = 1 the step is the clipped gradient, of norm 0.1 * norm / (norm + 1e-6)
    assert change == pytest.approx(0.1, rel=1e-6)


def test_scheduler_steps_the_lr_once_per_epoch():
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    opt = SGD(model.parameters(), lr=0.1)
    h = fit(model, bl.MSELoss(), opt, (X, y), epochs=3, batch_size=8,
            scheduler=StepLR(opt, step_size=1, gamma=0.5), progress=False)
    assert h.lr == pytest.approx([0.1, 0.05, 0.025])  # the lr used during each epoch
    assert opt.lr == pytest.approx(0.0125)


def test_progress_false_prints_nothing(capsys):
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.01), (X, y), epochs=2,
        progress=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


# ---------------------------------------------------------------------------------------- bad input

def test_fit_on_empty_data_raises():
    model = bl.Linear(2, 1, rng=rng())
    with pytest.raises(ValueError, match="empty"):
        fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.1),
            (np.zeros((0, 2)), np.zeros((0, 1))), epochs=1, progress=False)


def test_fit_rejects_length_mismatch_and_bad_option():
    X, y = regression_data()
    model = bl.Linear(2, 1, rng=rng())
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError):
        fit(model, bl.MSELoss(), opt, (X, y[:-1]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        fit(model, bl.MSELoss(), opt, (X, y), epochs=1, on_nonfinite="ignore", progress=False)


def test_fit_on_nan_inputs_names_the_rows():
    X, y = regression_data()
    X[3, 0] = np.nan
    X[7, 1] = np.inf
    model = bl.Linear(2, 1, rng=rng())
    w0 = model.W.data.copy()
    with pytest.raises(NonFiniteError) as info:
        fit(model, bl.MSELoss(), SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
            progress=False)
    assert "[3, 7]" in str(info.value) and "2 rows" in str(info.value)
    np.testing.assert_array_equal(model.W.data, w0)  # refused before any step


def diverging_run(on_nonfinite):
    """Plain SGD with a huge learning rate on linear regression: the loss grows every step
    until it overflows to inf."""
    X = rng(0).normal(size=(60, 2))
    y = X.sum(axis=1, keepdims=True)
    model = bl.Sequential(bl.Linear(2, 1, rng=rng(0)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # nothing may leak as a warning
        h = fit(model, bl.MSELoss(), SGD(model.parameters(), lr=1e3), (X, y), epochs=200,
                batch_size=32, progress=False, on_nonfinite=on_nonfinite)
    return model, h


def test_overflowing_loss_raises_non_finite_error_naming_epoch_step_and_place():
    with pytest.raises(NonFiniteError) as info:
        diverging_run("raise")
    msg = str(info.value)
    match = re.search(r"epoch (\d+), step (\d+)", msg)
    assert match, msg
    epoch, step = int(match.group(1)), int(match.group(2))
    assert 2 * (epoch - 1) < step <= 2 * epoch  # 2 steps per epoch (60 rows, batches of 32)
    assert "loss" in msg or "layer" in msg  # where it appeared


def test_overflowing_loss_with_stop_records_the_reason_and_stops():
    model, h = diverging_run("stop")
    assert h.stopped_early
    match = re.search(r"epoch (\d+), step (\d+)", h.stop_reason)
    assert match, h.stop_reason
    assert len(h.epochs) == int(match.group(1)) - 1 < 200  # the failing epoch is not recorded
    assert all(np.isfinite(p.data).all() for p in model.parameters())  # no step on inf
    assert all(np.isfinite(h.batch_loss))
