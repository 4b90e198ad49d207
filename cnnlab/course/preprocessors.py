"""nbgrader preprocessors the course adds to nbgrader's own (see nbgrader_config.py)."""
from __future__ import annotations

import html
import os
import re

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

__all__ = ["HideTestTracebacks", "StripHiddenTests", "MathToMathML", "latex_to_mathml",
           "markdown_math_to_mathml", "TEMPLATES"]


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


# --------------------------------------------------------------------------- offline math
#: the characters markdown would act on inside MathML text, written as character references
_MD_SPECIAL = {c: f"&#{ord(c)};" for c in "*_`\\[]$~|"}
_CODE = re.compile(r"(^|\n)(```|~~~).*?(\n\2[^\n]*(?=\n|$)|$)|(`+)(?:(?!\4).)+?\4", re.S)
_MATH = re.compile(
    r"(?<![\\$])\$\$(?P<block>.+?)\$\$"                     # $$ … $$ (may span lines)
    r"|(?<![\\$])\$(?P<inline>[^\s$](?:(?:[^$\n]|\n(?![ \t]*\n))*?[^\s\\$])?)\$(?!\d)"  # $…$ in a paragraph
    r"|\\\((?P<paren>.+?)\\\)|\\\[(?P<bracket>.+?)\\\]",
    re.S)


def _inert(mathml: str) -> str:
    """MathML whose text nodes markdown leaves alone (``*``, ``_``, … as character references)."""
    return re.sub(r">([^<]+)<", lambda m: ">" + "".join(_MD_SPECIAL.get(c, c) for c in m.group(1)) + "<",
                  mathml)


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """One formula as a single line of MathML (``<math>…</math>``), or, when the converter
    cannot read it, the TeX source in a ``<code>`` element: never a script to run.

    >>> latex_to_mathml(r"\\frac{a}{b}").startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"')
    True
    >>> "<mfrac>" in latex_to_mathml(r"\\frac{a}{b}", display=True)
    True
    """
    from latex2mathml.converter import convert

    try:
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any TeX the converter does not know
        return f'<code class="tex">{html.escape(tex.strip())}</code>'
    return _inert(out.replace("\n", " "))


def markdown_math_to_mathml(source: str) -> str:
    """Replace ``$…$``, ``$$…$$``, ``\\(…\\)`` and ``\\[…\\]`` in markdown by MathML, leaving
    code spans and fenced code blocks untouched.

    >>> out = markdown_math_to_mathml("Area $a^2$ and `$x$` in code")
    >>> out.count("<math"), out.endswith("and `$x$` in code")
    (1, True)
    """
    pieces, last = [], 0
    for code in _CODE.finditer(source):
        pieces.append(_convert_math(source[last:code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_convert_math(source[last:]))
    return "".join(pieces)


def _convert_math(text: str) -> str:
    def one(m):
        display = m.group("block") is not None or m.group("bracket") is not None
        tex = next(g for g in (m.group("block"), m.group("inline"), m.group("paren"), m.group("bracket"))
                   if g is not None)
        return latex_to_mathml(tex, display)
    return _MATH.sub(one, text)


class MathToMathML(NbGraderPreprocessor):
    """Feedback: formulas in markdown cells become MathML, which a browser renders itself.

    nbconvert's HTML puts the TeX into the page and loads MathJax from a CDN to typeset it;
    a student reading feedback offline (or behind a firewall) then sees raw ``$\\frac{…}``.
    With this preprocessor and ``templates/feedback/mathjax.html.j2`` first on the template
    path (``nbgrader_config.py``), which loads no MathJax, the feedback needs no network.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and ("$" in cell.source or "\\(" in cell.source
                                             or "\\[" in cell.source):
            cell.source = markdown_math_to_mathml(cell.source)
        return cell, resources


#: put first in ``HTMLExporter.extra_template_basedirs``: its ``feedback/mathjax.html.j2``
#: shadows nbconvert's MathJax macro in nbgrader's feedback template with one that loads nothing
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
