"""The graded parts of the course, one module per exercise notebook.

Every module here is imported on the first ``check()`` and registers its parts with
``@part("grade_id", points=...)`` (see docs/grading.md). ``demo`` holds the parts of the small
demonstration course the grader's tests use; it is also the worked example for authors.
"""
