"""Exercises with instant feedback, and the autograder that grades a class's notebooks.

In a notebook::

    from backproplab.grading import check
    check("sigmoid", sigmoid)   # one line per test, a total, and the likely mistake

Writing a part (see docs/grading.md)::

    from backproplab.grading import part

    @part("sigmoid", points=2)
    def _(t, sigmoid):
        t.close("sigmoid(0) is 0.5", lambda: sigmoid(np.array(0.0)), 0.5)

This package imports numpy only; the grader (nbclient) loads with ``backproplab.grading.grader``.
"""

from .check import check, hidden_test
from .registry import part

__all__ = ["check", "hidden_test", "part"]
