""""Try it" exercises for the lecture notebooks: instant feedback, never an exception.

:class:`Quiz` asks for a number (fractions like ``5/3`` accepted), a tuple of numbers, a
word, or one of several choices, and answers on Enter or on the *check* button.
:func:`try_function` runs a student's function on a few cases against a reference and
prints one line per case. Both are for lecture notebooks, which must run top to bottom
untouched: an unanswered exercise says "not answered yet" instead of raising. (Graded
checks live in :mod:`cnnlab.course.checks`.)

The lessons' quizzes live in ``quizzes.json`` next to this module and are shown with
:meth:`Quiz.load`, so a lesson's cell code does not give the answer away.
"""
from __future__ import annotations

import functools
import html
import json
import pathlib

import ipywidgets as widgets
import numpy as np

from .._validate import _check_callable, _check_real
from ..viz import fmt
from ._controls import STYLE

__all__ = ["Quiz", "try_function"]

#: the lessons' questions, answers, hints and explanations, by key ("01-1" …)
QUIZ_BANK = pathlib.Path(__file__).with_name("quizzes.json")


@functools.lru_cache(maxsize=1)
def load_bank():
    """The quiz bank: ``{key: {"question", "answer", "choices"?, "hint"?, "explanation"?, "tol"?}}``.

    A typed answer is stored as the text a student would type (``"1/8"``, ``"1, 1"``) and
    parsed like one; with ``choices`` it is the right choice.
    """
    return json.loads(QUIZ_BANK.read_text(encoding="utf-8"))


def _parse(text):
    """A number, a tuple of numbers, or a lower-cased word from the answer box."""
    from .signals import parse_numbers

    text = text.strip()
    if not text:
        return None
    try:
        values = parse_numbers(text.strip("()[]"), "answer")
    except (ValueError, TypeError, ArithmeticError):
        return text.lower()
    return float(values[0]) if values.size == 1 else tuple(float(v) for v in values)


def _check_answer(answer):
    """A number, a str, a tuple of numbers, or a list of those (TypeError otherwise)."""
    items = answer if isinstance(answer, list) else [answer]
    if not items:
        raise ValueError("answer must not be an empty list")
    for a in items:
        parts = a if isinstance(a, tuple) else (a,)
        for p in parts:
            if isinstance(p, str) and not isinstance(a, tuple):
                continue
            _check_real(p, "answer")


def _same(given, expected, tol):
    if isinstance(expected, str):
        return isinstance(given, str) and given.strip().lower() == expected.strip().lower()
    if isinstance(expected, (tuple, list)):
        if not isinstance(given, tuple) or len(given) != len(expected):
            return False
        return all(_same(g, e, tol) for g, e in zip(given, expected))
    if isinstance(given, (tuple, str)) or given is None:
        return False
    return abs(float(given) - float(expected)) <= tol * max(1.0, abs(float(expected)))


class Quiz:
    """One question with an instant check.

    Parameters
    ----------
    question : str
        Shown above the answer box (HTML allowed).
    answer : number, tuple of numbers, str, or list of them
        The accepted answer(s); a list accepts any of its entries. With ``choices`` it is
        the correct choice.
    choices : sequence of str, optional
        Show these as buttons instead of a text box.
    hint : str
        Shown after a wrong answer.
    explanation : str
        Shown after a right answer.
    tol : float
        Relative tolerance for numbers.

    Attributes
    ----------
    widget : ipywidgets.VBox
        Class ``cnnlab-quiz``; the feedback is an HTML widget with class ``cnnlab-quiz-feedback``.
    correct : bool or None
        Outcome of the last check (``None`` before any answer).

    Examples
    --------
    >>> q = Quiz("Output length for n=9, k=3, P=1, S=2?", 5, hint="use the formula")
    >>> q.check("4"), q.check("5"), q.check("10/2")
    (False, True, True)
    >>> Quiz("Which is commutative?", "convolution", choices=["convolution", "correlation"]).check("correlation")
    False
    """

    def __init__(self, question, answer, *, choices=None, hint="", explanation="", tol=1e-6):
        for label, text in (("question", question), ("hint", hint), ("explanation", explanation)):
            if not isinstance(text, str):
                raise TypeError(f"{label} must be a str, got {text!r}")
        tol = _check_real(tol, "tol", nonnegative=True)
        _check_answer(answer)
        if choices is not None:
            if isinstance(choices, (str, bytes)) or not isinstance(choices, (list, tuple)) or not choices \
                    or not all(isinstance(c, str) for c in choices):
                raise TypeError(f"choices must be None or a non-empty list of str, got {choices!r}")
        self.question, self.answer, self.hint, self.explanation, self.tol = question, answer, hint, explanation, tol
        self.correct = None
        self._choices = choices is not None
        self.feedback = widgets.HTML(value="")
        self.feedback.add_class("cnnlab-quiz-feedback")
        prompt = widgets.HTML(value=f"<b>Try it:</b> {question}")
        if choices is not None:
            choices = list(choices)
            if answer not in choices:
                raise ValueError(f"answer must be one of the choices {choices}, got {answer!r}")
            self.input = widgets.ToggleButtons(options=choices, value=None, description="answer", style=STYLE)
            self.input.observe(lambda ch: self.check(ch["new"]), names="value")
            row = [self.input]
        else:
            self.input = widgets.Text(value="", placeholder="type your answer, then Enter", description="answer",
                                      style=STYLE, continuous_update=False)
            self.input.observe(lambda ch: self.check(ch["new"]), names="value")
            button = widgets.Button(description="check", button_style="info")
            button.on_click(lambda _: self.check(self.input.value))
            row = [self.input, button]
        self.widget = widgets.VBox([prompt, widgets.HBox(row), self.feedback])
        self.widget.add_class("cnnlab-quiz")

    @classmethod
    def load(cls, key):
        """The quiz ``key`` of the lessons' bank (``quizzes.json``), e.g. ``Quiz.load("01-1")``.

        Examples
        --------
        >>> q = Quiz.load("01-1")
        >>> q.check("4"), q.check("5")
        (False, True)
        """
        bank = load_bank()
        if key not in bank:
            raise ValueError(f"key must be one of the quiz bank's keys {sorted(bank)}, got {key!r}")
        entry = dict(bank[key])
        answer = entry.pop("answer")
        if "choices" not in entry:
            answer = [_parse(a) for a in answer] if isinstance(answer, list) else _parse(answer)
        return cls(entry.pop("question"), answer, **entry)

    def check(self, value):
        """Check an answer (text as typed, or a choice) and show the verdict; returns True/False.

        Never raises: an answer that cannot be read (``1e999``, a word where a number is
        expected) is simply not right."""
        if value is None or (isinstance(value, str) and not value.strip()):
            self.correct = None
            self.feedback.value = '<span style="color:#777">not answered yet</span>'
            return False
        try:
            given = _parse(value) if isinstance(value, str) and not self._choices else value
            accepted = self.answer if isinstance(self.answer, list) else [self.answer]
            self.correct = any(_same(given, a, self.tol) for a in accepted)
        except Exception:  # noqa: BLE001 - an unreadable answer is a wrong one, never a crash
            self.correct = False
        if self.correct:
            text = f'<span style="color:#1a7f37">✔ right.</span> {self.explanation}'
        else:
            text = f'<span style="color:#a00">✘ not quite.</span> {html.escape(self.hint)}'
        self.feedback.value = text
        return self.correct

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _pretty(a):
    try:
        return "[" + ", ".join(fmt(v) for v in np.ravel(a)) + "]" if np.ndim(a) else fmt(a)
    except Exception:  # noqa: BLE001 - complex or odd values: show them as Python does
        return f"{a!r:.80}"


def try_function(fn, reference, cases, *, name=None, rtol=1e-7, atol=1e-9):
    """Run ``fn`` and ``reference`` on each case and report, one line per case; never raises.

    Parameters
    ----------
    fn : callable
        The student's function.
    reference : callable
        What it should agree with (usually a cnnlab function).
    cases : list of tuple
        Positional arguments for each call.

    Returns
    -------
    bool
        True when every case agrees. The report is printed.

    Examples
    --------
    >>> ok = try_function(lambda x: x[::-1], lambda x: np.flip(x), [(np.arange(3),)], name="flip")
    ✔ flip(array([0, 1, 2])) = [2, 1, 0]
    >>> def todo(x):
    ...     raise NotImplementedError
    >>> try_function(todo, np.flip, [(np.arange(3),)], name="todo")
    … todo is not written yet (it raised NotImplementedError)
    False
    """
    reference = _check_callable(reference, "reference")
    if isinstance(cases, (str, bytes)) or not isinstance(cases, (list, tuple)) \
            or not all(isinstance(c, tuple) for c in cases):
        raise TypeError(f"cases must be a list of tuples of arguments, got {cases!r}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be None or a str, got {name!r}")
    rtol = _check_real(rtol, "rtol", nonnegative=True)
    atol = _check_real(atol, "atol", nonnegative=True)
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        print(f"✘ {name} is not a function (got {type(fn).__name__}): define it with def")
        return False
    ok = True
    for args in cases:
        shown = ", ".join(repr(a) for a in args)
        try:
            expected = np.asarray(reference(*args))
        except Exception as exc:  # noqa: BLE001 - the case itself is impossible
            raise ValueError(f"cases: reference{args!r} raised {type(exc).__name__}: {exc}") from exc
        try:
            got = fn(*args)
        except NotImplementedError:
            print(f"… {name} is not written yet (it raised NotImplementedError)")
            return False
        except Exception as exc:  # report any mistake as feedback, not as a crash
            print(f"✘ {name}({shown}) raised {type(exc).__name__}: {exc}")
            ok = False
            continue
        if got is None:
            print(f"… {name}({shown}) returned None: not written yet?")
            ok = False
            continue
        try:
            got = np.asarray(got, dtype=float) if not isinstance(got, np.ndarray) else got
            same = got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))
        except Exception:  # noqa: BLE001 - not numbers, or not comparable: a wrong answer
            print(f"✘ {name}({shown}) returned {got!r:.80}, which is not an array of numbers like "
                  f"{expected!r:.80}")
            ok = False
            continue
        if same:
            print(f"✔ {name}({shown}) = {_pretty(got)}")
        else:
            print(f"✘ {name}({shown}) = {_pretty(got)} (shape {got.shape}), expected {_pretty(expected)} "
                  f"(shape {expected.shape})")
            ok = False
    return ok

