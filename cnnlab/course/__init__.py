"""Course tooling, in two sides.

Student side (ships with the course, runs in the students' kernels):
    ``cnnlab.course.checks``: the visible checks of each problem set (numpy only; torch
    lazily), their formatting and comparisons (``_core``) and the library rule
    (``_rules``, ``RULES`` in each ``psN``).

Instructor side (needs nbgrader; imported on demand by :mod:`cnnlab.course.cli`):
    ``judge/``  trusted grading: the bubblewrap sandbox, the plain-data wire format, the
                kernel-side collector and the trusted judge that runs the tests;
    ``kernel``  the grading executor nbgrader runs (sandboxed, restartable kernels);
    ``grading`` ``cnnlab-course grade``: a class in parallel, feedback, CSV exports;
    ``build``, ``authoring``, ``intake``, ``leaks``, ``bundle``, ``export``,
    ``preprocessors``, ``course``: generating, checking and distributing assignments.
No hidden test lives in the package: they are in the instructors' ``solutions/``.
"""
