"""Operate a cnnlab explorer in the page the way a person does, and watch what it redraws.

An explorer is the ``.cnnlab-explorer`` box that ``cnnlab.widgets.Explorer`` renders:
its controls (ipywidgets 8 views) and one ``.widget-output`` holding the readouts
(HTML) and the figure (a PNG ``<img>``). :func:`controls_of` lists the controls with
their kind, description and current value as the page shows them; :func:`operate`
changes one control with the gesture a person would use (arrow key on a slider
handle, a mouse drag, a click on a toggle button, a pick in a dropdown, typing into a
field) and returns what the page did: the time from the input event to the decoded new
figure, and the figure/readouts/error before and after.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import _js as JS

#: ipywidgets 8 view classes of the controls an explorer may hold
CONTROL_SELECTOR = ", ".join([
    ".widget-slider",
    ".widget-dropdown",
    ".widget-toggle-buttons",
    ".widget-checkbox",
    ".widget-play",
    ".widget-text",
    ".widget-textarea",
    ".widget-radio",
    ".widget-select",
    ".widget-button",
])


@dataclass
class Control:
    index: int
    kind: str
    description: str
    value: object
    disabled: bool
    options: list | None = None
    min: float | None = None
    max: float | None = None
    now: float | None = None  # a slider's position (its index, for a SelectionSlider)

    @property
    def name(self) -> str:
        return self.description or f"{self.kind} #{self.index}"


@dataclass
class Change:
    """What one gesture did to the page."""

    control: str
    gesture: str
    before: dict
    after: dict
    latency_ms: float | None
    error: str | None = None
    values_before: dict = field(default_factory=dict)
    values_after: dict = field(default_factory=dict)
    state: "State | None" = None  # the explorer after the change

    @property
    def figure_changed(self) -> bool:
        return self.after["src"] is not None and self.after["src"] != self.before["src"]

    @property
    def page_changed(self) -> bool:
        return (self.figure_changed or self.after["text"] != self.before["text"]
                or self.after["error"] != self.before["error"])


def controls_of(explorer) -> list[Control]:
    return [Control(**c) for c in explorer.evaluate(JS.LIST_CONTROLS, CONTROL_SELECTOR)]


def values_of(explorer) -> dict:
    return {c.name: c.value for c in controls_of(explorer) if c.kind not in ("play", "button")}


def view_of(explorer) -> dict:
    return explorer.evaluate(JS.VIEW)


@dataclass
class State:
    """An explorer as the page shows it: its controls, their values, its output."""

    controls: list
    values: dict
    view: dict
    probe: dict | None


def state_of(explorer) -> State:
    """Controls, values, output view and the redraw probe, in one round trip."""
    state = explorer.evaluate(JS.STATE, [CONTROL_SELECTOR, JS.EVENTS])
    controls = [Control(**c) for c in state["controls"]]
    values = {c.name: c.value for c in controls if c.kind not in ("play", "button")}
    return State(controls, values, state["view"], state["probe"])


def control_locator(explorer, control: Control):
    return explorer.locator(CONTROL_SELECTOR).nth(control.index)


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() else value


def slider_key_gesture(explorer, control: Control, arm):
    """Press an arrow key on the slider's handle (towards the side with room)."""
    handle = control_locator(explorer, control).locator(".noUi-handle")
    key = "ArrowRight" if control.now < control.max else "ArrowLeft"
    arm(["keydown"])
    handle.press(key)
    return f"key {key}"


def slider_drag_gesture(explorer, control: Control, arm, fraction: float = 0.5):
    """Drag the handle with the mouse to ``fraction`` of the track (or to the far end)."""
    page = explorer.page
    element = control_locator(explorer, control)
    handle = element.locator(".noUi-handle")
    track = element.locator(".noUi-base")
    handle.scroll_into_view_if_needed()
    hbox, tbox = handle.bounding_box(), track.bounding_box()
    start_x, y = hbox["x"] + hbox["width"] / 2, hbox["y"] + hbox["height"] / 2
    target_x = tbox["x"] + fraction * tbox["width"]
    if abs(target_x - start_x) < tbox["width"] / 8:  # already there: drag to the far end
        far = 0.95 if start_x < tbox["x"] + tbox["width"] / 2 else 0.05
        target_x = tbox["x"] + far * tbox["width"]
    page.mouse.move(start_x, y)
    page.mouse.down()
    for step in range(1, 9):
        page.mouse.move(start_x + (target_x - start_x) * step / 8, y)
    arm(["mouseup"])
    page.mouse.up()
    return "mouse drag"


def slider_type_gesture(explorer, control: Control, arm, value):
    """Click the slider's readout, type a value, press Enter (ipywidgets' editable readout)."""
    readout = control_locator(explorer, control).locator(".widget-readout")
    readout.click()
    explorer.page.keyboard.press("Control+A")
    explorer.page.keyboard.type(str(value))
    arm(["keydown"])
    explorer.page.keyboard.press("Enter")
    return f"typed {value}"


def _next(control: Control, option):
    if option is not None:
        return option
    index = control.options.index(control.value) if control.value in control.options else -1
    return control.options[(index + 1) % len(control.options)]


def pick_gesture(explorer, control: Control, arm, option=None):
    """Pick another entry of a dropdown (the next one by default)."""
    option = _next(control, option)
    arm(["change"])
    control_locator(explorer, control).locator("select").select_option(index=control.options.index(option))
    return f"picked {option!r}"


def toggle_gesture(explorer, control: Control, arm, option=None):
    """Click another toggle button (the next one by default)."""
    option = _next(control, option)
    button = control_locator(explorer, control).locator("button").nth(control.options.index(option))
    arm(["click"])
    button.click()
    return f"clicked {option!r}"


def radio_gesture(explorer, control: Control, arm, option=None):
    option = _next(control, option)
    radio = control_locator(explorer, control).locator("input").nth(control.options.index(option))
    arm(["click"])
    radio.check()
    return f"chose {option!r}"


def checkbox_gesture(explorer, control: Control, arm):
    box = control_locator(explorer, control).locator("input[type=checkbox]")
    arm(["click"])
    box.click()
    return "click"


_TOKEN = re.compile(r"^-?\d+(?:\.\d+)?(?:/\d+)?$")


def _another_value(text: str) -> str:
    """A different, still valid entry: a number plus one, or a list of numbers one longer."""
    current = _number(text)
    if isinstance(current, (int, float)):
        return str(current + 1)
    tokens = re.split(r"[\s,]+", str(text).strip())
    if tokens and all(_TOKEN.match(t) for t in tokens):
        sep = ", " if "," in text else " "
        return sep.join(tokens + [tokens[-1]])
    return f"{text}x"


def text_gesture(explorer, control: Control, arm, value=None):
    """Type a new value into a text/number field and press Enter."""
    field = control_locator(explorer, control).locator("input")
    if value is None:
        value = _another_value(control.value)
    field.fill(str(value))
    arm(["keydown"])
    field.press("Enter")
    return f"typed {value!r}"


def textarea_gesture(explorer, control: Control, arm, value):
    """Replace a text area's content (e.g. a kernel's numbers) and leave the field."""
    area = control_locator(explorer, control).locator("textarea")
    area.click()
    explorer.page.keyboard.press("Control+A")
    arm(["input"])
    explorer.page.keyboard.insert_text(str(value))
    area.blur()
    return f"typed {value!r}"


def button_gesture(explorer, control: Control, arm):
    button = control_locator(explorer, control)
    arm(["click"])
    button.click()
    return "click"


def play_gesture(explorer, control: Control, arm):
    """Press play; the first redraw it causes is the one measured (stop it afterwards)."""
    button = control_locator(explorer, control).locator("button").first
    arm(["click"])
    button.click()
    return "play"


DEFAULT_GESTURES = {
    "slider": slider_key_gesture,
    "dropdown": pick_gesture,
    "select": pick_gesture,
    "toggle-buttons": toggle_gesture,
    "radio": radio_gesture,
    "checkbox": checkbox_gesture,
    "text": text_gesture,
    "button": button_gesture,
    "play": play_gesture,
}


class NoRedraw(AssertionError):
    pass


def operate(explorer, control: Control, gesture=None, *, timeout_ms: float = 20_000, settle: bool = False,
            before: State | None = None, root=None, **kwargs) -> Change:
    """Apply ``gesture`` (default: the control kind's) and wait for the explorer to redraw.

    ``settle``: then wait until the output stays the same for a moment (a drag on a
    slider that updates continuously redraws several times). ``before`` and ``root``
    (the explorer's element handle) save round trips when the caller has them.
    """
    gesture = gesture or DEFAULT_GESTURES.get(control.kind)
    if gesture is None:
        raise ValueError(f"no default gesture for a {control.kind} control ({control.name})")
    page = explorer.page
    before = before or state_of(explorer)  # reading the state arms the probe
    root = root or explorer.element_handle()
    clock = []
    label = gesture(explorer, control, clock.extend, **kwargs)
    try:
        page.wait_for_function(
            "(root) => root.__cnnlabProbe && root.__cnnlabProbe.t1 !== null",
            arg=root, timeout=timeout_ms, polling=10,
        )
    except Exception as exc:  # playwright's TimeoutError
        raise NoRedraw(
            f"{control.name}: {label} did not redraw the explorer within {timeout_ms / 1000:.0f}s "
            f"(values {before.values} -> {values_of(explorer)})"
        ) from exc
    if settle:
        wait_settled(explorer)
    after = state_of(explorer)
    probe = after.probe
    # the clock starts at the gesture's last event of its type before the redraw
    starts = [t for t in probe["times"].get(clock[0], []) if t <= probe["t1"]] if clock else []
    latency = None if settle or not starts else probe["t1"] - starts[-1]
    return Change(control.name, label, before.view, after.view, latency, probe["error"],
                  before.values, after.values, after)


def wait_settled(explorer, quiet_ms: int = 250, timeout_ms: int = 15_000) -> None:
    """Wait until the explorer's output has not changed for ``quiet_ms`` (after Play)."""
    explorer.page.wait_for_function(
        JS.SETTLED,
        arg=[explorer.element_handle(), quiet_ms], timeout=timeout_ms, polling=50,
    )
