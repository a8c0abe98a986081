"""Explorers: kernel time of one update (compute + draw + PNG), per explorer and control.

    .venv/bin/python benchmarks/explorers.py [--quick] [--json FILE]

An update is what the kernel does when a control moves: recompute with the library, redraw
the picture, encode it, refresh the readout. Each explorer is driven as a hand would drive
it: every slider dragged 20 steps from where it starts (one update per step, as with
``continuous_update=True``), every menu and checkbox switched. Each move is timed with CPU
time (``time.process_time``: other processes on a shared machine do not inflate it as they
inflate wall time; one BLAS thread, as in ``run.py``) and with wall time; the table gives the
median and the 95th percentile per explorer and per control. Timings on a busy machine are
upper bounds: the load average is printed next to them.

The "jumps" rows are the control changes the widget tests used to time
(``test_updates_are_fast``, removed: no timed assertions in tests): one control moved far,
twice, from a fresh explorer.

Moved from code, the overfitting explorer's MLP trains all 400 epochs in the update (the
"(MLP)" rows). Moved in a browser it answers with the first part of the run and trains the
rest from the kernel's event loop, a picture per step: "MLP moved in a browser" times that
answer (driving the controls the way ipywidgets applies a browser's change, inside an asyncio
event loop) and the whole run to its last picture (wall time). The explorer's own figure
counts what a hand in a browser waits for: its polynomial moves and the MLP's answers.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads its BLAS

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from backproplab import widgets as explorers  # noqa: E402

TARGET_MS = 40.0  # kernel time per update, median (issue 14)
DRAG_STEPS = 20

# explorer function -> settings applied (one update) before the moves, e.g. the MLP mode
PHASES = {
    "neuron_playground": [{}],
    "loss_landscape_explorer": [{}],
    "backprop_stepper": [{}],
    "learning_rate_explorer": [{}],
    "vanishing_gradient_explorer": [{}],
    "overfitting_explorer": [{"model": "polynomial"}, {"model": "MLP"}],  # MLP: from code
    "rnn_gradient_explorer": [{}],
}
# the control changes timed by the former test_updates_are_fast
JUMPS = [
    ("neuron_playground", {}, "w1", [2.0, -1.0]),
    ("learning_rate_explorer", {}, "lr", [0.01, 0.1]),
    ("vanishing_gradient_explorer", {}, "depth", [30, 2]),
    ("overfitting_explorer", {}, "degree", [15, 1]),
    ("overfitting_explorer", {"model": "MLP"}, "hidden", [64, 4]),
    ("rnn_gradient_explorer", {}, "steps", [120, 5]),
]


def load():
    """The 1-minute load average and the number of CPUs, as text."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return "load unknown"
    return f"load average {one:.1f} on {os.cpu_count()} CPUs"


def drag_values(control, steps=DRAG_STEPS):
    """The values a hand dragging ``control`` by ``steps`` steps passes through: to the
    right if there is room for all of them, otherwise to the left."""
    if isinstance(control, widgets.SelectionSlider):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        i = options.index(control.value)
        right = options[i + 1:i + 1 + steps]
        left = options[max(0, i - steps):i][::-1]
        return right if len(right) >= len(left) else left
    if isinstance(control, widgets.FloatLogSlider):
        exp = np.log10(control.value)
        lo, hi, step = control.min, control.max, control.step
        count = lambda e: int(round((e - exp) / step))  # noqa: E731
        sign = 1 if count(hi) >= steps or count(hi) >= -count(lo) else -1
        n = min(steps, abs(count(hi if sign > 0 else lo)))
        return [float(control.base ** (exp + sign * k * step)) for k in range(1, n + 1)]
    lo, hi, step, value = control.min, control.max, control.step, control.value
    room_right, room_left = round((hi - value) / step), round((value - lo) / step)
    sign = 1 if room_right >= steps or room_right >= room_left else -1
    n = min(steps, room_right if sign > 0 else room_left)
    values = [value + sign * k * step for k in range(1, n + 1)]
    if isinstance(control, widgets.IntSlider):
        return [int(v) for v in values]
    return [round(v, 10) for v in values]


def switch_values(control):
    """Every other option of a menu, then back; a checkbox on and off."""
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value]
    options = [o[1] if isinstance(o, tuple) else o for o in control.options]
    others = [o for o in options if o != control.value]
    return others + [control.value]


def moves(ex):
    """(control name, [values]) for every control of ``ex`` that is enabled: sliders are
    dragged, menus and checkboxes switched; buttons (the stepper) are pressed."""
    out = []
    for name, control in ex.controls.items():
        if getattr(control, "disabled", False):
            continue
        if isinstance(control, widgets.Button):
            continue
        if isinstance(control, (widgets.Checkbox, widgets.Dropdown, widgets.ToggleButtons)):
            if name == "model":
                continue  # the mode is a phase of its own
            out.append((name, switch_values(control)))
        else:
            out.append((name, drag_values(control)))
    return out


def timed(fn):
    """(CPU ms, wall ms) of fn()."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return 1e3 * (time.process_time() - cpu), 1e3 * (time.perf_counter() - wall)


def bench_explorer(fn_name, quick=False):
    """{control: [(cpu ms, wall ms), ...]} for one explorer, over its phases."""
    rows = {}
    for phase in PHASES[fn_name]:
        ex = getattr(explorers, fn_name)().explorer
        if phase:
            ex.set(**phase)
        if fn_name == "backprop_stepper":
            buttons = ["next"] * ex.n_steps + ["back", "back", "reset"]
            for name in buttons * (1 if quick else 2):
                rows.setdefault(name, []).append(timed(ex.controls[name].click))
            continue
        for name, values in moves(ex):
            label = f"{name} ({phase['model']})" if "model" in phase else name
            values = values[:6] if quick else values
            for value in values:
                rows.setdefault(label, []).append(
                    timed(lambda: setattr(ex.controls[name], "value", value)))
    return rows


def bench_mlp_in_browser(quick=False):
    """(answer CPU ms per move, wall ms until the run's last picture) for MLP moves applied
    as a browser's are (``set_state`` inside a running event loop)."""
    async def main():
        ex = explorers.overfitting_explorer().explorer
        ex.set(model="MLP")
        answers, finished = [], []
        for name in ("n_train", "dropout", "hidden", "l2"):
            for value in drag_values(ex.controls[name])[:3 if quick else 6]:
                wall = time.perf_counter()
                answers.append(timed(lambda: ex.controls[name].set_state({"value": value})))
                while ex.values.get("training"):
                    await asyncio.sleep(0)
                finished.append(1e3 * (time.perf_counter() - wall))
        return answers, finished
    return asyncio.run(main())


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def summary(samples):
    cpu = [c for c, _ in samples]
    wall = [w for _, w in samples]
    return {"n": len(samples), "cpu_median_ms": statistics.median(cpu),
            "cpu_p95_ms": percentile(cpu, 95), "wall_median_ms": statistics.median(wall),
            "wall_p95_ms": percentile(wall, 95)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 steps per drag, one pass")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--only", nargs="*", help="explorer functions to run")
    args = parser.parse_args()
    names = args.only or list(PHASES)
    print(f"Explorers: kernel time of one update, ms (CPU time; wall time in brackets); "
          f"1 BLAS thread; {load()}")
    print(f"{'explorer / control':<44}{'n':>4}{'median':>9}{'p95':>9}"
          f"{'   wall median':>15}{'wall p95':>10}")
    results = {}
    for fn_name in names:
        rows = bench_explorer(fn_name, args.quick)
        if fn_name == "overfitting_explorer":  # in a browser the MLP answers in a step
            answers, finished = bench_mlp_in_browser(args.quick)
            rows["MLP moved in a browser: answer"] = answers
        # the explorer's figure: what a hand in a browser waits for
        everything = [s for label, samples in rows.items() if "(MLP)" not in label
                      for s in samples]
        total = summary(everything)
        results[fn_name] = {"all": total, "controls": {k: summary(v) for k, v in rows.items()}}
        ok = "ok" if total["cpu_median_ms"] <= TARGET_MS else "MISS"
        print(f"{fn_name:<44}{total['n']:>4}{total['cpu_median_ms']:>9.1f}"
              f"{total['cpu_p95_ms']:>9.1f}   ({total['wall_median_ms']:>7.1f}"
              f"{total['wall_p95_ms']:>9.1f})  target median <= {TARGET_MS:g} {ok}")
        for label, s in results[fn_name]["controls"].items():
            print(f"  {label:<42}{s['n']:>4}{s['cpu_median_ms']:>9.1f}{s['cpu_p95_ms']:>9.1f}"
                  f"   ({s['wall_median_ms']:>7.1f}{s['wall_p95_ms']:>9.1f})")
        if fn_name == "overfitting_explorer":
            results[fn_name]["mlp_run_to_last_picture_wall_ms"] = {
                "median": statistics.median(finished), "p95": percentile(finished, 95)}
            print(f"  {'  ... the run to its last picture (wall)':<42}{len(finished):>4}"
                  f"{statistics.median(finished):>9.1f}{percentile(finished, 95):>9.1f}")
            print("  (MLP) rows: moved from code, the whole 400-epoch run in the update; "
                  "not in the explorer's figure above")
    print("\nJumps (the cases of the former test_updates_are_fast), CPU ms per change")
    jumps = []
    for fn_name, phase, control, values in JUMPS:
        if fn_name not in names:
            continue
        ex = getattr(explorers, fn_name)().explorer
        if phase:
            ex.set(**phase)
        times = []
        for value in values:
            times.append(timed(lambda: setattr(ex.controls[control], "value", value))[0])
        jumps.append({"explorer": fn_name, "control": control, "values": values, "cpu_ms": times})
        print(f"  {fn_name:<30}{control:<8}{str(values):<14}"
              + "  ".join(f"{t:7.1f}" for t in times))
    print(f"\n{load()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load": load(), "explorers": results, "jumps": jumps}, f, indent=1)


if __name__ == "__main__":
    main()
