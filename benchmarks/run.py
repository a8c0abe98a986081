"""Benchmarks: medians of the course's hot paths, compared with PyTorch when it is installed.

    make bench            (or: .venv/bin/python benchmarks/run.py [--quick])

Everything runs on one thread: two-thread timings swing by about +-25 % on shared machines.
PyTorch is optional (``pip install torch``); when importable, its runs are interleaved with
ours, workload by workload, and each row prints the ratio ours / PyTorch.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads its BLAS

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import backproplab as bp  # noqa: E402
from backproplab import gradcheck  # noqa: E402
from backproplab.data import make_spiral  # noqa: E402
from backproplab.optim import SGD  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None

NETS = [((2, 100, 100, 3), 300), ((64, 128, 64, 10), 64), ((784, 256, 256, 10), 128)]
TARGETS = {(2, 100, 100, 3): 0.85, (64, 128, 64, 10): 0.85, (784, 256, 256, 10): 1.0}


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def mlp(sizes, dtype, rng):
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(bp.Linear(d_in, d_out, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(bp.ReLU())
    return bp.Sequential(*layers)


def our_step(model, x, y, lr=0.01):
    loss_fn, opt = bp.CrossEntropyLoss(), SGD(model.parameters(), lr=lr)

    def step():
        loss_fn(model(x), y)
        opt.zero_grad()
        model.backward(loss_fn.backward(), input_grad=False)
        opt.step()
    return step


def torch_step(model, x, y, lr=0.01):
    tm = torch.nn.Sequential(*[
        torch.nn.Linear(l.in_features, l.out_features) if isinstance(l, bp.Linear)
        else torch.nn.ReLU() for l in model])
    dtype = torch.float32 if x.dtype == np.float32 else torch.float64
    tm = tm.to(dtype)
    with torch.no_grad():  # same weights as ours (ours store W transposed)
        for ours, theirs in zip(model, tm):
            if isinstance(ours, bp.Linear):
                theirs.weight.copy_(torch.from_numpy(ours.W.data.T.copy()))
                theirs.bias.copy_(torch.from_numpy(ours.b.data.copy()))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn, opt = torch.nn.CrossEntropyLoss(), torch.optim.SGD(tm.parameters(), lr=lr)

    def step():
        opt.zero_grad()
        loss_fn(tm(tx), ty).backward()
        opt.step()
    return step


def bench_steps(reps):
    print("One training step (forward + backward + SGD update), median ms")
    header = f"{'network':<16}{'batch':>6}{'dtype':>9}{'ours':>9}"
    if torch:
        header += f"{'torch':>9}{'ratio':>8}{'target':>8}"
    print(header)
    for sizes, batch in NETS:
        for dtype in (np.float64, np.float32):
            rng = np.random.default_rng(0)
            model = mlp(sizes, dtype, rng)
            x = rng.standard_normal((batch, sizes[0])).astype(dtype)
            y = rng.integers(0, sizes[-1], batch)
            steps = {"ours": our_step(model, x, y)}
            if torch:
                steps["torch"] = torch_step(model, x, y)
            for fn in steps.values():  # warm up caches and allocators
                for _ in range(5):
                    fn()
            times = {k: [] for k in steps}
            for _ in range(reps):  # interleaved, so machine noise hits both alike
                for name, fn in steps.items():
                    times[name].append(median_ms(fn, 3))
            row = f"{'-'.join(map(str, sizes)):<16}{batch:>6}{np.dtype(dtype).name:>9}"
            ours = statistics.median(times["ours"])
            row += f"{ours:>9.3f}"
            if torch:
                theirs = statistics.median(times["torch"])
                ratio = ours / theirs
                target = TARGETS[sizes]
                ok = "ok" if ratio <= target else "MISS"
                row += f"{theirs:>9.3f}{ratio:>8.2f}{'<= ' + str(target):>8} {ok}"
            print(row)


def value_mlp(use_value_sum):
    """A 2-16-16-1 tanh MLP of Values, micrograd-style; returns (params, forward)."""
    rnd = random.Random(0)
    sizes = (2, 16, 16, 1)
    layers = [[([bp.Value(rnd.uniform(-1, 1)) for _ in range(d_in)], bp.Value(0.0))
               for _ in range(d_out)] for d_in, d_out in zip(sizes[:-1], sizes[1:])]
    add_up = bp.Value.sum if use_value_sum else sum

    def forward(x):
        for layer in layers:
            x = [add_up([wi * xi for wi, xi in zip(w, x)] + [b]).tanh() for w, b in layer]
        return x[0]
    return forward


def bench_value(reps):
    rnd = random.Random(1)
    points = [([rnd.uniform(-1, 1), rnd.uniform(-1, 1)], rnd.choice((-1.0, 1.0)))
              for _ in range(100)]
    print("\nValue: forward + backward of a 2-16-16-1 tanh MLP on 100 points, median ms")
    for use_sum, name in ((True, "Value.sum per neuron"), (False, "builtin sum (binary +)")):
        forward = value_mlp(use_sum)

        def step():
            loss = bp.Value.sum([(forward(x) - y) ** 2 for x, y in points]) / len(points)
            loss.backward()
            return loss
        nodes = len(step().topological_order())
        ms = median_ms(step, reps)
        mark = ("ok" if ms <= 50 else "MISS") if use_sum else ""
        print(f"  {name:<26}{ms:>8.1f} ms  ({nodes} nodes)  target <= 50 ms {mark}")


def bench_gradcheck():
    X, y = make_spiral(300, 3, seed=0)
    print("\nGradient check of the spiral MLP 2-100-100-3 (ReLU), float64")
    for mode in ("full", "fast"):
        model = mlp((2, 100, 100, 3), np.float64, np.random.default_rng(0))
        t = time.perf_counter()
        report = gradcheck.check_model(model, bp.CrossEntropyLoss(), X, y, mode=mode)
        seconds = time.perf_counter() - t
        extra = "  target <= 20 passes " + ("ok" if report.n_forward <= 20 else "MISS") \
            if mode == "fast" else ""
        kinks = sum(note.startswith("kink") for note in report.notes)
        verdict = "pass" if report.passed else "FAIL" + (
            f" (ReLU inputs at the kink in {kinks} layer(s): central differences straddle "
            "it there)" if kinks else "")
        print(f"  {mode:<5} {report.n_forward:>7} forward passes {seconds:>8.3f} s  "
              f"max rel error {max(report.errors.values()):.1e}  {verdict}{extra}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 7 if args.quick else 31
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          "1 thread\n")
    bench_steps(reps)
    bench_value(5 if args.quick else 11)
    bench_gradcheck()


if __name__ == "__main__":
    main()
