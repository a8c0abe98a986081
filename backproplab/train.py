"""The training loop: ``fit`` runs mini-batch epochs and returns a :class:`History`.

One step is the whole story of the course::

    pred = model(xb)                     # forward
    loss = loss_fn(pred, yb)             # error
    optimizer.zero_grad()
    model.backward(loss_fn.backward())   # backward: gradients into every Parameter.grad
    optimizer.step()                     # gradient descent

Everything else here (validation, early stopping, callbacks, the progress bar, refusing to
train on NaN) is bookkeeping around those five lines.
"""

import sys
import time

import numpy as np

from ._validate import NonFiniteError, as_float_array
from .data import iterate_minibatches
from .layers import BatchNorm1d
from .losses import BCEWithLogitsLoss, CrossEntropyLoss
from .optim import clip_grad_norm

__all__ = ["fit", "evaluate", "accuracy", "update_bn", "History", "Callback", "EarlyStopping",
           "locate_nonfinite"]


class History:
    """What happened during :func:`fit`, one entry per epoch (epochs count from 1).

    Attributes
    ----------
    epochs : list of int
    train_loss, val_loss : list of float
        Mean loss per epoch (train: over the epoch's batches, or over the whole training set
        in eval mode with ``fit(..., evaluate_train=True)``); ``val_loss`` is empty without
        validation data.
    train_acc, val_acc : list of float
        Accuracy (classification losses only; empty otherwise).
    batch_loss : list of float
        The loss of every step, to see mini-batch noise.
    lr : list of float
        The learning rate used in each epoch.
    best_epoch : int or None
        The epoch with the lowest validation loss (train loss without validation data).
    stopped_early : bool
    stop_reason : str
    time : float
        Wall-clock seconds of the whole fit.
    """

    def __init__(self):
        self.epochs, self.train_loss, self.val_loss = [], [], []
        self.train_acc, self.val_acc, self.batch_loss, self.lr = [], [], [], []
        self.best_epoch = None
        self.stopped_early = False
        self.stop_reason = ""
        self.time = 0.0

    def _update_best(self):
        losses = self.val_loss or self.train_loss
        self.best_epoch = self.epochs[int(np.argmin(losses))] if losses else None

    def as_dict(self):
        return {k: v for k, v in vars(self).items()}

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        last = f"train_loss={self.train_loss[-1]:.4f}"
        if self.val_loss:
            last += f", val_loss={self.val_loss[-1]:.4f}"
        if self.val_acc:
            last += f", val_acc={self.val_acc[-1]:.3f}"
        return (f"History({len(self.epochs)} epochs, {last}, best_epoch={self.best_epoch}, "
                f"time={self.time:.2f}s)")


class Callback:
    """Hooks called by :func:`fit`. Each receives the running :class:`TrainState`.

    Set ``state.stop = True`` (with ``state.stop_reason``) to end training after the
    current epoch.
    """

    def on_train_begin(self, state): pass
    def on_epoch_begin(self, state): pass
    def after_backward(self, state): pass  # gradients are ready, the update has not happened
    def on_batch_end(self, state): pass
    def on_epoch_end(self, state): pass
    def on_train_end(self, state): pass


class TrainState:
    """What callbacks can see: the model, optimizer, history, epoch, step and last loss."""

    def __init__(self, model, optimizer, history):
        self.model, self.optimizer, self.history = model, optimizer, history
        self.epoch = 0
        self.step = 0
        self.loss = None
        self.stop = False
        self.stop_reason = ""


class EarlyStopping(Callback):
    """Stop when the validation loss has not improved for ``patience`` epochs.

    "Improved" means lower than the best so far by more than ``min_delta``. With
    ``patience=3`` and the best loss at epoch 5, epochs 6, 7 and 8 without improvement stop
    training after epoch 8. With ``restore_best`` the model's parameters are set back to
    those of the best epoch at the end.
    """

    def __init__(self, patience=10, min_delta=0.0, restore_best=True):
        if patience < 1:
            raise ValueError("patience must be at least 1 epoch")
        self.patience, self.min_delta, self.restore_best = patience, min_delta, restore_best

    def on_train_begin(self, state):
        self.best_loss, self.best_epoch, self.best_state, self.wait = np.inf, None, None, 0

    def on_epoch_end(self, state):
        h = state.history
        loss = (h.val_loss or h.train_loss)[-1]
        if loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = loss, state.epoch, 0
            if self.restore_best:
                self.best_state = state.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop = True
            state.stop_reason = (f"early stopping: no improvement for {self.patience} epochs "
                                 f"after epoch {self.best_epoch}")

    def on_train_end(self, state):
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)
            state.history.best_epoch = self.best_epoch


def accuracy(pred, y, loss_fn):
    """Fraction of correct predictions for a classification loss, or None for regression.

    CrossEntropyLoss: argmax of the logits (N, C) against labels (N,).
    BCEWithLogitsLoss: logit > 0 against 0/1 targets of the same shape.
    """
    if isinstance(loss_fn, CrossEntropyLoss):
        return float(np.mean(np.argmax(pred, axis=1) == y))
    if isinstance(loss_fn, BCEWithLogitsLoss):
        return float(np.mean((pred > 0) == (np.asarray(y) > 0.5)))
    return None


def evaluate(model, loss_fn, X, y, batch_size=1024):
    """(loss, accuracy) of ``model`` on (X, y) in eval mode; accuracy is None for regression.

    Runs in batches so large sets fit in memory; restores the model's previous mode.
    """
    was_training = model.training
    model.eval()
    try:
        preds = [model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    pred = np.concatenate(preds)
    return loss_fn(pred, y), accuracy(pred, y, loss_fn)


def update_bn(X, model, batch_size=None):
    """Recompute the running statistics of every ``BatchNorm1d`` in ``model`` with its
    current weights, as ``torch.optim.swa_utils.update_bn`` does.

    During training the running mean and variance are exponential averages over the last
    few dozen steps, taken while the weights were still moving, so they lag behind the final
    weights. This resets them and sets each to the plain average of the batch statistics
    over one pass through ``X`` (N, D) in train mode, in batches of ``batch_size`` rows (all
    of ``X`` at once by default: then they are the exact mean and the unbiased variance over
    ``X``). No parameter changes; each layer's ``momentum`` and the model's mode are
    restored. A model without batch norm is left alone. Returns ``model``.
    """
    layers = [m for m in model.modules() if isinstance(m, BatchNorm1d)]
    if not layers:
        return model
    X = as_float_array(X, "update_bn inputs")
    batch_size = len(X) if batch_size is None else int(batch_size)
    momenta, was_training = [bn.momentum for bn in layers], model.training
    for bn in layers:
        bn.running_mean = np.zeros_like(bn.running_mean)
        bn.running_var = np.ones_like(bn.running_var)
    model.train()
    try:
        for k, start in enumerate(range(0, len(X), batch_size), start=1):
            for bn in layers:
                bn.momentum = 1.0 / k  # running = the mean of the k batch statistics so far
            model(X[start:start + batch_size])
    finally:
        for bn, momentum in zip(layers, momenta):
            bn.momentum = momentum
        model.train(was_training)
    return model


def locate_nonfinite(model, x):
    """Run ``x`` through a Sequential layer by layer and name the first layer whose output
    is NaN/inf (or the input itself). Returns a sentence; used in fit's error messages."""
    if not np.isfinite(x).all():
        return "the input batch already contains NaN/inf"
    layers = getattr(model, "layers", None)
    if layers is None:
        return "the model's output"
    with np.errstate(all="ignore"):
        for i, layer in enumerate(layers):
            x = layer.forward(x)
            if not np.isfinite(x).all():
                return f"the output of layer [{i}] {layer!r}"
    return "the loss (the model's outputs are finite)"


def _check_step(state, xb, loss, named_params):
    """Raise NonFiniteError where NaN/inf appeared in this step, instead of training on it."""
    where = f"epoch {state.epoch}, step {state.step}"
    if not np.isfinite(loss):
        raise NonFiniteError(f"the loss became {loss} at {where}; it first appears in "
                             f"{locate_nonfinite(state.model, xb)}. Lower the learning "
                             "rate, clip gradients, or check the initialisation.")
    for name, p in named_params:
        if p.grad is not None and not np.isfinite(p.grad).all():
            raise NonFiniteError(f"the gradient of {name} became NaN/inf at {where} "
                                 f"(the loss was {loss:.4g})")


class _Progress:
    """A progress bar: an ipywidgets bar in a notebook, a line on stderr in a terminal."""

    def __init__(self, epochs, mode):
        self.epochs = epochs
        self.bar = None
        if mode == "auto":
            mode = _in_notebook()
        self.enabled = bool(mode)
        if self.enabled and _in_notebook():
            import ipywidgets as widgets
            from IPython.display import display
            self.bar = widgets.IntProgress(value=0, min=0, max=epochs, description="training")
            self.label = widgets.HTML()
            display(widgets.HBox([self.bar, self.label]))

    def update(self, history):
        if not self.enabled:
            return
        n = len(history.epochs)
        text = f"epoch {n}/{self.epochs} · loss {history.train_loss[-1]:.4f}"
        if history.val_loss:
            text += f" · val {history.val_loss[-1]:.4f}"
        if self.bar is not None:
            self.bar.value = n
            self.label.value = text
        else:
            print(f"\r{text}", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.enabled and self.bar is None:
            print(file=sys.stderr)


def _in_notebook():
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and "IPKernelApp" in getattr(shell, "config", {})


def fit(model, loss_fn, optimizer, data, epochs, batch_size=32, val_data=None, *,
        callbacks=(), early_stopping=None, scheduler=None, grad_clip=None, seed=0, rng=None,
        shuffle=True, evaluate_train=False, progress="auto", on_nonfinite="raise"):
    """Train ``model`` with mini-batch gradient descent and return a :class:`History`.

    Parameters
    ----------
    model : Module
    loss_fn : Loss
    optimizer : Optimizer
    data : tuple (X, y)
        X (N, D) inputs; y (N,) labels or (N, ...) targets.
    epochs : int
        Passes over the data.
    batch_size : int
        Examples per step (the last batch may be smaller).
    val_data : tuple (X_val, y_val), optional
        Evaluated (in eval mode) after every epoch.
    callbacks : list of Callback
    early_stopping : int or EarlyStopping, optional
        An int is the patience of an ``EarlyStopping`` that restores the best epoch.
    scheduler : optional
        A learning-rate schedule from :mod:`backproplab.optim`, stepped once per epoch.
    grad_clip : float, optional
        Clip the joint gradient norm to this value every step.
    seed, rng
        Shuffling order; ``rng`` (a Generator) takes precedence over ``seed``.
    evaluate_train : bool
        Report the training loss/accuracy over the whole training set in eval mode at the
        end of each epoch, rather than the mean over the epoch's batches (slower, but not
        blurred by Dropout and by the weights changing during the epoch).
    progress : bool or "auto"
        "auto" shows a progress bar in a notebook and nothing in a terminal.
    on_nonfinite : "raise" or "stop"
        What to do when the loss or a gradient becomes NaN/inf: raise
        :class:`~backproplab.NonFiniteError` naming where, or stop and record why in
        ``history.stop_reason``. Training never continues on NaN.

    The model is left in eval mode, ready to predict.
    """
    X, y = data
    X = as_float_array(X, "training inputs")
    if len(X) == 0:
        raise ValueError("fit got an empty training set")
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} rows but y has {len(y)}")
    bad_rows = np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))
    if bad_rows.size:
        raise NonFiniteError(f"the training inputs contain NaN/inf in {bad_rows.size} rows, "
                             f"first {bad_rows[:10].tolist()}")
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError("on_nonfinite must be 'raise' or 'stop'")
    rng = np.random.default_rng(seed) if rng is None else rng
    callbacks = list(callbacks)
    if early_stopping is not None:
        callbacks.append(early_stopping if isinstance(early_stopping, EarlyStopping)
                         else EarlyStopping(patience=early_stopping))

    history = History()
    state = TrainState(model, optimizer, history)
    named_params = list(model.named_parameters())  # walked once, checked every step
    bar = _Progress(epochs, progress)
    start = time.perf_counter()
    model.train()
    for cb in callbacks:
        cb.on_train_begin(state)
    try:
        for epoch in range(1, epochs + 1):
            state.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(state)
            sums = np.zeros(3)  # loss * n, correct, n
            for xb, yb in iterate_minibatches(X, y, batch_size, shuffle=shuffle, rng=rng):
                state.step += 1
                # overflow shows up as inf/nan, which _check_step reports with where it
                # appeared; numpy's own warnings would only be noise before that message
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    pred = model(xb)
                    loss = loss_fn(pred, yb)
                    optimizer.zero_grad()
                    model.backward(loss_fn.backward(), input_grad=False)
                _check_step(state, xb, loss, named_params)
                state.loss = loss
                for cb in callbacks:
                    cb.after_backward(state)
                if grad_clip is not None:
                    clip_grad_norm(optimizer.params, grad_clip)
                optimizer.step()
                for cb in callbacks:
                    cb.on_batch_end(state)
                history.batch_loss.append(loss)
                acc = accuracy(pred, yb, loss_fn)
                sums += (loss * len(xb), (acc or 0.0) * len(xb), len(xb))
            history.epochs.append(epoch)
            history.lr.append(optimizer.lr)
            if evaluate_train:
                train_loss, train_acc = evaluate(model, loss_fn, X, y)
            else:
                train_loss, train_acc = sums[0] / sums[2], sums[1] / sums[2]
            history.train_loss.append(float(train_loss))
            if acc is not None:  # a classification loss
                history.train_acc.append(float(train_acc))
            if val_data is not None:
                val_loss, val_acc = evaluate(model, loss_fn, *val_data)
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_acc.append(val_acc)
            history._update_best()
            if scheduler is not None:
                scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(state)
            bar.update(history)
            if state.stop:
                history.stopped_early, history.stop_reason = True, state.stop_reason
                break
    except NonFiniteError as err:
        if on_nonfinite == "raise":
            raise
        history.stopped_early, history.stop_reason = True, str(err)
    finally:
        history.time = time.perf_counter() - start
        bar.close()
    for cb in callbacks:
        cb.on_train_end(state)
    model.eval()
    return history
