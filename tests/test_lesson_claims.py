"""Every claim a lesson makes about a training outcome holds for every seed in SEEDS.

The claims and the experiments behind them live in ``backproplab/experiments/lessonNN.py``,
which the lessons themselves call, so a lesson and this test cannot disagree about what was
run. One test class per lesson module, so that pytest-xdist (``--dist loadscope``) spreads
the lessons over the workers while the runs of one lesson share a process (and its cache).

Each module's ``SABOTAGE`` lists ``(claim index, settings)`` that break a claim on purpose
(a zero learning rate, clipping turned off, ...): the claim must then fail, which shows that
its check can fail at all.
"""

import pytest

from backproplab import experiments

SEEDS = experiments.SEEDS


def _claim_test(module):
    claims = module.CLAIMS

    @pytest.mark.parametrize("index", range(len(claims)),
                             ids=[f"{i}-{c.text[:60]}" for i, c in enumerate(claims)])
    def test_claim_holds_for_every_seed(self, index):
        claim = claims[index]
        bad = claim.failures(SEEDS)
        assert not bad, f"{module.__name__}: {claim.text!r} fails for seeds {bad}"

    sabotage = getattr(module, "SABOTAGE", [])

    @pytest.mark.parametrize("index,settings", sabotage,
                             ids=[f"{i}-{s}" for i, s in sabotage])
    def test_sabotage_breaks_the_claim(self, index, settings):
        claim = claims[index]
        assert claim.failures(SEEDS[:1], **settings), (
            f"{module.__name__}: {claim.text!r} still holds with {settings}: its check "
            "cannot tell a broken experiment from a working one")

    return {"test_claim_holds_for_every_seed": test_claim_holds_for_every_seed,
            "test_sabotage_breaks_the_claim": test_sabotage_breaks_the_claim}


for _module in experiments.modules():
    _name = "TestClaims" + _module.__name__.rsplit(".", 1)[1].title()
    globals()[_name] = type(_name, (), _claim_test(_module))


def test_every_lesson_module_states_claims_and_a_sabotage():
    for module in experiments.modules():
        assert module.CLAIMS, f"{module.__name__} has no CLAIMS"
        assert getattr(module, "SABOTAGE", None), (
            f"{module.__name__} has no SABOTAGE: show that one of its claims can fail")


def test_a_claim_reports_the_seeds_it_fails_for():
    def coin(seed):
        return {"heads": seed % 2 == 0}

    claim = experiments.Claim("every seed comes up heads", coin, each=lambda r: r["heads"])
    assert claim.failures(range(4)) == [1, 3]
    assert experiments.report([claim], seeds=range(4)) == (
        "FAILS for seeds 1, 3: every seed comes up heads")
    even = experiments.Claim("heads on even seeds", coin, each=lambda r: r["heads"])
    assert experiments.report([even], seeds=[0, 2, 4]) == (
        "holds for seeds 0, 2, 4: heads on even seeds")
    median = experiments.Claim("at least half heads", coin,
                               overall=lambda rs: sum(r["heads"] for r in rs) >= len(rs) / 2)
    assert median.holds(range(5)) and not median.holds([1, 3, 4])
    with pytest.raises(ValueError, match="exactly one"):
        experiments.Claim("both", coin, each=bool, overall=bool)


def test_summarize_gives_median_and_range():
    assert experiments.summarize([0.91, 0.95, 0.93]) == "0.93 (0.91 to 0.95)"
    assert experiments.summarize([3, 1, 2], fmt=".0f", unit=" %") == "2 % (1 % to 3 %)"


def test_runs_are_computed_once_per_process():
    calls = []

    def counted(seed, lr=1.0):
        calls.append((seed, lr))
        return {"x": seed * lr}

    assert experiments.run_seeds(counted, [0, 1], lr=2.0) == [{"x": 0.0}, {"x": 2.0}]
    assert experiments.run_seeds(counted, [0, 1], lr=2.0) == [{"x": 0.0}, {"x": 2.0}]
    assert calls == [(0, 2.0), (1, 2.0)]
