"""Lesson 06's training experiments: the 20-layer networks of the score sheet, batch norm's
running statistics, the loss at initialisation and symmetry breaking, with the claims the
lesson makes about them.

Every network is :func:`deep_mlp`: 20 ``Linear`` layers of width 32 on the 300 standardised
spiral points (:func:`spiral`), trained by :func:`train_network` with one recipe, SGD with
momentum 0.9 at learning rate :data:`LR` = 0.002 for 40 epochs of batches of 50. That rate
is well inside the stable range: ten times larger, these deep networks sit at the edge of
stability, where a last-bit difference in one input changed a run's final accuracy from 0.93
to 0.53 (docs/reproducibility.md). At 0.002, measured when this module was written, a 1-ulp
change of every input left every final accuracy of the score sheet as it was and moved the
final losses by less than 1e-7, batch norm's by up to 3e-3; only the unclipped He x 1.3
network, which the lesson reports by its blow-ups alone (the same seeds blew up at the same
steps after every 1-ulp change tried), is chaotic. He x 1.5 with clipping, which the lesson
does not train, is chaotic too: 1-ulp changes of the inputs moved seeds 0 to 2 over final
accuracies of 0.64 to 0.75. The running-statistics accuracy of batch norm moves by several
points, so the lesson states only a bound for it.
"""

import numpy as np

from ..data import make_spiral, standardize
from ..diagnostics import Monitor
from ..init import get_initializer
from ..layers import BatchNorm1d, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid, Tanh
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ..train import Callback, evaluate, fit, update_bn
from . import SEEDS, Claim, run

__all__ = ["DEPTH", "WIDTH", "LR", "MOMENTUM", "EPOCHS", "BATCH", "ACTIVATIONS", "CHANCE_LOSS",
           "spiral", "scaled", "deep_mlp", "linear_grad_norms", "GradientNorms", "train_network",
           "symmetry", "sheet_pair", "SHEET", "SHRUNK", "CLAIMS", "SABOTAGE"]

DEPTH, WIDTH = 20, 32                  # Linear layers, hidden units
LR, MOMENTUM, EPOCHS, BATCH = 0.002, 0.9, 40, 50
ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU}
CHANCE_LOSS = float(np.log(3))         # the loss of answering (1/3, 1/3, 1/3) everywhere


def spiral():
    """The lesson's data: 300 spiral points (3 classes), each feature standardised.
    Returns X (300, 2) and y (300,)."""
    X, y = make_spiral(n_samples=300, n_classes=3, seed=0)
    return standardize(X), y


def scaled(init, factor):
    """An initialiser: the weights of the named scheme, multiplied by ``factor``."""
    make = get_initializer(init)

    def scaled_init(shape, rng=None, dtype=np.float64):
        return factor * make(shape, rng=rng, dtype=dtype)
    return scaled_init


def deep_mlp(activation, depth=DEPTH, width=WIDTH, init="default", batchnorm=False,
             residual=False, weight_scale=1.0, seed=0):
    """``depth`` Linear layers: 2 -> width, (depth - 2) x (width -> width), width -> 3.

    ``activation`` (a key of :data:`ACTIVATIONS`) follows every Linear layer but the last.
    With ``batchnorm``, a BatchNorm1d sits between each width -> width layer and its
    activation, and that Linear layer has no bias (the normalisation would cancel it). With
    ``residual``, each width -> width block becomes x + block(x). ``init`` is a
    ``backproplab.init`` name, its weights multiplied by ``weight_scale``; the weights come
    from ``np.random.default_rng(seed)``, so the same arguments give the same network.
    """
    act = ACTIVATIONS[activation]
    init = scaled(init, weight_scale) if weight_scale != 1.0 else init
    rng = np.random.default_rng(seed)
    layers = [Linear(2, width, init=init, rng=rng), act()]
    for _ in range(depth - 2):
        block = [Linear(width, width, bias=not batchnorm, init=init, rng=rng)]
        if batchnorm:
            block.append(BatchNorm1d(width))
        block.append(act())
        layers += [Residual(Sequential(*block))] if residual else block
    layers.append(Linear(width, 3, init=init, rng=rng))
    return Sequential(*layers)


def linear_grad_norms(model, X, y):
    """{"L1": ||dW||, ..., "L20": ||dW||}: the weight-gradient norm of each Linear layer,
    first to last, after one forward and backward pass on (X, y) (gradients left in .grad)."""
    monitor = Monitor(model).measure(CrossEntropyLoss(), X, y)
    names = [name for name, layer in monitor.layers if isinstance(layer, Linear)]
    return {f"L{i + 1}": monitor.records[name]["grad_norm"][-1] for i, name in enumerate(names)}


class GradientNorms(Callback):
    """Records the joint norm of all gradients at every step, before any clipping (``values``).
    Lesson 09's experiments use it too."""

    def __init__(self):
        self.values = []

    def after_backward(self, state):
        grads = [p.grad for p in state.optimizer.params if p.grad is not None]
        self.values.append(float(np.sqrt(sum(np.sum(g * g) for g in grads))))


class _Recorder(GradientNorms):
    """The joint gradient norm of every step (before clipping, ``values``), and every
    ``every`` steps each Linear layer's update ratio ||W after - W before|| / ||W before||."""

    def __init__(self, model, every=6):
        super().__init__()
        self.weights = [layer.W for layer in model.modules() if isinstance(layer, Linear)]
        self.every, self.update_ratios, self._before = every, [], None

    def after_backward(self, state):
        super().after_backward(state)
        if (state.step - 1) % self.every == 0:
            self._before = [W.data.copy() for W in self.weights]

    def on_batch_end(self, state):
        if self._before is not None:
            self.update_ratios.append([np.linalg.norm(W.data - b) / np.linalg.norm(b)
                                       for W, b in zip(self.weights, self._before)])
            self._before = None


def _largest_rise(losses):
    """How far the loss climbs back above its lowest value so far (0 for a falling curve)."""
    losses = np.asarray(losses)
    return float(np.max(losses - np.minimum.accumulate(losses))) if losses.size else 0.0


def train_network(seed, activation="sigmoid", init="default", batchnorm=False, residual=False,
                  weight_scale=1.0, last_scale=1.0, grad_clip=None, lr=LR, epochs=EPOCHS,
                  record=False):
    """Build ``deep_mlp(...)`` with ``seed``, measure it at initialisation, train it with the
    lesson's recipe (batches shuffled with ``seed``) and measure it again.

    ``last_scale`` multiplies the last layer's weights (and zeroes its bias when it is not
    1): the fix for a high loss at initialisation. ``record`` adds the joint gradient norm of
    every step and each layer's mean update ratio.

    Returns a dict: ``grad_norms`` (||dW|| per Linear layer at initialisation, first to
    last), ``ratio`` (first / last), ``init_loss``, ``train_loss`` (mean loss of each epoch),
    ``largest_rise`` (how far the epoch loss climbed back above its best), ``nonfinite_step``
    (the step where the loss became NaN/inf and training stopped, or None), ``stop_reason``,
    ``first_layer_change`` (||W1 after - W1 before|| / ||W1 before||);
    after training, in eval mode on all 300 points: ``final_loss``, ``accuracy`` (batch norm's
    running statistics recomputed with :func:`~backproplab.train.update_bn`) and
    ``accuracy_running`` (with the running statistics as training left them); with
    ``record``: ``grad_norm`` (one per step) and ``update_ratio`` (mean per Linear layer).
    """
    X, y = spiral()
    loss_fn = CrossEntropyLoss()
    model = deep_mlp(activation, init=init, batchnorm=batchnorm, residual=residual,
                     weight_scale=weight_scale, seed=seed)
    if last_scale != 1.0:
        model[-1].W.data *= last_scale
        model[-1].b.data[...] = 0.0
    norms = list(linear_grad_norms(model, X, y).values())
    result = {"grad_norms": norms, "ratio": norms[0] / norms[-1],
              "init_loss": loss_fn(model(X), y)}
    first = model[0].W.data.copy()  # to see whether the first layer learns at all
    recorder = _Recorder(model) if record else None
    history = fit(model, loss_fn, SGD(model.parameters(), lr=lr, momentum=MOMENTUM), (X, y),
                  epochs=epochs, batch_size=BATCH, seed=seed, grad_clip=grad_clip,
                  callbacks=[recorder] if record else [], on_nonfinite="stop", progress=False)
    result.update(train_loss=history.train_loss, largest_rise=_largest_rise(history.train_loss),
                  stop_reason=history.stop_reason)
    if history.stopped_early:  # the weights may be inf: no measurement after training
        result.update(nonfinite_step=len(history.batch_loss) + 1, first_layer_change=np.nan,
                      final_loss=np.nan, accuracy=np.nan, accuracy_running=np.nan)
    else:
        result.update(nonfinite_step=None, first_layer_change=float(
            np.linalg.norm(model[0].W.data - first) / np.linalg.norm(first)))
        result["accuracy_running"] = evaluate(model, loss_fn, X, y)[1]
        update_bn(X, model)
        result["final_loss"], result["accuracy"] = evaluate(model, loss_fn, X, y)
    if record:
        result.update(grad_norm=recorder.values,
                      update_ratio=list(np.mean(recorder.update_ratios, axis=0)))
    return result


def symmetry(seed, init="constant", epochs=40):
    """A small tanh network, 2 -> 16 -> 16 -> 3, trained with the lesson's recipe from
    weights that are all 0.1 (``init="constant"``, biases 0) or from Xavier weights
    (``"random"``). Returns ``distinct_units`` (how many different units, i.e. distinct
    columns of W, the widest hidden layer has after training: 16 at most) and ``accuracy``.
    """
    X, y = spiral()
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(2, 16, init="xavier_uniform", rng=rng), Tanh(),
                       Linear(16, 16, init="xavier_uniform", rng=rng), Tanh(),
                       Linear(16, 3, init="xavier_uniform", rng=rng))
    if init == "constant":
        for layer in model.modules():
            if isinstance(layer, Linear):
                layer.W.data[...], layer.b.data[...] = 0.1, 0.0
    loss_fn = CrossEntropyLoss()
    fit(model, loss_fn, SGD(model.parameters(), lr=LR * 10, momentum=MOMENTUM), (X, y),
        epochs=epochs, batch_size=BATCH, seed=seed, progress=False)
    distinct = max(_distinct_columns(layer.W.data) for layer in (model[0], model[2]))
    return {"distinct_units": distinct, "accuracy": evaluate(model, loss_fn, X, y)[1]}


def _distinct_columns(W, tol=1e-9):
    """Columns of W that differ from every earlier column by more than tol * max|W|."""
    scale, kept = tol * np.abs(W).max(), []
    for column in W.T:
        if all(np.abs(column - other).max() > scale for other in kept):
            kept.append(column)
    return len(kept)


# -------------------------------------------------------------------------------- the sheet

# label -> settings of train_network: every network of the score sheet
SHEET = {
    "sigmoid, default init": dict(activation="sigmoid"),
    "ReLU, default init": dict(activation="relu"),
    "tanh, Xavier": dict(activation="tanh", init="xavier_uniform"),
    "ReLU, He": dict(activation="relu", init="he_normal", record=True),
    "sigmoid + batch norm": dict(activation="sigmoid", batchnorm=True),
    "sigmoid + residual": dict(activation="sigmoid", residual=True),
    "tanh + residual": dict(activation="tanh", residual=True),
    "ReLU, He x 1.5 (too large)": dict(activation="relu", init="he_normal", weight_scale=1.5),
    "ReLU, He x 1.3": dict(activation="relu", init="he_normal", weight_scale=1.3),
    "ReLU, He x 1.3 + clipping": dict(activation="relu", init="he_normal", weight_scale=1.3,
                                      grad_clip=1.0, record=True),
}
SHRUNK = dict(SHEET["ReLU, He"], last_scale=0.1)  # the loss-at-initialisation fix


def sheet_pair(seed, first, second):
    """``{"first": ..., "second": ...}``: train_network's results for two networks of
    :data:`SHEET` (by label) on the same seed, to compare them seed by seed."""
    return {"first": run(train_network, seed, **SHEET[first]),
            "second": run(train_network, seed, **SHEET[second])}


def _learns_nothing(r):
    return abs(r["final_loss"] - CHANCE_LOSS) < 0.01 and r["accuracy"] <= 0.4


CLAIMS = [
    Claim("the 20-layer sigmoid network learns nothing: after 40 epochs its loss is within "
          "0.01 of ln 3 and it classifies at most 40 % of the points", train_network,
          each=_learns_nothing, settings=SHEET["sigmoid, default init"]),
    Claim("its first layer does not learn: its weights move by less than 1e-12 of their size",
          train_network, each=lambda r: r["first_layer_change"] < 1e-12,
          settings=SHEET["sigmoid, default init"]),
    Claim("ReLU with the default initialisation learns nothing either", train_network,
          each=_learns_nothing, settings=SHEET["ReLU, default init"]),
    Claim("ReLU with He weights 50 % too large: the loss becomes nan within the first epoch "
          "(6 steps)", train_network, each=lambda r: r["nonfinite_step"] is not None
          and r["nonfinite_step"] <= 6, settings=SHEET["ReLU, He x 1.5 (too large)"]),
    Claim("tanh with Xavier learns: at least 80 % of the points", train_network,
          each=lambda r: r["accuracy"] >= 0.8, settings=SHEET["tanh, Xavier"]),
    Claim("ReLU with He learns: at least 85 % of the points", train_network,
          each=lambda r: r["accuracy"] >= 0.85, settings=SHEET["ReLU, He"]),
    Claim("ReLU with He: the epoch loss climbs back at least 0.05 above its best at least "
          "once (a spike)", train_network, each=lambda r: r["largest_rise"] >= 0.05,
          settings=SHEET["ReLU, He"]),
    Claim("a constant initialisation never breaks the symmetry: after training every hidden "
          "layer has one distinct unit, and at most 55 % of the points are right", symmetry,
          each=lambda r: r["distinct_units"] == 1 and r["accuracy"] <= 0.55),
    Claim("a random initialisation does: 16 distinct units, at least 85 % right", symmetry,
          each=lambda r: r["distinct_units"] == 16 and r["accuracy"] >= 0.85,
          settings={"init": "random"}),
    Claim("shrinking ReLU + He's last layer x 0.1 puts the loss at initialisation within "
          "0.1 of ln 3", train_network, each=lambda r: abs(r["init_loss"] - CHANCE_LOSS) < 0.1,
          settings=SHRUNK),
    Claim("... but does not make it learn better: its median final accuracy is lower",
          train_network, overall=lambda rs: np.median([r["accuracy"] for r in rs]) < np.median(
              [run(train_network, seed, **SHEET["ReLU, He"])["accuracy"] for seed in SEEDS]),
          settings=SHRUNK),
    Claim("sigmoid + batch norm learns: at least 95 % of the points (running statistics "
          "recomputed after training)", train_network, each=lambda r: r["accuracy"] >= 0.95,
          settings=SHEET["sigmoid + batch norm"]),
    Claim("with the running statistics that training left, the same networks get less than "
          "85 % in eval mode, at least 10 points below", train_network,
          each=lambda r: r["accuracy_running"] < 0.85
          and r["accuracy"] - r["accuracy_running"] >= 0.1,
          settings=SHEET["sigmoid + batch norm"]),
    Claim("sigmoid + residual fits at most 60 % of the points", train_network,
          each=lambda r: r["accuracy"] <= 0.6, settings=SHEET["sigmoid + residual"]),
    Claim("tanh + residual fits at least 95 %, and its epoch loss never climbs back more "
          "than 0.05", train_network,
          each=lambda r: r["accuracy"] >= 0.95 and r["largest_rise"] <= 0.05,
          settings=SHEET["tanh + residual"]),
    Claim("with weights 30 % too large, at least 3 of the 5 seeds blow up within two epochs",
          train_network, overall=lambda rs: sum(r["nonfinite_step"] is not None
                                                and r["nonfinite_step"] <= 12 for r in rs) >= 3,
          settings=SHEET["ReLU, He x 1.3"]),
    Claim("with clipping, every seed trains all 40 epochs and fits at least 65 % of the points",
          train_network, each=lambda r: r["nonfinite_step"] is None and r["accuracy"] >= 0.65,
          settings=SHEET["ReLU, He x 1.3 + clipping"]),
    Claim("... but clipping cures nothing: it acts at every step, and in the second half the "
          "median gradient norm before clipping is still over 10 times the threshold",
          train_network, each=lambda r: min(r["grad_norm"]) > 1.0
          and np.median(r["grad_norm"][len(r["grad_norm"]) // 2:]) > 10,
          settings=SHEET["ReLU, He x 1.3 + clipping"]),
    Claim("... and it ends below He at the right scale", sheet_pair,
          each=lambda r: r["first"]["accuracy"] < r["second"]["accuracy"],
          settings={"first": "ReLU, He x 1.3 + clipping", "second": "ReLU, He"}),
]

# (claim index, settings that break it): each must make its claim fail
SABOTAGE = [
    (0, {"batchnorm": True}),           # batch norm rescues the sigmoid network
    (3, {"weight_scale": 1.0}),         # He at the right scale does not explode
    (5, {"init": "default"}),           # ReLU without He learns nothing
    (7, {"init": "random"}),            # random weights break the symmetry
]
