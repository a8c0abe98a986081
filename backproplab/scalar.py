"""A scalar automatic-differentiation engine: the whole of backpropagation in one file.

Every operation creates a new :class:`Value` that remembers the values it was made from and
the *local derivative* of its result with respect to each of them, computed right beside the
forward formula. ``backward()`` then applies the chain rule from the output back to the
inputs::

    child.grad += (d node / d child) * node.grad

Why it looks the way it does:

* Local derivatives are stored as numbers at forward time, not as closures. A closure per
  node makes a reference cycle (node -> closure -> node) that only Python's cyclic garbage
  collector can free; plain numbers let reference counting free a graph the moment it is no
  longer used. That, and ``__slots__``, is most of why this engine is fast.
* Nodes have one or two parents (``_a``, ``_b``); only :meth:`Value.sum` has many.
* The topological sort is iterative, so a chain of 100 000 nodes works without hitting
  Python's recursion limit.

Semantics of ``.grad`` (the same as PyTorch's ``Tensor.grad``): ``backward()`` *adds*
d(root)/d(node) to the ``.grad`` of every node of the graph. Calling it twice doubles every
gradient, exactly. Reset gradients between steps with :meth:`Value.zero_grad` (or
``p.grad = 0.0`` on your parameters): the same habit as ``optimizer.zero_grad()`` in PyTorch.
"""

from __future__ import annotations

import itertools
import math
from operator import attrgetter

__all__ = ["Value"]

_creation_counter = itertools.count()
_by_creation = attrgetter("_n")
_MANY = object()  # marks a node whose parents are a tuple in ``_a`` (Value.sum)


def _float(x):
    """Accept Python and NumPy real numbers; reject everything else with a clear message."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, (str, bytes)):  # float("3") would parse; a string is not a number
        raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r}")
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"Value needs a real number, got {type(x).__name__}: {x!r}") from None
    if isinstance(x, complex):
        raise TypeError(f"Value needs a real number, got complex {x!r}")
    return f


class Value:
    """A scalar that records how it was computed, so its gradient can be back-propagated.

    Parameters
    ----------
    data : float
        The number this node holds (ints and NumPy scalars are converted to float).
    label : str, optional
        A name shown when the graph is drawn (:func:`backproplab.plotting.draw_graph`).

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        d(root)/d(self), accumulated by ``root.backward()``; starts at 0.
    label : str
        The name given at creation ('' if none).
    op : str
        The operation that produced this node ('' for a leaf).
    children : tuple of Value
        The nodes this one was computed from (empty for a leaf).
    local_grads : tuple of float
        d(self)/d(child) for each of ``children``.

    Examples
    --------
    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    """

    __slots__ = ("data", "grad", "label", "_op", "_a", "_da", "_b", "_db", "_g", "_mark", "_n")

    # The positional arguments after ``label`` are for this module's operations only.
    def __init__(self, data, label="", _op="", _a=None, _da=0.0, _b=None, _db=0.0):
        self.data = data if type(data) is float else _float(data)
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._a, self._da = _a, _da  # first parent, and d(self)/d(first parent)
        self._b, self._db = _b, _db  # second parent (binary operations only)
        self._g = 0.0  # the gradient of the backward pass under way
        self._mark = None  # which backward pass last visited this node
        self._n = next(_creation_counter)  # creation order is a topological order

    # ------------------------------------------------------------------ inspection
    @property
    def op(self):
        return self._op

    @property
    def children(self):
        if self._b is _MANY:
            return self._a
        return tuple(c for c in (self._a, self._b) if c is not None)

    @property
    def local_grads(self):
        if self._b is _MANY:
            return (1.0,) * len(self._a)
        return tuple(d for c, d in ((self._a, self._da), (self._b, self._db)) if c is not None)

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # ------------------------------------------------------------------ binary operations
    def __add__(self, other):
        if isinstance(other, Value):  # d(a+b)/da = 1, d(a+b)/db = 1
            return Value(self.data + other.data, "", "+", self, 1.0, other, 1.0)
        return Value(self.data + _float(other), "", "+", self, 1.0)

    def __mul__(self, other):
        if isinstance(other, Value):  # d(ab)/da = b, d(ab)/db = a
            return Value(self.data * other.data, "", "*", self, other.data, other, self.data)
        c = _float(other)
        return Value(self.data * c, "", "*", self, c)

    def __sub__(self, other):
        if isinstance(other, Value):  # d(a-b)/da = 1, d(a-b)/db = -1
            return Value(self.data - other.data, "", "-", self, 1.0, other, -1.0)
        return Value(self.data - _float(other), "", "-", self, 1.0)

    def __rsub__(self, other):  # c - a: d/da = -1
        return Value(_float(other) - self.data, "", "-", self, -1.0)

    def __truediv__(self, other):
        if isinstance(other, Value):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            a, b = self.data, other.data
            return Value(a / b, "", "/", self, 1.0 / b, other, -a / (b * b))
        c = _float(other)
        return Value(self.data / c, "", "/", self, 1.0 / c)

    def __rtruediv__(self, other):  # c / a: d/da = -c/a^2
        c, a = _float(other), self.data
        return Value(c / a, "", "/", self, -c / (a * a))

    def __pow__(self, k):
        if isinstance(k, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number")
        k = _float(k)  # d(a^k)/da = k a^(k-1)
        return Value(self.data**k, "", f"**{k:g}", self, k * self.data ** (k - 1))

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):  # d(-a)/da = -1
        return Value(-self.data, "", "neg", self, -1.0)

    # ------------------------------------------------------------------ functions
    def exp(self):
        e = math.exp(self.data)  # d(e^a)/da = e^a
        return Value(e, "", "exp", self, e)

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number: {self.data!r}")
        return Value(math.log(self.data), "", "log", self, 1.0 / self.data)  # d/da = 1/a

    def tanh(self):
        t = math.tanh(self.data)  # math.tanh saturates to +-1: no overflow; d/da = 1 - t^2
        return Value(t, "", "tanh", self, 1.0 - t * t)

    def sigmoid(self):
        x = self.data
        if x >= 0:  # the stable form: exp() of a non-positive number cannot overflow
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Value(s, "", "sigmoid", self, s * (1.0 - s))  # d/da = s (1 - s)

    def relu(self):
        x = self.data  # d/da = 1 where a > 0, else 0 (the kink at 0 gets 0, as in PyTorch)
        return Value(x if x > 0 else 0.0, "", "relu", self, 1.0 if x > 0 else 0.0)

    def max(self, other):
        """The larger of ``self`` and ``other`` (a Value or a number). The max gate *routes*
        the gradient: all of it to the larger input, none to the other; at a tie half to
        each, as PyTorch's ``torch.maximum`` (and as a central difference measures). NaN in
        either input gives NaN."""
        a, b = self.data, _float(other)
        out = a if a >= b or a != a else b
        da = 1.0 if a > b else 0.5 if a == b else 0.0  # d max / da; d max / db = 1 - da
        if isinstance(other, Value):
            return Value(out, "", "max", self, da, other, 1.0 - da)
        return Value(out, "", "max", self, da)

    @staticmethod
    def sum(values, start=0.0):
        """Sum many values in one node: d(sum)/d(each) = 1.

        ``Value.sum(terms)`` gives the same result and gradients as Python's
        ``sum(terms)`` but creates one node instead of ``len(terms)``, which roughly halves
        the size (and time) of a neural network's graph.
        """
        parents, total = [], _float(start)
        for v in values:
            if isinstance(v, Value):
                parents.append(v)
                total += v.data
            else:
                total += _float(v)
        return Value(total, "", "sum", tuple(parents), 1.0, _MANY)

    # ------------------------------------------------------------------ backward pass
    def topological_order(self):
        """Every node this one depends on, each listed after all of its children.

        A node is always created after its inputs, so sorting the reachable nodes by creation
        order is a topological sort: no recursion, and C-speed sorting. ``self`` comes last.
        """
        mark = object()  # a fresh token per call, so no "visited" flag needs resetting
        self._mark = mark
        nodes = [self]
        push = nodes.append
        for node in nodes:  # the list grows while we walk it: a breadth-first search
            a = node._a
            if a is None:
                continue
            b = node._b
            if b is _MANY:
                for c in a:
                    if c._mark is not mark:
                        c._mark = mark
                        push(c)
                continue
            if a._mark is not mark:
                a._mark = mark
                push(a)
            if b is not None and b._mark is not mark:
                b._mark = mark
                push(b)
        nodes.sort(key=_by_creation)
        return nodes

    def backward(self):
        """Add d(self)/d(node) to ``node.grad`` for every node of the graph below ``self``.

        ``self.grad`` gains 1. This pass's gradients are computed in a separate slot and
        only then added to ``.grad``, so what an earlier call left in ``.grad`` never flows
        into this one: calling ``backward()`` twice gives exactly twice the gradients.
        """
        order = self.topological_order()
        for node in order:
            node._g = 0.0
        self._g = 1.0
        for node in reversed(order):  # every node is finished before its children
            g = node._g
            node.grad += g
            a = node._a
            if a is None:
                continue
            b = node._b
            if b is _MANY:  # a sum: every parent gets the upstream gradient unchanged
                for c in a:
                    c._g += g
                continue
            a._g += node._da * g  # the chain rule: local derivative times upstream gradient
            if b is not None:
                b._g += node._db * g

    def zero_grad(self):
        """Set ``.grad`` to 0 on every node of the graph below (and including) ``self``."""
        for node in self.topological_order():
            node.grad = 0.0
