"""Parts of exercise 03 (the chain rule and computational graphs): a central difference, the
local derivatives of a small ``MyValue`` class, a topological sort, a backward pass that
accumulates, a gradient-descent step on a ``backproplab.Value`` neuron, and a training step of
a network made of Values (``backproplab.scalar_nn.ValueMLP``).

The graphs the topological sort and the backward pass are tested on are made of ``_Node``, a
reference node defined here (``data``, ``grad``, ``children``, ``local_grads``, and nothing
else): the student's code cannot lean on ``Value.topological_order()`` or ``Value.backward()``,
and a bug in the student's ``MyValue`` cannot break those parts.
"""

import math
from collections import Counter

from ...scalar import Value
from ...scalar_nn import ValueMLP
from ..registry import part

# -- reference implementations -------------------------------------------------------------


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


class _Node:
    """A bare graph node: what ``topological_sort`` and ``backward`` may use, and no more."""

    __slots__ = ("data", "grad", "children", "local_grads", "label")

    def __init__(self, data, children=(), local_grads=(), label=""):
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.local_grads = tuple(local_grads)
        self.label = label

    def __repr__(self):
        return f"node {self.label}" if self.label else f"node {self.data:g}"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, _Node) else _Node(other, label=f"{other:g}")

    def __add__(self, other):
        other = self._wrap(other)
        return _Node(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = self._wrap(other)
        return _Node(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        return _Node(self.data ** k, (self,), (k * self.data ** (k - 1),))

    def __sub__(self, other):
        return self + self._wrap(other) * -1.0

    def tanh(self):
        t = math.tanh(self.data)
        return _Node(t, (self,), (1.0 - t * t,))

    __radd__ = __add__
    __rmul__ = __mul__


def _named(node, label):
    node.label = label
    return node


def _reachable(root):
    seen, stack = {id(root): root}, [root]
    while stack:
        for child in stack.pop().children:
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return seen


def _reference_order(root):
    """Children before parents: an iterative post-order depth-first search."""
    order, done, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in done:
            done.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.children))
    return order


def _bfs_order(root):
    order, seen = [root], {id(root)}
    for node in order:
        for child in node.children:
            if id(child) not in seen:
                seen.add(id(child))
                order.append(child)
    return order


def _run_backward(root, order, assign=False, forward=False, zero=True, seed=True):
    """The reference backward pass, and its usual bugs (to name them in feedback)."""
    if zero:
        for node in order:
            node.grad = 0.0
    if seed:
        root.grad = 1.0
    for node in (order if forward else reversed(order)):
        for child, local in zip(node.children, node.local_grads):
            if assign:
                child.grad = local * node.grad
            else:
                child.grad += local * node.grad


# -- the graphs -------------------------------------------------------------------------------


def make_reuse():
    """b = a + a, c = b * b at a = 3 (each value used twice): dc/da = 24."""
    a = _Node(3.0, label="a")
    b = _named(a + a, "b")
    c = _named(b * b, "c")
    return c, (a, b, c)


def make_diamond():
    """b = 2a, c = b + 1, d = b * c at a = 3 (b has two consumers): dd/da = 26."""
    a = _Node(3.0, label="a")
    b = _named(a * 2.0, "b")
    c = _named(b + 1.0, "c")
    d = _named(b * c, "d")
    return d, (a, b, c, d)


XS, YS = [1.0, -0.5, 2.0], [0.8, -0.2, 0.9]


def make_batch_neuron():
    """L = (1/N) sum_i (tanh(w x_i + b) - y_i)^2: w and b are used by every example."""
    w, b = _Node(0.3, label="w"), _Node(-0.2, label="b")
    terms = [((w * x + b).tanh() - y) ** 2 for x, y in zip(XS, YS)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    loss = _named(total * (1.0 / len(XS)), "L")
    return loss, (w, b, loss)


def make_neuron():
    """The lesson's neuron o = tanh(x1 w1 + x2 w2 + b): every node used once."""
    x1, x2 = _Node(2.0, label="x1"), _Node(0.0, label="x2")
    w1, w2 = _Node(-3.0, label="w1"), _Node(1.0, label="w2")
    b = _Node(6.8813735870195432, label="b")
    n = _named(_named(x1 * w1, "x1w1") + _named(x2 * w2, "x2w2"), "s") + b
    return _named(_named(n, "n").tanh(), "o"), (x1, x2, w1, w2, b)


def make_chain(depth=5000):
    x = _Node(1.0, label="x")
    node = x
    for _ in range(depth):
        node = node * 1.0001
    return node, (x,)


def make_wide():
    """One node with four children, two of them leaves shared with a deeper branch."""
    a, b = _Node(1.0, label="a"), _Node(2.0, label="b")
    c = _named(a * b, "c")
    d = _named(c + a, "d")
    e = _Node(sum(n.data for n in (a, b, c, d)), (d, a, c, b), (1.0, 1.0, 1.0, 1.0), "e")
    return e, (a, b, c, d, e)


# -- part 1: central difference ------------------------------------------------------------


def _cubic(x):
    return x * x * x - 2 * x + 1


_OVER_2_TIMES_H = "/ 2 * h, which Python reads as ((f(x+h) - f(x-h)) / 2) * h: write / (2 * h)"


@part("ex03_central_difference", points=2)
def central_difference_part(t, central_difference_fn):
    """a central difference"""
    x, h = 1.5, 0.1
    t.close("f(x) = x^3 - 2x + 1 at x = 1.5 with h = 0.1",
            lambda: central_difference_fn(_cubic, x, h),
            central_difference(_cubic, x, h), rtol=1e-9, mistakes={
                "a forward difference (f(x+h) - f(x)) / h instead of the central one":
                    (_cubic(x + h) - _cubic(x)) / h,
                "a backward difference (f(x) - f(x-h)) / h instead of the central one":
                    (_cubic(x) - _cubic(x - h)) / h,
                "a central difference divided by h instead of 2h":
                    (_cubic(x + h) - _cubic(x - h)) / h,
                "the h argument ignored (a fixed small step used instead of h = 0.1)":
                    3 * x * x - 2,
                _OVER_2_TIMES_H: (_cubic(x + h) - _cubic(x - h)) / 2 * h,
            })
    t.close("f(x) = x^3 at x = 1 with h = 0.5 gives 3 + h^2 = 3.25",
            lambda: central_difference_fn(lambda v: v ** 3, 1.0, 0.5), 3.25, rtol=1e-9,
            mistakes={
                "a forward difference (f(x+h) - f(x)) / h instead of the central one": 4.75,
                "a central difference divided by h instead of 2h": 6.5,
                "the h argument ignored (a fixed small step used instead of h = 0.5)": 3.0,
                _OVER_2_TIMES_H: 3.25 * 0.5 ** 2,
            })
    t.close("sin at x = 1 with the default h: within 1e-9 of cos(1)",
            lambda: central_difference_fn(math.sin, 1.0), math.cos(1.0), rtol=0, atol=1e-9,
            mistakes={
                "a forward difference (f(x+h) - f(x)) / h instead of the central one":
                    (math.sin(1.0 + 1e-6) - math.sin(1.0)) / 1e-6,
                "a central difference divided by h instead of 2h": 2 * math.cos(1.0),
                _OVER_2_TIMES_H: (math.sin(1.0 + 1e-6) - math.sin(1.0 - 1e-6)) / 2 * 1e-6,
            })


# -- parts 2 and 3: local derivatives of MyValue ----------------------------------------------


def _local(out, *inputs):
    """[out.data, d out/d input for each input]: the local gradients of all the children that
    are that input, added up (so a * a, with a twice among the children, gives 2a)."""
    children, local_grads = tuple(out.children), tuple(out.local_grads)
    assert len(children) == len(local_grads), (
        f"{len(children)} children but {len(local_grads)} local_grads: one local derivative "
        "per child")
    missing = [i for i, x in enumerate(inputs) if not any(c is x for c in children)]
    assert not missing, "the result's children must include the MyValues it was computed from"
    return [float(out.data)] + [float(sum(g for c, g in zip(children, local_grads) if c is x))
                                for x in inputs]


@part("ex03_value_ops", points=3)
def value_ops_part(t, MyValue):
    """the local derivatives of +, * and ** in MyValue"""
    def binary(op, x, y, same=False):
        def run():
            a = MyValue(x)
            b = a if same else MyValue(y)
            out = op(a, b)
            return _local(out, a) if same else _local(out, a, b)
        return run

    t.close("c = a * b at a = 2, b = -3: [c, dc/da, dc/db]",
            binary(lambda a, b: a * b, 2.0, -3.0), [-6.0, -3.0, 2.0], mistakes={
                "each factor's own value as its local derivative: the local derivative of a "
                "product is the OTHER factor": [-6.0, 2.0, -3.0],
                "the local derivatives of a sum (1, 1) for a product": [-6.0, 1.0, 1.0],
            })
    t.close("c = a + b at a = 2, b = -3: [c, dc/da, dc/db]",
            binary(lambda a, b: a + b, 2.0, -3.0), [-1.0, 1.0, 1.0], mistakes={
                "the local derivatives of a product for a sum": [-1.0, -3.0, 2.0],
            })
    t.close("c = a * a at a = 3 (a is both children): [c, dc/da]",
            binary(lambda a, b: a * b, 3.0, None, same=True), [9.0, 6.0])
    t.close("c = a * 4.0 (a number is wrapped in a MyValue) at a = 2.5: [c, dc/da]",
            lambda: _with_number(MyValue, 2.5),
            [10.0, 4.0])
    t.close("c = a ** 3 at a = 2: [c, dc/da]",
            lambda: _power(MyValue, 2.0, 3), [8.0, 12.0], mistakes={
                "k * a**k instead of k * a**(k - 1)": [8.0, 24.0],
                "a**(k - 1) without the factor k": [8.0, 4.0],
            })
    t.close("c = a ** -1 at a = 4: [c, dc/da]",
            lambda: _power(MyValue, 4.0, -1), [0.25, -1 / 16], mistakes={
                "k * a**k instead of k * a**(k - 1)": [0.25, -0.25],
            })


def _with_number(MyValue, x):
    a = MyValue(x)
    return _local(a * 4.0, a)


def _power(MyValue, x, k):
    a = MyValue(x)
    return _local(a ** k, a)


@part("ex03_value_functions", points=2)
def value_functions_part(t, MyValue):
    """the local derivatives of tanh, exp and relu in MyValue"""
    def unary(method, x):
        def run():
            a = MyValue(x)
            return _local(getattr(a, method)(), a)
        return run

    for x in (0.5, -2.0):
        th = math.tanh(x)
        t.close(f"tanh at a = {x:g}: [tanh(a), d/da]", unary("tanh", x), [th, 1 - th * th],
                mistakes={
                    "1 - a**2 from the input a instead of 1 - tanh(a)**2 from the output":
                        [th, 1 - x * x],
                    "tanh(a) * (1 - tanh(a)), the sigmoid's formula, for tanh":
                        [th, th * (1 - th)],
                    "1 - tanh(a) without the square": [th, 1 - th],
                })
    for x in (1.0, -0.5):
        e = math.exp(x)
        t.close(f"exp at a = {x:g}: [exp(a), d/da]", unary("exp", x), [e, e], mistakes={
            "the power rule a * exp(a - 1) for exp": [e, x * math.exp(x - 1)],
            "1 as the local derivative of exp": [e, 1.0],
        })
    t.close("relu at a = 2, -2 and 0: [relu(a), d/da] for each",
            lambda: unary("relu", 2.0)() + unary("relu", -2.0)() + unary("relu", 0.0)(),
            [2.0, 1.0, 0.0, 0.0, 0.0, 0.0], mistakes={
                "the ReLU's output as its local derivative": [2.0, 2.0, 0.0, 0.0, 0.0, 0.0],
                "local derivative 1 at the kink a = 0 (the convention, as in PyTorch and "
                "Value, is 0: use a > 0)": [2.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            })


# -- part 4: topological sort ---------------------------------------------------------------


def _order_problem(order, root):
    """Why ``order`` is not a topological order of the graph under ``root`` (None if it is)."""
    if not isinstance(order, (list, tuple)):
        return f"expected a list of nodes, got a {type(order).__name__}"
    reachable = _reachable(root)
    ids = [id(node) for node in order]
    listed = set(ids)
    if len(listed) != len(ids):
        counts = Counter(ids)
        twice = next(node for node in order if counts[id(node)] > 1)
        return (f"{twice!r} appears {counts[id(twice)]} times: each node must be listed "
                "once (keep a set of visited nodes)")
    missing = [node for key, node in reachable.items() if key not in listed]
    if missing:
        return f"{len(missing)} of the {len(reachable)} nodes are missing, e.g. {missing[0]!r}"
    extra = [node for node in order if id(node) not in reachable]
    if extra:
        return f"{len(extra)} entries are not nodes of this graph, e.g. {extra[0]!r}"
    if order and order[0] is root and len(order) > 1:
        return ("the root comes first: this is parents before children (the reversed order); "
                "return children before parents, the backward pass reverses it")
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for child in node.children:
            if position[id(child)] > position[id(node)]:
                hint = ""
                if [id(n) for n in reversed(_bfs_order(root))] == ids:
                    hint = " (this is a reversed breadth-first order: use a depth-first " \
                           "post-order, appending a node after all of its children)"
                return f"{node!r} comes before its child {child!r}{hint}"
    if order[-1] is not root:
        return "the root should come last, after everything it was computed from"
    return None


def _sorts(topological_sort, make):
    def run():
        root, _ = make()
        try:
            order = topological_sort(root)
        except RecursionError:
            raise AssertionError("RecursionError: Python's recursion limit is about 1000 calls; "
                                 "use a loop with an explicit stack instead of recursion") from None
        problem = _order_problem(order, root)
        assert problem is None, problem
        return True
    return run


@part("ex03_topological_sort", points=3)
def topological_sort_part(t, topological_sort):
    """a topological sort (iterative)"""
    hint = "not a topological order"
    t.true("the neuron o = tanh(x1 w1 + x2 w2 + b): 10 nodes, children first",
           _sorts(topological_sort, make_neuron), hint)
    t.true("the diamond b = 2a, c = b + 1, d = b * c: b has two consumers",
           _sorts(topological_sort, make_diamond), hint)
    t.true("c = (a + a) * (a + a): repeated children, each node listed once",
           _sorts(topological_sort, make_reuse), hint)
    t.true("a node with four children, two of them shared with a deeper branch",
           _sorts(topological_sort, make_wide), hint)
    t.true("a single leaf: [leaf]", _sorts(topological_sort, lambda: (_Node(1.0, label="x"), ())),
           hint)
    t.true("a chain 5000 operations deep, without a RecursionError",
           _sorts(topological_sort, make_chain), hint)


# -- part 5: backward ---------------------------------------------------------------------


def _grads_after(backward, make, prepare=None):
    """Build a graph, run ``backward(root, order)`` on it, return the gradients of its nodes."""
    def run():
        root, nodes = make()
        order = _reference_order(root)
        if prepare:
            prepare(order)
        backward(root, order)
        return [node.grad for node in nodes]
    return run


def _buggy_grads(make, prepare=None, **bug):
    root, nodes = make()
    order = _reference_order(root)
    if prepare:
        prepare(order)
    _run_backward(root, order, **bug)
    return [node.grad for node in nodes]


def _stale(order):
    for node in order:
        node.grad = 7.0  # left over from an earlier pass


_ASSIGN = "gradients assigned with = instead of accumulated (+=): a reused node keeps only " \
          "its last contribution"
_FORWARD = "the nodes visited children first (the topological order itself) instead of in " \
           "reverse: iterate over reversed(order)"
_NO_SEED = "the root's gradient not set to 1 before the pass (d root / d root = 1)"
_NO_ZERO = "the gradients not reset to 0 before the pass (left-over values were added to)"


def _backward_mistakes(make, prepare=None):
    mistakes = {
        _ASSIGN: lambda: _buggy_grads(make, prepare, assign=True),
        _FORWARD: lambda: _buggy_grads(make, prepare, forward=True),
        _NO_SEED: lambda: _buggy_grads(make, prepare, seed=False),
    }
    if prepare:
        mistakes[_NO_ZERO] = lambda: _buggy_grads(make, prepare, zero=False)
    return mistakes


@part("ex03_backward", points=3)
def backward_part(t, backward):
    """the backward pass: the chain rule in reverse topological order, accumulating"""
    t.close("c = (a + a) * (a + a) at a = 3: [dc/da, dc/db, dc/dc] = [24, 12, 1]",
            _grads_after(backward, make_reuse), [24.0, 12.0, 1.0],
            mistakes=_backward_mistakes(make_reuse))
    t.close("d = b * c with b = 2a, c = b + 1 at a = 3: [dd/da, dd/db, dd/dc, dd/dd]",
            _grads_after(backward, make_diamond), [26.0, 13.0, 6.0, 1.0],
            mistakes=_backward_mistakes(make_diamond))
    t.close("a tanh neuron's mean squared error over 3 examples: [dL/dw, dL/db, dL/dL]",
            _grads_after(backward, make_batch_neuron), _buggy_grads(make_batch_neuron),
            mistakes=_backward_mistakes(make_batch_neuron))
    t.close("c = (a + a) * (a + a) again, with every .grad at 7 beforehand: reset first",
            _grads_after(backward, make_reuse, _stale), [24.0, 12.0, 1.0],
            mistakes=_backward_mistakes(make_reuse, _stale))


# -- part 6: a gradient-descent step ------------------------------------------------------------

GD_X, GD_Y = [-1.5, -0.5, 0.5, 2.0], [-0.9, -0.6, 0.1, 0.95]


def _descend(params, outputs, targets, lr, steps, sign=-1.0, mean=True, zero=True,
             update=True, frozen=()):
    """``steps`` steps of gradient descent on the mean squared error of ``outputs()`` (a list
    of Values, a new graph per call) against ``targets``, with the usual bugs as options;
    returns the loss of the last step. Parameters in ``frozen`` are never updated."""
    loss_value = None
    for _ in range(steps):
        if zero:
            for p in params:
                p.grad = 0.0
        terms = [(o - t) ** 2 for o, t in zip(outputs(), targets)]
        loss = Value.sum(terms) / (len(targets) if mean else 1)
        loss.backward()
        if update:
            for p in params:
                if not any(p is q for q in frozen):
                    p.data += sign * lr * p.grad
        loss_value = loss.data
    return loss_value


def _gd_reference(w0, b0, lr, steps=1, grads=(0.0, 0.0), **bug):
    """Steps of gradient descent with backproplab.Value; returns [loss of the last step, w, b]."""
    w, b = Value(w0), Value(b0)
    w.grad, b.grad = grads
    loss = _descend((w, b), lambda: [(w * x + b).tanh() for x in GD_X], GD_Y, lr, steps, **bug)
    return [loss, w.data, b.data]


def _gd_run(gd_step, w0, b0, lr, steps=1, grads=(0.0, 0.0)):
    def run():
        w, b = Value(w0, label="w"), Value(b0, label="b")
        w.grad, b.grad = grads
        loss = None
        for _ in range(steps):
            loss = gd_step(w, b, list(GD_X), list(GD_Y), lr)
        if isinstance(loss, Value):
            raise TypeError("gd_step returned the loss as a Value: return loss.data, a float")
        return [loss, w.data, b.data]
    return run


def _descent_mistakes(reference, not_updated):
    """The usual bugs of a gradient-descent step, each computed by ``reference(**bug)``."""
    def bug(**kwargs):
        return lambda: reference(**kwargs)
    return {
        "a step along the gradient (p.data += lr * p.grad) instead of against it":
            bug(sign=1.0),
        "the summed squared error instead of the mean (a forgotten 1/N)": bug(mean=False),
        "the gradients not zeroed before backward(): each step used the sum of all "
        "gradients so far": bug(zero=False),
        not_updated: bug(update=False),
    }


def _gd_mistakes(w0, b0, lr, steps=1, grads=(0.0, 0.0)):
    return _descent_mistakes(lambda **bug: _gd_reference(w0, b0, lr, steps, grads, **bug),
                             "w.data and b.data not updated")


@part("ex03_gd_step", points=2)
def gd_step_part(t, gd_step):
    """a gradient-descent step on a Value neuron"""
    t.close("one step from w = 0.1, b = 0, lr = 0.5: [loss, w, b]", _gd_run(gd_step, 0.1, 0.0, 0.5),
            _gd_reference(0.1, 0.0, 0.5), mistakes=_gd_mistakes(0.1, 0.0, 0.5))
    grads = (5.0, -5.0)
    t.close("one step with w.grad = 5, b.grad = -5 left over from before: [loss, w, b]",
            _gd_run(gd_step, 0.1, 0.0, 0.5, grads=grads),
            _gd_reference(0.1, 0.0, 0.5, grads=grads),
            mistakes=_gd_mistakes(0.1, 0.0, 0.5, grads=grads))
    t.close("20 steps from w = -1, b = 0.5, lr = 0.3: [last loss, w, b]",
            _gd_run(gd_step, -1.0, 0.5, 0.3, steps=20), _gd_reference(-1.0, 0.5, 0.3, steps=20),
            mistakes=_gd_mistakes(-1.0, 0.5, 0.3, steps=20))


# -- part 7: a training step of a network of Values ---------------------------------------------

MLP_X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8], [0.1, 0.1], [2.0, -0.5], [-1.2, -0.3]]
MLP_T = [1.0, -1.0, 1.0, -1.0, -1.0, 1.0]


def _mlp(sizes, seed, grads):
    model = ValueMLP(sizes, seed=seed)
    for p in model.parameters():
        p.grad = grads
    return model


def _mlp_state(loss, model):
    return [loss, *(p.data for p in model.parameters())]


def _mlp_reference(sizes, seed, lr, steps=1, grads=0.0, tanh=True, biases=True, **bug):
    """[loss of the last step, every parameter after it] of the reference training."""
    model = _mlp(sizes, seed, grads)
    frozen = () if biases else [bias for layer in model.layers for _, bias in layer]
    outputs = (lambda: [model(x)[0].tanh() for x in MLP_X]) if tanh \
        else (lambda: [model(x)[0] for x in MLP_X])
    loss = _descend(model.parameters(), outputs, MLP_T, lr, steps, frozen=frozen, **bug)
    return _mlp_state(loss, model)


def _mlp_run(mlp_step, sizes, seed, lr, steps=1, grads=0.0):
    def run():
        model = _mlp(sizes, seed, grads)
        loss = None
        for _ in range(steps):
            loss = mlp_step(model, [list(x) for x in MLP_X], list(MLP_T), lr)
        if isinstance(loss, Value):
            raise TypeError("mlp_step returned the loss as a Value: return loss.data, a float")
        return _mlp_state(loss, model)
    return run


def _mlp_mistakes(sizes, seed, lr, steps=1, grads=0.0):
    def reference(**bug):
        return _mlp_reference(sizes, seed, lr, steps, grads, **bug)
    return {**_descent_mistakes(reference, "the parameters not updated"),
            "the tanh on the network's output forgotten": lambda: reference(tanh=False),
            "the biases not updated (only the weights)": lambda: reference(biases=False)}


@part("ex03_mlp_step", points=3)
def mlp_step_part(t, mlp_step):
    """a training step of a network made of Values"""
    for name, sizes, seed, lr, steps, grads in [
            ("one step of a 2-4-1 network on 6 points, lr = 0.5", (2, 4, 1), 3, 0.5, 1, 0.0),
            ("one step with every p.grad at 1.0 left over from before", (2, 4, 1), 4, 0.5, 1,
             1.0),
            ("10 steps of a 2-3-3-1 network, lr = 0.3", (2, 3, 3, 1), 5, 0.3, 10, 0.0)]:
        t.close(f"{name}: [loss, every parameter after the step]",
                _mlp_run(mlp_step, sizes, seed, lr, steps, grads),
                _mlp_reference(sizes, seed, lr, steps, grads),
                mistakes=_mlp_mistakes(sizes, seed, lr, steps, grads))
