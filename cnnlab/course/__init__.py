"""Course tooling: nbgrader pipeline (``cnnlab-course``) and the students' checks.

``cnnlab.course.checks`` (numpy only) is what assignment notebooks import. Everything
else here needs nbgrader and is imported on demand by :mod:`cnnlab.course.cli`.
"""
