"""Feedback HTML renders formulas offline: MathML instead of MathJax from a CDN.

A notebook goes through the exporter and the preprocessors that ``nbgrader
generate_feedback`` builds from the course's ``nbgrader_config.py`` (all but
``GetGrades``, which reads the gradebook; its scores are set by hand here).
"""
from __future__ import annotations

import json
import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
pytest.importorskip("latex2mathml")

from cnnlab.course.preprocessors import latex_to_mathml, markdown_math_to_mathml  # noqa: E402

pytestmark = pytest.mark.course
ROOT = pathlib.Path(__file__).resolve().parents[1]

MARKDOWN = r"""## Output size

For an input of length $n$ and a kernel of length $f$:

$$ n_{\text{out}} = \left\lfloor \frac{n + 2p - f}{s} \right\rfloor + 1 .$$

A payoff $X \in \{1, 2, 3\}$ with probabilities $\tfrac14, \tfrac12,
\tfrac14$; the matrix
$$T(x) = \begin{bmatrix} x_0 & 0\\ x_1 & x_0 \end{bmatrix}$$
and $a_i * b_i$ stays math. Code stays code: `x = "$5"` and

```python
price = "$3 and $4"
```
"""


def _exporter():
    """The HTML exporter and preprocessors of ``generate_feedback`` with the course config."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import GetGrades
    from traitlets.config import Config

    from cnnlab.course.course import load_config

    config = load_config(ROOT)
    config.CourseDirectory.root = str(ROOT)
    app = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    fixed = Config()
    fixed.HTMLExporter.template_name = "feedback"          # as NbGraderAPI.generate_feedback does
    app.update_config(fixed)
    exporter = HTMLExporter(parent=app, config=app.config)
    names = []
    for pp in app.preprocessors:
        name = pp if isinstance(pp, str) else f"{pp.__module__}.{pp.__name__}"
        names.append(name)
        if name.rsplit(".", 1)[-1] != GetGrades.__name__:
            exporter.register_preprocessor(pp, enabled=True)
    return exporter, names


def _notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(MARKDOWN),
                nbformat.v4.new_code_cell("print(1)"),
                nbformat.v4.new_markdown_cell("Inline only: $\\alpha_k = \\frac{1}{M_k}\\sum_{i,j} A_{ij}$.")]
    # saved widget state: nbconvert's own templates would load the widget manager from a CDN
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    return nb


def _render(nb) -> str:
    exporter, _ = _exporter()
    resources = {"nbgrader": {"notebook": "ps1", "assignment": "ps1", "student": "s1",
                              "score": 3.0, "max_score": 4.0, "late_penalty": 0.0}}
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


@pytest.fixture(scope="module")
def html():
    return _render(_notebook())


def test_config_runs_the_mathml_preprocessor():
    _, names = _exporter()
    assert "cnnlab.course.preprocessors.MathToMathML" in names


def test_formulas_are_mathml(html):
    assert html.count("<math ") >= 6
    assert html.count('display="block"') == 2
    assert "<mfrac>" in html and "<mtable" in html          # a fraction and the bmatrix
    for tex in (r"\frac", r"\lfloor", r"\begin{bmatrix}", r"\tfrac14", "$n$"):
        assert tex not in html, tex
    # markdown did not touch the inside of a formula: a * b is an operator, not emphasis
    assert "<em>" not in html.split("</h2>", 1)[-1].split("```")[0]


def test_code_is_left_alone(html):
    assert "&quot;$5&quot;" in html or '"$5"' in html
    assert "$3 and $4" in html


def test_no_script_or_stylesheet_from_the_network(html):
    lowered = re.sub(r"<!--.*?-->", "", html.lower(), flags=re.S)   # (nbgrader's "loading mathjax" comment)
    assert "mathjax" not in lowered
    assert "cdn" not in lowered
    remote = re.findall(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)\s*=\s*["']?(?:https?:)?//""", lowered)
    assert remote == []
    assert re.findall(r"""@import\s+(?:url\()?["']?(?:https?:)?//""", lowered) == []


def test_every_formula_of_the_assignments_converts():
    """latex2mathml reads all the TeX the problem sets use (no <code> fallback, no $ left)."""
    count = 0
    for path in sorted((ROOT / "assignments").glob("*/*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            out = markdown_math_to_mathml("".join(cell["source"]))
            assert '<code class="tex">' not in out, (path.name, out)
            assert "$" not in out, (path.name, out)
            count += out.count("<math ")
    assert count > 100


def test_unknown_tex_falls_back_to_escaped_code():
    out = latex_to_mathml(r"\frac{<script>}")
    assert "<script>" not in out
