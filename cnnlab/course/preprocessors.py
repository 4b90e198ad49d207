"""nbgrader preprocessors the course adds to nbgrader's own (see nbgrader_config.py)."""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

__all__ = ["HideTestTracebacks", "StripHiddenTests"]


class StripHiddenTests(ClearHiddenTests):
    """Feedback: remove hidden-test regions from *every* cell.

    nbgrader's ``ClearHiddenTests`` refuses (and fails the whole feedback) when it finds
    a hidden-test region outside a test cell, which a student can cause by pasting one
    into their own cell. Feedback strips it wherever it is.
    """

    enforce_metadata = Bool(False).tag(config=True)


class HideTestTracebacks(NbGraderPreprocessor):
    """Feedback: an error in a test cell shows its type and message only.

    A traceback quotes the source lines around the failing call, which for a failing
    hidden test would print the hidden test itself into the student's feedback
    (``ClearHiddenTests`` only strips the cell's source). The checks in
    :mod:`cnnlab.course.checks` put everything a student needs into the message.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"\x1b[0;31m{output['ename']}\x1b[0m: {output['evalue']}"]
        return cell, resources
