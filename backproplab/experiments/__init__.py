"""The training experiments the lessons run, defined once, with the claims they support.

A lesson that says something about a training outcome ("learns", "fails", "beats", "about
90 %") must say something true on every student's laptop. A run near the edge of stability
can end differently after a last-bit difference in one float (another CPU, another BLAS), so
every such claim is made about several seeds, never one, and checked by a test:

* a lesson's experiments live in a module here, ``lessonNN.py``: functions
  ``experiment(seed, **settings) -> dict`` of plain numbers, and ``CLAIMS``, a list of
  :class:`Claim` saying what must hold for every seed in :data:`SEEDS`;
* the lesson runs them with :func:`run_seeds`, prints :func:`summarize` (median and range,
  at a precision the runs can promise) and ``report(CLAIMS)``;
* ``tests/test_lesson_claims.py`` finds every module here and asserts every claim, and that
  each module's ``SABOTAGE`` (settings that break a claim on purpose) makes that claim fail.

So the lesson and the test cannot drift apart: they call the same functions with the same
settings. A claim that fails for one seed is a claim the lesson must not make.

Example (a module ``lessonNN.py``)::

    def train_spiral(seed, lr=0.1, epochs=50):
        ...
        return {"final_loss": h.train_loss[-1], "accuracy": h.train_acc[-1]}

    CLAIMS = [Claim("SGD at lr 0.1 fits the spiral: training accuracy >= 0.95",
                    train_spiral, each=lambda r: r["accuracy"] >= 0.95)]
    SABOTAGE = [(0, {"lr": 0.0})]   # claim 0 must fail when nothing is learned
"""

import importlib
import pkgutil
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SEEDS", "Claim", "run", "run_seeds", "summarize", "report", "modules"]

# The seeds every claim must hold for. Five is the floor; a lesson may show fewer runs in a
# figure, but what it states in words holds for all of these.
SEEDS = tuple(range(5))

_cache = {}


def run(experiment, seed, **settings):
    """``experiment(seed, **settings)``, computed once per process (results are reused by
    every claim and cell that asks for the same run). Returns its dict."""
    key = (experiment, seed, tuple(sorted(settings.items())))
    if key not in _cache:
        _cache[key] = experiment(seed, **settings)
    return _cache[key]


def run_seeds(experiment, seeds=SEEDS, **settings):
    """The experiment's result for each seed, as a list of dicts (in the order of ``seeds``)."""
    return [run(experiment, seed, **settings) for seed in seeds]


def summarize(values, fmt=".2f", unit=""):
    """``'0.93 (0.91 to 0.95)'``: the median and the range of ``values``, formatted with
    ``fmt``. Print at a precision the runs can promise: a digit that changes with the CPU
    does not belong in a checked output."""
    values = np.asarray(list(values), dtype=float)
    lo, med, hi = np.min(values), np.median(values), np.max(values)
    return f"{med:{fmt}}{unit} ({lo:{fmt}}{unit} to {hi:{fmt}}{unit})"


@dataclass(frozen=True, eq=False)
class Claim:
    """A sentence a lesson states, and the check that makes it true.

    text : str
        The claim as the lesson says it.
    experiment : callable
        ``experiment(seed, **settings) -> dict``.
    each : callable, optional
        ``each(result) -> bool``: must hold for the result of every seed.
    overall : callable, optional
        ``overall(results) -> bool`` on the list of all seeds' results, for a claim about the
        seeds together ("beats it on at least 4 of 5 seeds" is better said with ``each``
        on a per-seed comparison; use this for medians and the like).
    settings : dict
        Keyword arguments for the experiment.
    """

    text: str
    experiment: callable
    each: callable = None
    overall: callable = None
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        if (self.each is None) == (self.overall is None):
            raise ValueError(f"Claim {self.text!r}: give exactly one of each= and overall=")

    def failures(self, seeds=SEEDS, **override):
        """The seeds for which the claim is false ([] if it holds; ["overall"] if an overall
        claim fails). ``override`` changes settings (used to break a claim on purpose)."""
        settings = {**self.settings, **override}
        results = run_seeds(self.experiment, seeds, **settings)
        if self.overall is not None:
            return [] if self.overall(results) else ["overall"]
        return [seed for seed, r in zip(seeds, results) if not self.each(r)]

    def holds(self, seeds=SEEDS, **override):
        return not self.failures(seeds, **override)


def _seed_range(seeds):
    seeds = list(seeds)
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]} to {seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def report(claims, seeds=SEEDS):
    """One line per claim: ``holds for seeds 0 to 4: <text>``, or which seeds it fails for."""
    lines = []
    for claim in claims:
        bad = claim.failures(seeds)
        verdict = (f"holds for {_seed_range(seeds)}" if not bad
                   else f"FAILS for {'the seeds together' if bad == ['overall'] else _seed_range(bad)}")
        lines.append(f"{verdict}: {claim.text}")
    return "\n".join(lines)


def modules():
    """The lesson modules of this package (``lesson05``, ...), imported."""
    return [importlib.import_module(f"{__name__}.{info.name}")
            for info in pkgutil.iter_modules(__path__) if info.name.startswith("lesson")]
