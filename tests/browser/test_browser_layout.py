"""Every explorer of every lesson, measured as it looks in a 1366×768 laptop window.

Issue 12 ("Layout"): an explorer shows its controls and its main figure together, with
no blank band under it, and with figure text of at least 9 pt at 100 % zoom. Each lesson
that uses widgets is opened in its own JupyterLab tab whose viewport is 1366×768 CSS
pixels at device scale 1 (100 % zoom), in JupyterLab's default layout (menu bar, file
browser open on the left, tab bar, notebook toolbar, status bar), and run with "Run All".
Then, for every ``.cnnlab-explorer`` box, before any control is touched:

(a) *Controls and figure together.* The notebook's scrolling area is what is left of the
    768 px once JupyterLab's chrome is drawn (its ``clientHeight``, about 640 px).
    Scrolled so that the explorer's top is at the top of that area, its bottom must be
    visible too: the explorer's box (controls, readouts and the figure image) is at most
    ``clientHeight`` tall. (For an explorer whose main figure is HTML above its image,
    see ``MAIN_FIGURE``: from its top to the bottom of that main figure.) Its output area must not scroll (the whole figure is in view:
    ``scrollHeight <= clientHeight``), and nothing scrolls sideways: neither the explorer,
    its output area, nor the notebook has ``scrollWidth > clientWidth``, and the figure
    image is not wider than the output area.
(b) *No blank band.* What a student sees as empty under the explorer: the distance from
    the bottom of the last visible content (the figure image, or the readouts when there
    is no image) to the bottom of the output area, plus the rows at the bottom of the
    image that are pure background (read back from the decoded image in a canvas), in
    CSS px. It must be under ``BLANK_BAND_PX`` (150: the issue's band is 150–300 px).
(c) *Figure text size.* The kernel that drew the figure measures, after the draw, the
    smallest visible, non-empty ``matplotlib.text.Text`` in the explorer's figure, in
    points at the explorer's ``dpi`` (``tests/_figtext.py``; the explorer is matched to
    its box by the figure it sent). The page shows the PNG at
    ``scale = clientWidth / naturalWidth``. On screen that text is
    ``size_pt * dpi/72 * scale`` CSS px; at 100 % zoom 9 pt is 12 CSS px, so
    ``size_pt * dpi/72 * scale >= 12`` is required.

The numbers go to ``artifacts/browser/layout.json`` and the terminal summary.
"""
from __future__ import annotations

import json
import pathlib

import pytest

import _figtext  # tests/_figtext.py (tests/ is on sys.path: rootdir-style imports)
from ._labdriver import Lab
from ._layout import BLANK_BAND_PX, KERNEL_CODE, KERNEL_RUN, MEASURE, blank_band
from .test_browser_explorers import NOTEBOOKS, _explorer_key

#: a 1366×768 laptop screen, browser at 100 % zoom
VIEWPORT = {"width": 1366, "height": 768}
#: explorers whose main figure is not the figure image but HTML in the output area. The
#: convolution explorer's main figure is its tapes / grids (kernel, padded input, output:
#: what Play and "output position" move), with the formula and controls above them; its
#: figure image, the convolution matrix, is the "matrix view" below them, one scroll away.
#: For these, (a) asks that controls and main figure fit; the whole height is recorded
#: too (``whole_px``).
MAIN_FIGURE = {"cnnlab-conv-explorer": ".cnnlab-grids"}
#: 9 pt at 96 CSS px per inch
MIN_TEXT_CSS_PX = _figtext.MIN_CSS_PT * _figtext.CSS_PX_PER_PT

#: collected measurements of this run (written to layout.json at the end)
LAYOUT: dict[str, dict] = {}


#: scroll the notebook so that the explorer's top is at the top of its visible area (as far
#: as the notebook scrolls): what the screenshot in artifacts/browser/layout/ shows
SCROLL_TO_TOP = """
(root) => {
  const s = root.closest('.jp-WindowedPanel-outer') || root.closest('.jp-Notebook');
  root.scrollIntoView({block: 'start'});
  s.scrollTop += root.getBoundingClientRect().top - s.getBoundingClientRect().top;
}
"""


@pytest.fixture(scope="module")
def laptop_lab(browser, lab_server):
    """A JupyterLab tab in a 1366×768 window at 100 % zoom (its own workspace)."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield Lab(page, lab_server).load("lab/workspaces/laptop")
    finally:
        context.close()


@pytest.fixture(scope="module", autouse=True)
def _write_layout(artifacts):
    yield
    if LAYOUT:
        path = artifacts / "layout.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        old.update(LAYOUT)
        path.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


def kernel_report(lab: Lab, rel: str) -> dict:
    code = KERNEL_CODE.replace("FIGTEXT_SOURCE", repr(pathlib.Path(_figtext.__file__).read_text()))
    text = lab.page.evaluate(KERNEL_RUN, [rel, code])
    assert "__ERROR__" not in text, text
    return json.loads(text.split("__CNNLAB_LAYOUT__", 1)[1].splitlines()[0])


def judge(name: str, m: dict, fonts: dict | None) -> tuple[dict, list[str]]:
    """The numbers of one explorer and what is wrong with them."""
    problems = []
    nb = m["notebook"]
    whole = m["explorer"]["height"]
    height = whole if m["main"] is None else m["main"]["bottom"] - m["explorer"]["top"]
    record = {"explorer_px": round(height), "room_px": nb["ch"], "width_px": round(m["explorer"]["width"]),
              "room_width_px": nb["cw"], "whole_px": round(whole)}
    if height > nb["ch"]:
        what = "figure" if m["main"] is None else "main figure (the tapes/grids)"
        problems.append(f"{height:.0f} px from its top to the bottom of its {what}, the notebook shows "
                        f"{nb['ch']} px of a {m['window']['h']} px window: controls and {what} are not "
                        "visible together")
    o = m["outputScroll"]
    if o["sh"] > o["ch"] + 1:
        problems.append(f"its output area scrolls ({o['sh']} px of content in {o['ch']} px)")
    for what, s in (("explorer", m["explorerScroll"]), ("output area", o), ("notebook", {"sw": nb["sw"], "cw": nb["cw"]})):
        if s["sw"] > s["cw"] + 1:
            problems.append(f"the {what} scrolls sideways ({s['sw']} px of content in {s['cw']} px)")
    image = m["image"]
    band = blank_band(m)
    if image is not None:
        scale = image["clientWidth"] / image["naturalWidth"]
        record.update(image_px=[image["naturalWidth"], image["naturalHeight"]], scale=round(scale, 3),
                      image_blank_rows=image["blankRows"])
        if image["rect"]["right"] > m["output"]["right"] + 1:
            problems.append("the figure is wider than the output area")
        if fonts is None:
            problems.append("the kernel reported no explorer with this figure")
        elif fonts["min_pt"] is not None:
            css_px = fonts["min_pt"] * fonts["dpi"] / 72 * scale
            record.update(min_text_pt=fonts["min_pt"], dpi=fonts["dpi"], min_text_css_pt=round(css_px * 0.75, 2),
                          min_text=fonts["min_text"])
            if css_px < MIN_TEXT_CSS_PX - 1e-6:
                problems.append(f"its smallest figure text {fonts['min_text']!r} is {fonts['min_pt']} pt at "
                                f"dpi {fonts['dpi']}, shown at {scale:.2f}×: {css_px * 0.75:.1f} pt on screen "
                                f"(at least {_figtext.MIN_CSS_PT:g})")
    record["blank_band_px"] = round(band)
    if band >= BLANK_BAND_PX:
        problems.append(f"{band:.0f} px blank band under its content (at most {BLANK_BAND_PX})")
    return record, [f"{name}: {p}" for p in problems]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_explorers_fit_a_laptop_window(path, laptop_lab, artifacts):
    lab = laptop_lab
    rel = f"notebooks/{path.name}"
    lab.open_notebook(rel)
    try:
        lab.run_all(rel)
        lab.wait_widgets_rendered(rel)
        explorers = lab.panel(rel).locator(".cnnlab-explorer")
        count = explorers.count()
        if not count:
            pytest.skip(f"{path.name} shows no explorer")
        fonts = kernel_report(lab, rel)
        problems = []
        shots = artifacts / "layout" / path.stem
        shots.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            explorer = explorers.nth(i)
            key = _explorer_key(explorer.evaluate("el => [...el.classList]"))
            name = f"{path.stem}/{key}" + (f"#{i}" if count > 1 else "")
            explorer.evaluate(SCROLL_TO_TOP)
            explorer.page.wait_for_function(
                "(root) => { const img = root.querySelector(':scope > .widget-output img');"
                " return !!img && img.complete && img.naturalWidth > 0; }",
                arg=explorer.element_handle(), timeout=30_000)
            m = explorer.evaluate(MEASURE, MAIN_FIGURE.get(key))
            record, wrong = judge(name, m, fonts.get(m["image"]["key"]) if m["image"] else None)
            lab.page.screenshot(path=str(shots / f"{i}-{key}.png"))
            LAYOUT[name] = {**record, "problems": wrong}
            problems += wrong
        assert not problems, "\n".join(problems)
    finally:
        lab.close_notebook(rel)
