"""Do backproplab's numbers agree with PyTorch's? Prints the largest difference per check.

    .venv/bin/pip install torch && .venv/bin/python benchmarks/torch_parity.py

PyTorch is not a dependency: this script is how the claim "same semantics as PyTorch" in the
README is checked by hand whenever the library changes. Every check runs in float64.
"""

import numpy as np
import torch

import backproplab as bp
from backproplab import optim

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)
T = torch.from_numpy
rows = []


def report(name, ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, (name, ours.shape, theirs.shape)
    rows.append((name, float(np.max(np.abs(ours - theirs))) if ours.size else 0.0))


# Layers: forward, input gradient and parameter gradients for a fixed upstream gradient.
x = rng.standard_normal((6, 4))
g = rng.standard_normal((6, 3))
lin = bp.Linear(4, 3, rng=rng)
out = lin(x)
dx = lin.backward(g)
tl = torch.nn.Linear(4, 3)
with torch.no_grad():
    tl.weight.copy_(T(lin.W.data.T.copy()))
    tl.bias.copy_(T(lin.b.data.copy()))
tx = T(x.copy()).requires_grad_()
tout = tl(tx)
tout.backward(T(g))
report("Linear forward", out, tout.detach())
report("Linear dx", dx, tx.grad)
report("Linear dW (ours is W.T)", lin.W.grad, tl.weight.grad.T)
report("Linear db", lin.b.grad, tl.bias.grad)

for ours_layer, theirs_layer in ((bp.ReLU(), torch.nn.ReLU()), (bp.Sigmoid(), torch.nn.Sigmoid()),
                                 (bp.Tanh(), torch.nn.Tanh()),
                                 (bp.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1))):
    xa = rng.standard_normal((5, 3)) * 3
    ga = rng.standard_normal((5, 3))
    o = ours_layer(xa)
    d = ours_layer.backward(ga)
    tx = T(xa.copy()).requires_grad_()
    to = theirs_layer(tx)
    to.backward(T(ga))
    report(f"{type(ours_layer).__name__} forward and dx", np.r_[o.ravel(), d.ravel()],
           np.r_[to.detach().numpy().ravel(), tx.grad.numpy().ravel()])

bn, tbn = bp.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
with torch.no_grad():
    tbn.weight.copy_(T(rng.uniform(0.5, 2, 3)))
    tbn.bias.copy_(T(rng.standard_normal(3)))
bn.gamma.data[:] = tbn.weight.detach().numpy()
bn.beta.data[:] = tbn.bias.detach().numpy()
for step in range(3):  # three training batches: running statistics follow
    xb, gb = rng.standard_normal((8, 3)) * 2 + 1, rng.standard_normal((8, 3))
    bn.zero_grad()
    o = bn(xb)
    d = bn.backward(gb)
    tbn.zero_grad()
    tx = T(xb.copy()).requires_grad_()
    to = tbn(tx)
    to.backward(T(gb))
report("BatchNorm1d train forward", o, to.detach())
report("BatchNorm1d train dx", d, tx.grad)
report("BatchNorm1d dgamma, dbeta", np.r_[bn.gamma.grad, bn.beta.grad],
       np.r_[tbn.weight.grad.numpy(), tbn.bias.grad.numpy()])
report("BatchNorm1d running mean, var", np.r_[bn.running_mean, bn.running_var],
       np.r_[tbn.running_mean.numpy(), tbn.running_var.numpy()])
bn.eval()
tbn.eval()
xe = rng.standard_normal((4, 3))
report("BatchNorm1d eval forward", bn(xe), tbn(T(xe)).detach())

# RNN: ours stores W_ih = weight_ih_l0.T, W_hh = weight_hh_l0.T and one b = bias_ih + bias_hh;
# torch's h0 is (1, N, H). Full BPTT, then truncated BPTT against chunks whose state is detached.
xs, h0, gs = rng.standard_normal((3, 7, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 7, 5))
rnn = bp.RNN(4, 5, rng=rng)
trnn = torch.nn.RNN(4, 5, batch_first=True)
b_ih = rng.standard_normal(5)
with torch.no_grad():
    trnn.weight_ih_l0.copy_(T(rnn.W_ih.data.T.copy()))
    trnn.weight_hh_l0.copy_(T(rnn.W_hh.data.T.copy()))
    trnn.bias_ih_l0.copy_(T(b_ih))
    trnn.bias_hh_l0.copy_(T(rnn.b.data - b_ih))
out = rnn(xs, h0)
dx = rnn.backward(gs)
tx, th0 = T(xs.copy()).requires_grad_(), T(h0[None].copy()).requires_grad_()
tout, h_n = trnn(tx, th0)
tout.backward(T(gs))
report("RNN forward (and h_n = out[:, -1])", np.r_[out.ravel(), out[:, -1].ravel()],
       np.r_[tout.detach().numpy().ravel(), h_n[0].detach().numpy().ravel()])
report("RNN dx, dh0", np.r_[dx.ravel(), rnn.grad_h0.ravel()],
       np.r_[tx.grad.numpy().ravel(), th0.grad[0].numpy().ravel()])
report("RNN dW_ih, dW_hh (ours are transposed)", np.r_[rnn.W_ih.grad.ravel(), rnn.W_hh.grad.ravel()],
       np.r_[trnn.weight_ih_l0.grad.T.numpy().ravel(), trnn.weight_hh_l0.grad.T.numpy().ravel()])
report("RNN db = dbias_ih = dbias_hh", np.r_[rnn.b.grad, rnn.b.grad],
       np.r_[trnn.bias_ih_l0.grad.numpy(), trnn.bias_hh_l0.grad.numpy()])
rnn.truncate = 3
rnn.zero_grad()
rnn(xs, h0)
dx = rnn.backward(gs)
trnn.zero_grad()
state, tdx = T(h0[None].copy()), []
for start in range(0, 7, 3):  # truncated BPTT in torch: feed chunks, detach the state between
    tx = T(xs[:, start:start + 3].copy()).requires_grad_()
    tout, state = trnn(tx, state.detach())
    tout.backward(T(gs[:, start:start + 3].copy()))
    tdx.append(tx.grad.numpy())
report("RNN truncated BPTT (3 steps): dx, dW_hh", np.r_[dx.ravel(), rnn.W_hh.grad.ravel()],
       np.r_[np.concatenate(tdx, axis=1).ravel(), trnn.weight_hh_l0.grad.T.numpy().ravel()])

# Losses: value and gradient with respect to the prediction.
logits, labels = rng.standard_normal((7, 5)) * 4, rng.integers(0, 5, 7)
pred, target = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
binary = rng.integers(0, 2, (7, 2)).astype(float)
for name, ours_fn, theirs_fn, a, b in (
        ("MSELoss", bp.MSELoss(), torch.nn.MSELoss(), pred, target),
        ("L1Loss", bp.L1Loss(), torch.nn.L1Loss(), pred, target),
        ("CrossEntropyLoss", bp.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, labels),
        ("BCEWithLogitsLoss", bp.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), pred, binary),
        ("MultiMarginLoss", bp.MultiMarginLoss(), torch.nn.MultiMarginLoss(), logits, labels),
        ("MultiMarginLoss p=2, margin=3", bp.MultiMarginLoss(p=2, margin=3.0),
         torch.nn.MultiMarginLoss(p=2, margin=3.0), logits, labels)):
    value = ours_fn(a, b)
    grad = ours_fn.backward()
    ta = T(a.copy()).requires_grad_()
    tv = theirs_fn(ta, T(b))
    tv.backward()
    report(f"{name} value and gradient", np.r_[value, grad.ravel()],
           np.r_[tv.item(), ta.grad.numpy().ravel()])
big = np.array([[1000.0, 1001.0, -1000.0]])
report("softmax / log_softmax at +-1000", np.r_[bp.softmax(big).ravel(), bp.log_softmax(big).ravel()],
       np.r_[torch.softmax(T(big), 1).numpy().ravel(), torch.log_softmax(T(big), 1).numpy().ravel()])


# Optimisers: the same gradients fed for several steps.
def run_optimizer(make_ours, make_theirs, steps=6):
    p0 = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(steps)]
    ours = bp.Parameter(p0.copy())
    theirs = torch.nn.Parameter(T(p0.copy()))
    o, t = make_ours([ours]), make_theirs([theirs])
    for gr in grads:
        ours.grad = gr.copy()
        theirs.grad = T(gr.copy())
        o.step()
        t.step()
    return ours.data, theirs.detach()


for name, mo, mt in (
        ("SGD", lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        ("SGD momentum 0.9, weight_decay 0.01",
         lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
        ("SGD Nesterov", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        ("Adam weight_decay 0.1", lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1),
         lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1))):
    report(f"{name}, 6 steps", *run_optimizer(mo, mt))

for name, settings in (("RMSprop", {}),
                       ("RMSprop momentum 0.9, centered, weight_decay 0.01",
                        dict(momentum=0.9, centered=True, weight_decay=0.01)),
                       ("RMSprop alpha 0.9, eps 1e-4", dict(alpha=0.9, eps=1e-4))):
    report(f"{name}, 6 steps",
           *run_optimizer(lambda p, kw=settings: optim.RMSprop(p, lr=0.01, **kw),
                          lambda p, kw=settings: torch.optim.RMSprop(p, lr=0.01, **kw)))
for name, mo, mt in (  # decoupled weight decay: the default 0.01, and a strong one
        ("AdamW (default weight_decay 0.01)", lambda p: optim.AdamW(p, lr=0.01),
         lambda p: torch.optim.AdamW(p, lr=0.01)),
        ("AdamW weight_decay 0.5", lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.5),
         lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.5))):
    report(f"{name}, 6 steps", *run_optimizer(mo, mt))

grads = [rng.standard_normal(s) * 3 for s in ((3, 2), (4,))]
ours_p = [bp.Parameter(np.zeros_like(gr)) for gr in grads]
theirs_p = [torch.nn.Parameter(torch.zeros(gr.shape)) for gr in grads]
for p, tp, gr in zip(ours_p, theirs_p, grads):
    p.grad, tp.grad = gr.copy(), T(gr.copy())
norm = optim.clip_grad_norm(ours_p, 1.0)
tnorm = torch.nn.utils.clip_grad_norm_(theirs_p, 1.0)
report("clip_grad_norm: norm and clipped grads", np.r_[norm, np.concatenate([p.grad.ravel() for p in ours_p])],
       np.r_[tnorm.item(), np.concatenate([p.grad.numpy().ravel() for p in theirs_p])])

for name, mo, mt in (
        ("StepLR", lambda o: optim.StepLR(o, 3, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
        ("ExponentialLR", lambda o: optim.ExponentialLR(o, 0.9),
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
        ("CosineAnnealingLR", lambda o: optim.CosineAnnealingLR(o, 5, 0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 5, 0.01))):
    o = optim.SGD([bp.Parameter(np.zeros(1))], lr=0.1)
    t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    so, st = mo(o), mt(t)
    ours_lr, theirs_lr = [], []
    for _ in range(8):
        t.step()
        so.step()
        st.step()
        ours_lr.append(o.lr)
        theirs_lr.append(t.param_groups[0]["lr"])
    report(f"{name}, 8 epochs of lr", ours_lr, theirs_lr)

# Curvature: our Hessian-vector product is a finite difference of two gradients, PyTorch's
# is exact (double backward), so they agree to the finite difference's accuracy, not to the
# last bit: relative differences, with their own tolerance.
from backproplab.curvature import hessian_vector_product, parameters_to_vector  # noqa: E402

approx_rows = []
Xs, ys = bp.data.make_spiral(n_samples=120, noise=0.2, seed=1)
for name, act, tact in (("ReLU", bp.ReLU(), torch.nn.ReLU()), ("Tanh", bp.Tanh(), torch.nn.Tanh())):
    bp.manual_seed(0)
    model = bp.Sequential(bp.Linear(2, 20), act, bp.Linear(20, 3))
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 20), tact, torch.nn.Linear(20, 3))
    with torch.no_grad():
        for tlin, lin in zip((tmodel[0], tmodel[2]), (model.layers[0], model.layers[2])):
            tlin.weight.copy_(T(lin.W.data.T.copy()))
            tlin.bias.copy_(T(lin.b.data.copy()))
    tparams = [p for lin in (tmodel[0], tmodel[2]) for p in (lin.weight, lin.bias)]
    v = rng.standard_normal(parameters_to_vector(model.parameters()).size)
    pieces, start = [], 0   # v in PyTorch's layout: weight (out, in) is our W.T
    for p, tp in zip(model.parameters(), tparams):
        piece = v[start:start + p.data.size].reshape(p.data.shape)
        pieces.append(T((piece.T if piece.ndim == 2 else piece).copy()))
        start += p.data.size
    tloss = torch.nn.functional.cross_entropy(tmodel(T(Xs)), torch.from_numpy(ys))
    tgrads = torch.autograd.grad(tloss, tparams, create_graph=True)
    thv = torch.autograd.grad(sum((g * u).sum() for g, u in zip(tgrads, pieces)), tparams)
    theirs = np.concatenate([(h.numpy().T if h.ndim == 2 else h.numpy()).ravel() for h in thv])
    ours = hessian_vector_product(model, bp.CrossEntropyLoss(), Xs, ys, v)
    approx_rows.append((f"Hessian-vector product, {name} MLP (relative)",
                        float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))), 1e-6))

print(f"backproplab against PyTorch {torch.__version__}, float64\n")
width = max(len(n) for n, *_ in rows + approx_rows)
for name, diff in rows:
    flag = "ok" if diff <= 1e-10 else "DIFFERS"
    print(f"  {name:<{width}}  max |difference| {diff:.1e}  {flag}")
worst = max(d for _, d in rows)
print(f"\n{len(rows)} checks, worst difference {worst:.1e}\n")
for name, diff, tol in approx_rows:
    print(f"  {name:<{width}}  max |difference| {diff:.1e}  {'ok' if diff <= tol else 'DIFFERS'}"
          f" (tolerance {tol:.0e})")
approx_ok = all(diff <= tol for _, diff, tol in approx_rows)
raise SystemExit(0 if worst <= 1e-10 and approx_ok else 1)
