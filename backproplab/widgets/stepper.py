"""``backprop_stepper()``: the backward pass of a ``Value`` expression, one node at a time.

The explorer does the chain rule itself, from each node's ``children`` and ``local_grads``
(what the forward pass stored), in reverse topological order: a node's gradient is the sum,
over the nodes that use it, of (their gradient) × (their local derivative with respect to
it). When the last node is done, the result is compared with ``Value.backward()``.
"""

from __future__ import annotations

import html
import math

from ..scalar import Value
from ._base import Explorer, button, fmt

__all__ = ["backprop_stepper", "BackpropStepper", "default_expression", "backward_steps"]


def default_expression():
    """The tanh neuron o = tanh(x1·w1 + x2·w2 + b) (inputs 2, 0; weights -3, 1;
    b = 6.8813735870195432, so that n = 0.8814 and o = 0.7071), every node labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "x1w1+x2w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def _names(order):
    """A display name per node: its label, or t1, t2, ... for unlabelled intermediates."""
    names, used, k = {}, {v.label for v in order if v.label}, 0
    for v in order:
        if v.label:
            names[v] = v.label
            continue
        k += 1
        while f"t{k}" in used:
            k += 1
        names[v] = f"t{k}"
    return names


def local_formula(parent, index, names):
    """The local derivative d parent / d children[index] as a formula in node names."""
    op, kids = parent.op, parent.children
    child = kids[index]
    c = names[child]
    p = names[parent]
    other = names[kids[1 - index]] if len(kids) == 2 else None
    local = parent.local_grads[index]
    if op in ("+", "sum"):
        return "1"
    if op == "-":
        return fmt(local)
    if op == "neg":
        return "-1"
    if op == "*":
        return other if other is not None else f"{fmt(local)} (a constant factor)"
    if op == "/":
        if other is not None:
            return f"1/{other}" if index == 0 else f"-{other}/{c}^2"
        if math.isclose(parent.data, child.data * local):  # child / constant
            return f"1/{fmt(1.0 / local)}" if local else "0"
        return f"-{fmt(parent.data * child.data)}/{c}^2"  # constant / child
    if op.startswith("**"):
        k = float(op[2:])
        return f"{k:g}·{c}^{k - 1:g}"
    if op == "exp":
        return f"exp({c}) = {p}"
    if op == "log":
        return f"1/{c}"
    if op == "tanh":
        return f"1 - tanh({c})^2 = 1 - {p}^2"
    if op == "sigmoid":
        return f"σ({c})·(1 - σ({c})) = {p}·(1 - {p})"
    if op == "relu":
        return f"1 if {c} > 0 else 0"
    return f"(local derivative of {op})"


def backward_steps(root):
    """The backward pass as a list of steps, root first (reverse topological order).

    Each step is a dict: ``node``, ``name``, ``grad`` (d root / d node), and ``terms``, one
    per use of the node: (parent, index in parent's children, parent's grad, local derivative).
    Computed with the chain rule from ``children``/``local_grads`` only.
    """
    order = root.topological_order()
    uses = {v: [] for v in order}
    for parent in order:
        for i, (child, local) in enumerate(zip(parent.children, parent.local_grads)):
            uses[child].append((parent, i, local))
    grads, steps = {}, []
    for node in reversed(order):
        if node is root:
            grad, terms = 1.0, []
        else:
            terms = [(p, i, grads[p], local) for p, i, local in uses[node]]
            grad = sum(g * local for _, _, g, local in terms)
        grads[node] = grad
        steps.append({"node": node, "grad": grad, "terms": terms})
    return steps


class BackpropStepper(Explorer):
    """Walk the backward pass of ``expr`` with Next / Back / Reset.

    ``values``: ``step`` (nodes done, 0..``n_steps``), ``n_steps``, ``current`` (name of
    the node just computed, or None), ``grads`` (name -> grad of the nodes done so far),
    ``text`` (the chain-rule explanation of the step), ``reference`` (name -> grad from
    ``Value.backward()``), ``matches_backward`` (at the last step: every grad equals
    backward()'s; None before).
    """

    name = "backprop-stepper"
    title = "Backpropagation, one node at a time"
    question = ("before each Next, say the number: the node's gradient is (the gradient of "
                "the node that uses it) × (the local derivative on the edge between them).")
    look_for = ("a + node passes its gradient on unchanged, a × node multiplies it by the "
                "other input, and a node used twice adds up both contributions.")
    live = True
    figsize = (9.6, 4.0)
    dpi = 100  # the node boxes hold small text

    def __init__(self, expr=None):
        self.root = default_expression() if expr is None else expr
        if not isinstance(self.root, Value):
            raise TypeError(f"backprop_stepper needs a Value expression, got "
                            f"{type(self.root).__name__}")
        self.steps = backward_steps(self.root)
        self.order = self.root.topological_order()
        self.names = _names(self.order)
        self.reference = self._reference_grads()
        self.step = 0
        super().__init__()

    def _reference_grads(self):
        """d root / d node for every node, by ``Value.backward()`` (``.grad`` left as found)."""
        before = {v: v.grad for v in self.order}
        self.root.backward()
        ref = {self.names[v]: v.grad - before[v] for v in self.order}
        for v in self.order:
            v.grad = before[v]
        return ref

    def make_controls(self):
        controls = {"back": button("◀ Back", tooltip="undo the last step"),
                    "next": button("Next ▶", tooltip="compute the next node's gradient"),
                    "reset": button("Reset", tooltip="back to the start")}
        controls["next"].on_click(lambda _: self.go(self.step + 1))
        controls["back"].on_click(lambda _: self.go(self.step - 1))
        controls["reset"].on_click(lambda _: self.go(0))
        return controls

    @property
    def n_steps(self):
        return len(self.steps)

    def go(self, step):
        """Show the state after ``step`` nodes (clipped to 0..n_steps) and redraw."""
        self.step = max(0, min(int(step), self.n_steps))
        return self.update()

    def step_text(self, k):
        """The chain-rule explanation of step ``k`` (1-based), as plain text lines."""
        if k == 0:
            return [f"Forward pass done: {self.names[self.root]} = {fmt(self.root.data)}. "
                    "Press Next to start the backward pass at the output."]
        s = self.steps[k - 1]
        name = self.names[s["node"]]
        if not s["terms"]:
            return [f"d {name}/d {name} = 1: the output's gradient starts the pass; "
                    f"{name}.grad = 1"]
        lines, products = [], []
        for parent, i, g, local in s["terms"]:
            p = self.names[parent]
            formula, value = local_formula(parent, i, self.names), fmt(local)
            # "d n/d s = 1", not "= 1 = 1": show the number only when the formula is not one
            lines.append(f"d {p}/d {name} = {formula}" + ("" if formula == value else f" = {value}"))
            products.append((p, g, local))
        symbolic = " + ".join(f"{p}.grad × d {p}/d {name}" for p, _, _ in products)
        numbers = " + ".join(f"{fmt(g)} × {fmt(local)}" for _, g, local in products)
        lines.append(f"{name}.grad = {symbolic} = {numbers} = {fmt(s['grad'])}")
        if len(products) > 1:
            lines.append(f"({name} is used {len(products)} times: the contributions add up)")
        return lines

    def compute(self):
        k = self.step
        done = self.steps[:k]
        grads = {self.names[s["node"]]: s["grad"] for s in done}
        current = self.names[done[-1]["node"]] if done else None
        matches = None
        if k == self.n_steps:
            matches = all(math.isclose(grads[n], self.reference[n], rel_tol=1e-12, abs_tol=1e-12)
                          for n in grads)
        return {"step": k, "n_steps": self.n_steps, "current": current, "grads": grads,
                "text": "\n".join(self.step_text(k)), "reference": dict(self.reference),
                "matches_backward": matches}

    def state(self):
        return {"step": self.step}

    def highlight(self):
        """What step ``self.step`` highlights: the node just computed and the edges its
        gradient came through (each labelled with d parent/d node); None at step 0."""
        if not self.step:
            return None
        s = self.steps[self.step - 1]
        return [s["node"]] + [(s["node"], p) for p, *_ in s["terms"]]

    def scene(self):
        return self.step > 0  # the legend names "highlighted" once something is

    def build(self, fig):
        from ..plotting import draw_graph

        ax = fig.add_subplot(1, 1, 1)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.06, top=0.86)
        _, self._graph = draw_graph(self.root, highlight=self.highlight(), ax=ax, title=" ",
                                    return_artists=True)
        self.moving(ax.title)

    def refresh(self):
        # The background is the graph before the backward pass: nothing highlighted, every
        # gradient "?". Each step draws over it only what differs (draw_over).
        v = self.values
        self._graph.highlight(None)
        self._graph.show_grads({})
        self.fig.axes[0].set_title(
            f"step {v['step']} of {v['n_steps']}: {v['current']}.grad = "
            f"{fmt(v['grads'][v['current']])}" if v["current"] else
            f"step 0 of {v['n_steps']}: forward pass done, no gradients yet", pad=22)

    def draw_over(self, renderer):
        """The nodes done so far (their boxes with the gradient), and the highlighted node,
        operation and edges: each drawn over its look in the background, which it covers."""
        g = self._graph
        done = [s["node"] for s in self.steps[:self.step]]
        hot = g.highlight(self.highlight())
        g.show_grads({node: s["grad"] for node, s in zip(done, self.steps)})
        over = hot + [g.boxes[n] for n in done]
        over += [g.op_texts[n] for n, c in g.circles.items() if c in hot]
        over += [t for n in done for t in (g.labels[n], g.values[n]) if t is not None]
        for artist in sorted(dict.fromkeys(over), key=lambda a: a.get_zorder()):
            artist.draw(renderer)

    def readout_html(self):
        v = self.values
        lines = [html.escape(line) for line in v["text"].split("\n")]
        if v["matches_backward"] is not None:
            ok = v["matches_backward"]
            lines.append(f"<span style='color:{'#060' if ok else '#b00'}'><b>"
                         + ("✓ every gradient equals what o.backward() computes"
                            .replace("o.backward", f"{self.names[self.root]}.backward")
                            if ok else "✗ differs from Value.backward()") + "</b></span>")
        return ("<div class='bpl-value' style='font-family:monospace; white-space:pre-wrap'>"
                + "<br>".join(lines) + "</div>")

    def control_rows(self):
        c = self.controls
        return [[c["back"], c["next"], c["reset"]]]


def backprop_stepper(expr=None):
    """Next / Back / Reset through the backward pass of a ``Value`` expression; returns
    the widget.

    ``expr`` defaults to the tanh neuron o = tanh(x1·w1 + x2·w2 + b) (x1=2, x2=0, w1=-3,
    w2=1, b=6.8813735870195432). Each step computes one node's gradient with the chain rule
    and explains it; the graph highlights that node and shows only the gradients known so
    far. ``widget.explorer`` is the :class:`BackpropStepper`.
    """
    return BackpropStepper(expr).widget
