"""The instructor side of grading: trusted verdicts on values from a sandboxed kernel.

Student code runs in a grading kernel inside an operating-system sandbox
(:mod:`.sandbox`). The kernel is only asked to *produce values*: the trusted grading
process (:mod:`.link`) runs each test cell of the instructors' source notebook itself,
with its own imports, and every call of a student's function goes to the kernel as plain
data (:mod:`.wire`: JSON and ``.npy`` bytes, never pickle) and comes back the same way
(:mod:`.collector` is the kernel's side). Expected values are computed, and compared, in
the trusted process only; nothing the kernel does can reach them.

The student-facing side (the visible checks that ship with the course) is
:mod:`cnnlab.course.checks`.
"""
