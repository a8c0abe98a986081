"""pytest set-up for tests/ (the repository's conftest.py sets up the whole run).

tests/exercise_support.py holds helpers with asserts of their own: rewrite them like a test
module's, so that a failing one shows its values.
"""

import pytest

pytest.register_assert_rewrite("exercise_support")
