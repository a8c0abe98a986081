"""A multi-layer perceptron made of :class:`~backproplab.scalar.Value` s, one Value per weight.

This is micrograd's demo network: every weight is a scalar node of a graph, so ``backward()``
on the loss gives every weight's gradient with nothing but the scalar chain rule. It is slow
(one Python object per multiplication) and meant to be read: lesson 04 does the same with one
matrix product per layer, which :meth:`ValueMLP.predict` uses to evaluate a trained network
on many points at once.
"""

import math

import numpy as np

from .scalar import Value

__all__ = ["ValueMLP"]

ACTIVATIONS = ("tanh", "relu")


class ValueMLP:
    """Fully connected layers of Values: ``sizes = (D, H1, ..., out)``.

    Every layer but the last applies ``activation`` to each unit; the last is linear (a
    score per output). Unit ``j`` of a layer computes ``sum_i w_ji x_i + b_j``.

    Parameters
    ----------
    sizes : sequence of int
        Inputs, hidden layers, outputs, e.g. ``(2, 8, 1)``.
    activation : "tanh" or "relu"
    seed : int
        Seed of the initial weights, uniform in (-1, 1) / sqrt(fan-in); biases start at 0.

    Examples
    --------
    >>> model = ValueMLP((2, 4, 1), seed=0)
    >>> score = model([0.5, -1.0])[0]            # a Value: the graph of the whole network
    >>> score.backward()                          # d score / d every weight
    >>> len(model.parameters())
    17
    """

    def __init__(self, sizes, activation="tanh", seed=0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must hold at least two positive sizes, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        rng = np.random.default_rng(seed)
        self.sizes, self.activation = tuple(sizes), activation
        # layers[l] is a list of units; a unit is (its weights, one per input; its bias)
        self.layers = [
            [([Value(float(w)) for w in rng.uniform(-1, 1, d_in) / math.sqrt(d_in)], Value(0.0))
             for _ in range(d_out)]
            for d_in, d_out in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x):
        """The outputs (a list of ``sizes[-1]`` Values) for one example ``x`` (D numbers)."""
        if len(x) != self.sizes[0]:
            raise ValueError(f"ValueMLP expects {self.sizes[0]} inputs, got {len(x)}")
        for depth, layer in enumerate(self.layers):
            x = [Value.sum([*(w * xi for w, xi in zip(weights, x)), bias])
                 for weights, bias in layer]
            if depth < len(self.layers) - 1:  # the output layer stays linear
                x = [getattr(z, self.activation)() for z in x]
        return x

    def parameters(self):
        """Every weight and bias, as a list of Values (layer by layer, unit by unit)."""
        return [p for layer in self.layers for weights, bias in layer for p in (*weights, bias)]

    def zero_grad(self):
        """Set every parameter's ``.grad`` to 0 (``backward()`` adds to it)."""
        for p in self.parameters():
            p.grad = 0.0

    def predict(self, X):
        """The same network on a batch, in numpy: X (M, D) -> scores (M, out).

        One matrix product per layer with the weights' current ``.data``; no graph is built.
        """
        A = np.asarray(X, dtype=np.float64)
        for depth, layer in enumerate(self.layers):
            W = np.array([[w.data for w in weights] for weights, _ in layer]).T  # (in, out)
            b = np.array([bias.data for _, bias in layer])
            A = A @ W + b
            if depth < len(self.layers) - 1:
                A = np.tanh(A) if self.activation == "tanh" else np.maximum(A, 0.0)
        return A

    def __repr__(self):
        return (f"ValueMLP(sizes={self.sizes}, activation={self.activation!r}, "
                f"{len(self.parameters())} parameters)")
