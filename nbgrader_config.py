"""nbgrader configuration for the cnnlab course (read by every ``nbgrader`` command run
from this directory, and by ``cnnlab-course``, which finds it from anywhere in the repo).

    solutions/<assignment>/      nbgrader's source directory (instructors edit these)
    assignments/<assignment>/    nbgrader's release directory (generated, committed)
    submitted/ autograded/ feedback/ gradebook.db exports/   grading work, git-ignored

For a whole class on JupyterHub, see the instructors' section of README.md: the
exchange directory and the course id below are what ``release_assignment``,
``fetch_assignment``, ``submit`` and ``collect`` need.
"""
import os

c = get_config()  # noqa: F821  (injected by traitlets when it loads this file)

_here = os.path.dirname(os.path.abspath(__file__))

# --- where things live -----------------------------------------------------------------
c.CourseDirectory.root = _here
c.CourseDirectory.course_id = "cnnlab"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
# gradebook: sqlite file at <root>/gradebook.db (nbgrader's default for this root)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# --- the shared exchange (JupyterHub); the default root is nbgrader's own -------------
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")

# --- generating the release ----------------------------------------------------------
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# --- autograding ---------------------------------------------------------------------
# Every cell gets at most this many seconds; an infinite loop is interrupted and only
# that cell (and the tests that need it) fail. `cnnlab-course grade --timeout` overrides.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
# The grading executor runs each student's kernel under an address-space cap (a memory
# bomb raises MemoryError in that cell instead of taking the machine down), restarts a
# kernel that dies and replays the cells before the fatal one, and caps each cell's output.
c.Autograde.autograde_preprocessors = [
    "cnnlab.course.kernel.GradingExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradingExecute.memory_limit = "4G"
c.GradingExecute.max_output_chars = 100_000
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60
# A deleted test cell is put back (with a note saying so) rather than silently scoring 0.
c.OverwriteCells.add_missing_cells = True
c.OverwriteCells.missing_cell_notification = (
    "NOTE FROM THE GRADER: this test cell ({cell_id}) was missing from your submission; "
    "it was put back from the assignment and run against your code.\n\n"
)

# --- feedback: never show hidden tests -----------------------------------------------
# StripHiddenTests (nbgrader's ClearHiddenTests, for every cell) strips them; HideTestTracebacks keeps a failing
# hidden test from being quoted by its traceback (the error message stays).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "cnnlab.course.preprocessors.HideTestTracebacks",
    "cnnlab.course.preprocessors.StripHiddenTests",
    "cnnlab.course.preprocessors.MathToMathML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# --- feedback works offline: formulas become MathML (MathToMathML above), and
# cnnlab/course/templates/feedback/mathjax.html.j2, first on the template path, replaces
# nbconvert's MathJax macro (a <script> from a CDN) by one that loads nothing. nbgrader's own
# template directory follows it: the feedback template itself is nbgrader's.
def _feedback_templates():
    import nbgrader

    from cnnlab.course.preprocessors import TEMPLATES

    nbgrader_templates = os.path.join(os.path.dirname(os.path.abspath(nbgrader.__file__)),
                                      "server_extensions", "formgrader", "templates")
    return [TEMPLATES, nbgrader_templates]


c.HTMLExporter.extra_template_basedirs = _feedback_templates()
