"""Draw the computational graph of a scalar :class:`~backproplab.scalar.Value` expression.

Layout: left to right by *depth*, the longest path from a leaf (leaves at depth 0, the
output rightmost). Every value is a box showing its label, data and grad; the operation that
produced it is a circle just left of its box, with arrows from the operation's inputs. Within
a column, nodes are ordered by the mean height of their neighbours (a few "barycenter"
sweeps), which removes most edge crossings.

``highlight`` emphasises a node or an edge ``(child, parent)``, so a stepper can walk the
backward pass: the highlighted edge carries the local derivative d(parent)/d(child), the
factor the chain rule multiplies by.
"""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

from ..scalar import Value
from . import _style as st

__all__ = ["draw_graph", "graph_layout", "GraphArtists", "node_text"]

COL = 2.5  # horizontal distance between depths
ROW = 1.0  # vertical distance between nodes of a column
BOX_W, BOX_H = 1.3, 0.7  # value boxes
OP_R = 0.25  # radius of an operation circle
OP_DX = BOX_W / 2 + 0.14 + OP_R  # operation circle centre, left of its value box
SWEEPS = 4

LEAF_FILL = st.light(st.OKABE_ITO["sky"], 0.7)
ROOT_FILL = st.light(st.OKABE_ITO["orange"], 0.6)
NODE_FILL = "white"
EDGE = "0.45"

OP_TEXT = {"*": "\u00d7", "/": "\u00f7", "-": "\u2212", "sigmoid": "\u03c3", "sum": "\u03a3",
           "neg": "\u2212x", "relu": "ReLU"}


def _structure(root):
    """Nodes (children before parents), depth of each, and the parents of each."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph needs a Value, got {type(root).__name__}")
    order = root.topological_order()
    depth, parents = {}, {node: [] for node in order}
    for node in order:
        kids = node.children
        depth[node] = 1 + max(depth[c] for c in kids) if kids else 0
        for c in dict.fromkeys(kids):  # a * a: one edge
            parents[c].append(node)
    return order, depth, parents


def _decreasing_fit(values):
    """Least-squares fit of ``values`` by a non-increasing sequence (pool adjacent violators)."""
    blocks = []  # [sum, count]
    for v in values:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] < blocks[-1][0] * blocks[-2][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    return [total / count for total, count in blocks for _ in range(count)]


def _layout(root):
    """Column and height of every node, and the route of every edge.

    A Sugiyama-style layered drawing:

    1. columns: a node's depth (longest path from a leaf); a leaf sits just left of its
       first consumer (a bias ``b`` next to its ``+``, not far away in column 0);
    2. an edge spanning several columns gets a placeholder in each column it crosses, so
       it runs in a free lane instead of behind other boxes;
    3. order within columns by the mean height of the neighbours (barycenter sweeps, which
       remove most crossings), then move nodes towards their neighbours' height with at
       least ROW between them (straight edges).

    Returns (order, {node: (x, y)}, {(child, parent): [(x, y) of the lane points]}).
    """
    order, depth, parents = _structure(root)
    column = {n: depth[n] if n.children or not parents[n]
              else min(depth[p] for p in parents[n]) - 1 for n in order}
    columns, left, right, lanes = {}, {}, {}, {}
    for node in order:  # creation order within each column to start with
        columns.setdefault(column[node], []).append(node)
    for i, (c, p) in enumerate((c, p) for p in order for c in dict.fromkeys(p.children)):
        lanes[(c, p)] = [("lane", i, k) for k in range(column[c] + 1, column[p])]
        chain = [c, *lanes[(c, p)], p]
        for k, item in enumerate(lanes[(c, p)]):
            columns[column[c] + 1 + k].append(item)
        for a, b in zip(chain, chain[1:]):
            right.setdefault(a, []).append(b)
            left.setdefault(b, []).append(a)
    cols = [columns[d] for d in sorted(columns)]
    y = {}

    def mean_height(item, neighbours):
        ys = [y[m] for m in neighbours.get(item, ())]
        return sum(ys) / len(ys) if ys else y[item]

    def stack(items):
        for i, item in enumerate(items):
            y[item] = ((len(items) - 1) / 2 - i) * ROW

    def reorder(items, neighbours):
        items.sort(key=lambda item: -mean_height(item, neighbours))  # stable: ties keep order
        stack(items)

    def straighten(items, neighbours):
        # y[i] - y[i+1] >= ROW  <=>  q[i] = y[i] + i ROW is non-increasing
        q = _decreasing_fit([mean_height(it, neighbours) + i * ROW
                             for i, it in enumerate(items)])
        for i, item in enumerate(items):
            y[item] = q[i] - i * ROW

    for items in cols:
        stack(items)
    for arrange in (reorder, straighten):
        for _ in range(SWEEPS):
            for items in cols[1:]:
                arrange(items, left)
            for items in cols[-2::-1]:
                arrange(items, right)
    positions = {n: (column[n] * COL, round(y[n], 9)) for n in order}
    routes = {(c, p): [((column[c] + 1 + k) * COL, round(y[it], 9)) for k, it in enumerate(items)]
              for (c, p), items in lanes.items()}
    return order, positions, routes


def graph_layout(value):
    """``{node: (x, y)}``: the centre of every value box of ``value``'s graph.

    x is a column times COL, every child strictly left of its parents (non-leaf nodes at
    their depth, the longest path from a leaf; leaves just left of their first use); the
    operation circle of a node sits at ``(x - OP_DX, y)``. Deterministic: the same
    expression always gets the same picture.
    """
    return _layout(value)[1]


def _as_highlights(highlight):
    """(set of highlighted nodes, set of highlighted (child, parent) edges)."""
    nodes, edges = set(), set()
    if highlight is None:
        return nodes, edges
    if isinstance(highlight, Value):
        return {highlight}, edges
    if (isinstance(highlight, tuple) and len(highlight) == 2
            and all(isinstance(h, Value) for h in highlight)
            and any(c is highlight[0] for c in highlight[1].children)):
        return nodes, {highlight}
    try:
        items = list(highlight)
    except TypeError:
        raise TypeError("highlight must be a Value, an edge (child, parent), or a list of "
                        f"them; got {type(highlight).__name__}") from None
    for item in items:
        n, e = _as_highlights(item)
        nodes |= n
        edges |= e
    return nodes, edges


def _known_highlights(highlight, nodes):
    """``_as_highlights``, refusing nodes that are not in ``nodes`` (the graph's)."""
    hl_nodes, hl_edges = _as_highlights(highlight)
    if any(n not in nodes for n in hl_nodes | {e for edge in hl_edges for e in edge}):
        raise ValueError("highlight refers to a node that is not in this graph")
    return hl_nodes, hl_edges


def _arrow(ax, points, color, lw, gid=None, zorder=2):
    """An arrow along the polyline ``points`` (head at the last point)."""
    arrow = FancyArrowPatch(path=Path(points), arrowstyle="-|>", mutation_scale=9 + 2 * lw,
                            color=color, lw=lw, shrinkA=0, shrinkB=0, zorder=zorder,
                            joinstyle="round", capstyle="round")
    if gid:
        arrow.set_gid(gid)
    ax.add_patch(arrow)
    return arrow


def _restyle_arrow(arrow, color, lw, zorder=None):
    arrow.set_color(color)
    arrow.set_linewidth(lw)
    arrow.set_mutation_scale(9 + 2 * lw)
    if zorder is not None:
        arrow.set_zorder(zorder)


class GraphArtists:
    """The artists of a drawn graph, by node and edge, restyled in place by
    :meth:`highlight` (what ``draw_graph(..., highlight=...)`` shows) and :meth:`show_grads`.

    A stepper draws the graph once and then moves the highlight, which is much cheaper than
    drawing it again. Attributes are dicts: ``boxes``, ``labels`` (None for an unlabelled
    node), ``values`` (the data/grad text), ``circles``, ``op_texts`` and ``op_arrows`` (the
    operation's circle, symbol, and arrow to its value box) by node; ``edges`` and
    ``edge_labels`` by (child, parent).
    """

    def __init__(self, root, fontsize, show_grad, edge_labels):
        self.root, self.fontsize = root, fontsize
        self.show_grad, self.all_labels = show_grad, edge_labels
        self.boxes, self.labels, self.values = {}, {}, {}
        self.circles, self.op_texts, self.op_arrows = {}, {}, {}
        self.edges, self.edge_labels = {}, {}

    def highlight(self, highlight=None):
        """Style every node, operation and edge for ``highlight`` (see :func:`draw_graph`).
        Returns the artists that now look highlighted."""
        hl_nodes, hl_edges = _known_highlights(highlight, self.boxes)
        hot_parents = {p for _, p in hl_edges}
        fs, shown = self.fontsize, []
        for (c, p), arrow in self.edges.items():
            hot = (c, p) in hl_edges
            _restyle_arrow(arrow, st.ACCENT if hot else EDGE, 2.6 if hot else 1.0,
                           4 if hot else 2)
            label = self.edge_labels[(c, p)]
            label.set_visible(hot or self.all_labels)
            label.set_fontsize(fs * (1.0 if hot else 0.85))
            label.set_color(st.ACCENT if hot else "0.25")
            label.set_fontweight("bold" if hot else "normal")
            label.get_bbox_patch().set_edgecolor(st.ACCENT if hot else "none")
            shown += [arrow, label] if hot else []
        for node, circle in self.circles.items():
            hot = node in hl_nodes or node in hot_parents
            circle.set_edgecolor(st.ACCENT if hot else "0.3")
            circle.set_linewidth(2.0 if hot else 0.9)
            _restyle_arrow(self.op_arrows[node], st.ACCENT if hot else EDGE,
                           2.0 if hot else 1.0)
            shown += [circle, self.op_arrows[node]] if hot else []
        for node, box in self.boxes.items():
            hot = node in hl_nodes
            fill = (ROOT_FILL if node is self.root else LEAF_FILL if not node.children
                    else NODE_FILL)
            box.set_facecolor(st.light(st.ACCENT, 0.8) if hot else fill)
            box.set_edgecolor(st.ACCENT if hot else "0.3")
            box.set_linewidth(3.0 if hot else 0.9)
            shown += [box] if hot else []
        return shown

    def show_grads(self, grads=None):
        """Write each node's data and gradient into its box: ``grads`` maps a node to the
        number to show, or to None for "?" (not known yet); default: each ``node.grad``."""
        for node, text in self.values.items():
            grad = node.grad if grads is None else grads.get(node)
            text.set_text(node_text(node.data, grad, self.show_grad))


def node_text(data, grad, show_grad=True):
    """What a value box says: "data 2" and, with ``show_grad``, "grad 0.5" (or "grad ?"
    when ``grad`` is None)."""
    lines = [f"data {_fmt(data)}"]
    if show_grad:
        lines.append("grad ?" if grad is None else f"grad {_fmt(grad)}")
    return "\n".join(lines)


def _on_circle(center, start, r):
    """The point of the circle (center, r) facing ``start``."""
    c, s = np.asarray(center), np.asarray(start)
    d = s - c
    return tuple(c + r * d / np.hypot(*d))


def _fmt(v):
    return f"{v:.4g}"


@st.styled
def draw_graph(value, highlight=None, ax=None, show_grad=True, edge_labels=False,
               fontsize=None, title=None, return_artists=False):
    """Draw the graph that computed ``value``: operations, data and gradients.

    Parameters
    ----------
    value : Value
        The output (root) of the expression.
    highlight : Value, (child, parent), or a list of them, optional
        Nodes get a thick vermillion frame; an edge is drawn thick and labelled with the
        local derivative d(parent)/d(child).
    ax : Axes, optional
    show_grad : bool
        Show each node's ``.grad`` (0 before ``backward()``).
    edge_labels : bool
        Write the local derivative on every edge.
    fontsize : float, optional
        Default: fitted to the box size.
    title : str, optional
    return_artists : bool
        Also return the :class:`GraphArtists`, to restyle the drawing in place.

    Returns
    -------
    Axes, or (Axes, GraphArtists) with ``return_artists``
        Value boxes have gid ``"node:i"``, operation circles ``"op:i"``, edges
        ``"edge:i->j"`` and their local-derivative labels ``"edgelabel:i->j"`` (shown on the
        highlighted edges, or on all with ``edge_labels``), with i, j indices in
        ``value.topological_order()``.
    """
    order, pos, routes = _layout(value)
    index = {node: i for i, node in enumerate(order)}
    hl_nodes, hl_edges = _known_highlights(highlight, index)

    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 0.35
    x0, x1 = min(xs) - BOX_W / 2 - pad, max(xs) + BOX_W / 2 + pad
    y0, y1 = min(ys) - BOX_H / 2 - pad, max(ys) + BOX_H / 2 + pad
    width, height = x1 - x0, y1 - y0
    if ax is None:  # about 0.85 inch per unit, within 15 x 10 inches
        inch_per_unit = min(0.85, 15.0 / width, 9.0 / height)
        fig, ax = st.new_axes(None, figsize=(max(width * inch_per_unit, 4.0),
                                             height * inch_per_unit + 1.0))
    else:
        fig = ax.figure
        bbox = ax.get_position()
        fig_w, fig_h = fig.get_size_inches()
        inch_per_unit = min(bbox.width * fig_w / width, bbox.height * fig_h / height)
    fs = fontsize or float(np.clip(BOX_W * inch_per_unit * 7.5, 4.5, 10.0))

    graph = GraphArtists(value, fs, show_grad, edge_labels)
    # edges first (under the boxes); every style (highlighted or not) is set at the end by
    # graph.highlight, so a stepper can restyle the same artists
    for node in order:
        kids = node.children
        if not kids:
            continue
        px, py = pos[node]
        op_c = (px - OP_DX, py)
        local = {}
        for c, g in zip(kids, node.local_grads):
            local[c] = local.get(c, 0.0) + g
        for c, g in local.items():
            cx, cy = pos[c]
            points = [(cx + BOX_W / 2, cy)]
            for lx, ly in routes[(c, node)]:  # a lane through each column the edge crosses
                points += [(lx - BOX_W / 2, ly), (lx + BOX_W / 2, ly)]
            start = points[-1]
            end = _on_circle(op_c, start, OP_R)
            edge = f"{index[c]}->{index[node]}"
            graph.edges[(c, node)] = _arrow(ax, points + [end], EDGE, 1.0, gid=f"edge:{edge}")
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            label = ax.text(mx, my, f"\u00d7{_fmt(g)}", ha="center", va="center", zorder=6,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                      lw=0.8))
            label.set_gid(f"edgelabel:{edge}")
            graph.edge_labels[(c, node)] = label
        graph.op_arrows[node] = _arrow(ax, [(op_c[0] + OP_R, py), (px - BOX_W / 2, py)],
                                       EDGE, 1.0)
        circle = Circle(op_c, OP_R, fc=st.light(st.OKABE_ITO["yellow"], 0.45), zorder=3)
        circle.set_gid(f"op:{index[node]}")
        graph.circles[node] = ax.add_patch(circle)
        text = OP_TEXT.get(node.op, node.op.replace("**", "^"))
        graph.op_texts[node] = ax.text(
            *op_c, text, ha="center", va="center", zorder=4,
            fontsize=fs * (1.15 if len(text) <= 2 else 0.85 if len(text) <= 4 else 0.7))

    for node in order:
        x, y = pos[node]
        box = FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H,
                             boxstyle="round,pad=0,rounding_size=0.08", zorder=3)
        box.set_gid(f"node:{index[node]}")
        graph.boxes[node] = ax.add_patch(box)
        graph.labels[node] = None
        if node.label:
            graph.labels[node] = ax.text(x, y + BOX_H * 0.27, node.label, ha="center",
                                         va="center", fontsize=fs, fontweight="bold", zorder=4)
            graph.values[node] = ax.text(x, y - BOX_H * 0.12, "", ha="center", va="center",
                                         fontsize=fs * 0.88, zorder=4, linespacing=1.1)
        else:
            graph.values[node] = ax.text(x, y, "", ha="center", va="center",
                                         fontsize=fs * 0.88, zorder=4, linespacing=1.2)
    graph.highlight(highlight)
    graph.show_grads()

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("forward pass \u2192      \u2190 backward pass (grad)", fontsize=9,
                  color="0.35")
    handles = [Patch(fc=LEAF_FILL, ec="0.3", label="leaf (input / parameter)"),
               Patch(fc=NODE_FILL, ec="0.3", label="intermediate"),
               Patch(fc=ROOT_FILL, ec="0.3", label="output")]
    if hl_nodes or hl_edges:
        handles.append(Line2D([], [], color=st.ACCENT, lw=2.5, label="highlighted"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4,
              fontsize=7.5, handlelength=1.5, borderaxespad=0.2)
    name = f"'{value.label}'" if value.label else "the output"
    ax.set_title(title or f"Computational graph of {name} ({len(order)} nodes)", pad=22)
    return (ax, graph) if return_artists else ax
