"""Checks that assignment notebooks call from their visible test cells.

``from cnnlab.course.checks import ps1`` then ``ps1.check_conv1d(conv1d)``. Each check
prints one line when everything passes and otherwise raises
:class:`~cnnlab.course.checks._core.CheckFailed` with a message a teacher would write:
the call, what came back, what was expected, a hint. Only visible checks live here (this
package ships to students); hidden tests exist only in ``solutions/``.
"""
from ._core import CheckFailed, Checker

__all__ = ["CheckFailed", "Checker"]
