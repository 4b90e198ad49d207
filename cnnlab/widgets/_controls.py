"""Small control builders shared by the explorers: one look for every slider, menu and box."""
from __future__ import annotations

import re

import ipywidgets as widgets

#: the course's label width
STYLE = {"description_width": "120px"}
#: the usual width of one control
WIDTH = "340px"


def _slug(text: str) -> str:
    """``'P (each side)'`` -> ``'p-each-side'``: a CSS-safe class suffix."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "control"


def hook(control):
    """Give ``control`` the CSS class ``cnnlab-ctl-<slug of its description>`` (how browser tests
    find it) and return it; :meth:`Explorer._finish` hooks every control it is given."""
    if getattr(control, "description", ""):
        control.add_class("cnnlab-ctl-" + _slug(control.description))
    return control


def slider(kind, value, lo, hi, description, *, step=None, continuous=False, width=WIDTH, style=STYLE, **kw):
    """An Int/FloatSlider with the course's label width; ``continuous_update`` off by default."""
    from .._validate import _check_int, _check_real

    # the initial value usually comes from a constructor argument: the contract's errors,
    # not a TraitError (an out-of-range number is clamped, as the slider always did)
    if kind is int:
        _check_int(value, description)
        value = max(lo, min(hi, value))
    else:
        value = max(lo, min(hi, _check_real(value, description)))
    cls = widgets.IntSlider if kind is int else widgets.FloatSlider
    if step is not None:
        kw["step"] = step
    return cls(value=value, min=lo, max=hi, description=description, style=style,
               continuous_update=continuous, layout=widgets.Layout(width=width), **kw)


def dropdown(options, value, description, *, width=WIDTH, style=STYLE, **kw):
    """A Dropdown menu with the course's label width."""
    return widgets.Dropdown(options=options, value=value, description=description, style=style,
                            layout=widgets.Layout(width=width), **kw)


def toggles(options, value, description, *, style=STYLE, **kw):
    """A row of ToggleButtons with the course's label width."""
    return widgets.ToggleButtons(options=options, value=value, description=description, style=style, **kw)


def text(value, description, *, width="420px"):
    """A Text box that reports its value on Enter or when it loses focus (not on every key)."""
    return widgets.Text(value=value, description=description, style=STYLE, continuous_update=False,
                        layout=widgets.Layout(width=width))


def column(*children):
    """The controls' usual box: one column, never narrower than its labels."""
    return widgets.VBox(list(children), layout=widgets.Layout(min_width="260px"))


def stepper(description="position", *, interval=900, style=STYLE, width=WIDTH):
    """An IntSlider and a Play button linked together (Play drives the slider).

    Returns
    -------
    (slider, play)
        Set both ``max`` values when the range changes (:func:`set_range`).
    """
    pos = widgets.IntSlider(value=0, min=0, max=0, description=description, style=style,
                            layout=widgets.Layout(width=width))
    play = widgets.Play(value=0, min=0, max=0, step=1, interval=interval, description="play",
                        show_repeat=True)
    play.add_class("cnnlab-play")
    widgets.link((play, "value"), (pos, "value"))
    return pos, play


def set_range(pos, play, last):
    """Let ``pos`` and ``play`` run over ``0 .. last`` (clamping the current value)."""
    last = max(int(last), 0)
    if pos.value > last:
        pos.value = last
    pos.max = play.max = last
