"""Walk specs: what a step does and how a spec checks an explorer (see ``__init__``)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from .. import _explorers as E

_KIND_OF_CONTROL = {
    "slider": "key", "dropdown": "pick", "select": "pick", "toggle-buttons": "toggle",
    "radio": "radio", "checkbox": "click", "text": "text", "textarea": "textarea",
    "button": "click", "play": "play",
}
_GESTURES = {
    "key": E.slider_key_gesture,
    "drag": E.slider_drag_gesture,
    "type": E.slider_type_gesture,
    "pick": E.pick_gesture,
    "toggle": E.toggle_gesture,
    "radio": E.radio_gesture,
    "text": E.text_gesture,
    "textarea": E.textarea_gesture,
    "play": E.play_gesture,
}


@dataclass(frozen=True)
class Step:
    control: str
    how: str = "default"
    arg: object = None
    expect: str = "figure"
    value: object = None  # what the control must show afterwards

    def resolve(self, control: E.Control):
        kind = _KIND_OF_CONTROL[control.kind] if self.how == "default" else self.how
        if kind == "click":
            fn = E.checkbox_gesture if control.kind == "checkbox" else E.button_gesture
        else:
            fn = _GESTURES[kind]
        kwargs = {}
        if self.arg is not None:
            kwargs = {"type": {"value": self.arg}, "text": {"value": self.arg},
                      "textarea": {"value": self.arg}, "drag": {"fraction": self.arg}}.get(
                          kind, {"option": self.arg})
        return kind, fn, kwargs


@dataclass
class ExplorerSpec:
    #: the walk, or a function of the start values (control name -> value) returning it
    steps: list[Step] | Callable[[dict], list[Step]]
    check: Callable[[dict, dict, str], None] | None = None
    #: controls the walk leaves alone on purpose
    not_operated: tuple = ()
    #: called with (explorer, change, where) after each step, for checks across the change
    on_change: Callable[[object, E.Change, str], None] | None = None


def number(text):
    """A number as the explorers print it: ``5/3``, ``−1/2`` (true minus), ``0.123``."""
    t = str(text).strip().replace("−", "-")
    try:
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        return float(t)


def same(shown: str, exact, where: str) -> None:
    """``shown`` (3 significant digits or an exact fraction) is ``exact``."""
    value = number(shown)
    if isinstance(value, Fraction) and "." not in shown:
        assert value == Fraction(exact).limit_denominator(10**6), f"{where}: shows {shown}, expected {exact}"
    else:
        assert math.isclose(float(value), float(exact), rel_tol=2e-3, abs_tol=1e-9), (
            f"{where}: shows {shown}, expected {float(exact):.6g}")


def numbers(text: str) -> list:
    return [number(t) for t in re.split(r"[\s,;\[\]]+", text.strip()) if t]


def tape_outputs(view) -> dict[int, str]:
    return {int(c["index"]): c["text"] for c in view["cells"] if "output" in c["classes"]}
