"""A lesson as a student with a laptop sees it: every figure measured in the page.

Issue 12 ("Layout"): an explorer shows its controls and its main figure together, with
no blank band under it, and every figure's text is at least 9 pt at 100 % zoom. The
explorer walk (``test_browser_explorers.py``) opens each lesson in a JupyterLab tab whose
viewport is 1366×768 CSS pixels at device scale 1 (100 % zoom), in JupyterLab's default
layout (menu bar, file browser open on the left, tab bar, notebook toolbar, status bar),
runs it with "Run All", and, before any control is touched, calls :func:`measure_lesson`:

For every ``.cnnlab-explorer`` box:

(a) *Controls and figure together.* The notebook's scrolling area is what is left of the
    768 px once JupyterLab's chrome is drawn (its ``clientHeight``, about 640 px).
    Scrolled so that the explorer's top is at the top of that area, its bottom must be
    visible too: the explorer's box (controls, readouts and the figure image) is at most
    ``clientHeight`` tall. (For an explorer whose main figure is HTML above its image,
    see ``MAIN_FIGURE``: from its top to the bottom of that main figure.) Its output area
    must not scroll (the whole figure is in view: ``scrollHeight <= clientHeight``), and
    nothing scrolls sideways: neither the explorer, its output area, nor the notebook has
    ``scrollWidth > clientWidth``, and the figure image is not wider than the output area.
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

For every other figure the lesson shows (a plain matplotlib cell): (c) as well. The
kernel measured each figure as IPython sent it (``_figtext.WATCH_FIGURES``, installed
before "Run All"); the page scales a figure wider than its output area down to fit.

The numbers go to ``artifacts/browser/layout.json`` and screenshots to
``artifacts/browser/layout/``.
"""
from __future__ import annotations

import json
import pathlib

import _figtext  # tests/_figtext.py (tests/ is on sys.path: rootdir-style imports)

#: the issue's "150–300 px blank band under explorers" must not happen
BLANK_BAND_PX = 150
#: a 1366×768 laptop screen, browser at 100 % zoom
LAPTOP = {"width": 1366, "height": 768}
#: explorers whose main figure is not the figure image but HTML in the output area. The
#: convolution explorer's main figure is its tapes / grids (kernel, padded input, output:
#: what Play and "output position" move), with the formula and controls above them; its
#: figure image, the convolution matrix, is the "matrix view" below them, one scroll away.
#: For these, (a) asks that controls and main figure fit; the whole height is recorded
#: too (``whole_px``).
MAIN_FIGURE = {"cnnlab-conv-explorer": ".cnnlab-grids"}
#: 9 pt at 96 CSS px per inch
MIN_TEXT_CSS_PX = _figtext.MIN_CSS_PT * _figtext.CSS_PX_PER_PT

MEASURE = r"""
async (root, mainSelector) => {
  const out = root.querySelector(':scope > .widget-output');
  const main = mainSelector ? out.querySelector(mainSelector) : null;
  const img = out.querySelector('img');
  const rect = (el) => { const r = el.getBoundingClientRect();
                         return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                                 width: r.width, height: r.height}; };
  const scroller = root.closest('.jp-WindowedPanel-outer') || root.closest('.jp-Notebook');
  // the last visible content of the output area: the image, readouts, an error box
  let contentBottom = null;
  for (const el of out.querySelectorAll('img, .jp-RenderedHTMLCommon > *, .jp-RenderedHTML > *, .cnnlab-error')) {
    const r = el.getBoundingClientRect();
    if (r.height > 0 && r.width > 0) contentBottom = Math.max(contentBottom ?? r.bottom, r.bottom);
  }
  let image = null;
  if (img) {
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const bg = [d[d.length - 4], d[d.length - 3], d[d.length - 2]];  // bottom-right pixel
    const near = (i) => Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) <= 24;
    let blankRows = 0;
    rows: for (let y = c.height - 1; y >= 0; y--) {
      for (let x = 0; x < c.width; x++) if (!near(4 * (y * c.width + x))) break rows;
      blankRows += 1;
    }
    image = {naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
             clientWidth: img.clientWidth, clientHeight: img.clientHeight, blankRows,
             rect: rect(img), key: img.src.length + ':' + img.src.slice(-96)};
  }
  return {
    explorer: rect(root), output: rect(out), contentBottom, image, main: main ? rect(main) : null,
    explorerScroll: {sw: root.scrollWidth, cw: root.clientWidth},
    outputScroll: {sw: out.scrollWidth, cw: out.clientWidth, sh: out.scrollHeight, ch: out.clientHeight},
    notebook: {ch: scroller.clientHeight, cw: scroller.clientWidth, sw: scroller.scrollWidth,
               rect: rect(scroller)},
    window: {w: window.innerWidth, h: window.innerHeight, dpr: window.devicePixelRatio},
  };
}
"""

#: run in the lesson's kernel after "Run All": per explorer (keyed like MEASURE's image
#: key, by the figure it sent), its dpi and smallest figure text
KERNEL_CODE = r"""
def __cnnlab_layout_report():
    import base64, gc, json, warnings
    from cnnlab.widgets import Explorer
    ns = {"__name__": "_figtext"}
    exec(compile(FIGTEXT_SOURCE, "_figtext.py", "exec"), ns)
    report = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # type(), not isinstance(): gc also holds weak proxies whose referent is gone
        explorers = [o for o in gc.get_objects() if issubclass(type(o), Explorer)]
    for ex in explorers:
        if ex.rendered_image is None:
            continue
        src = f"data:image/{ex.image_format};base64," + base64.b64encode(ex.rendered_image).decode("ascii")
        size, text = ns["smallest_text"](ex)
        report[f"{len(src)}:{src[-96:]}"] = {"class": type(ex).__name__, "dpi": ex.dpi, "min_pt": size,
                                             "min_text": text, "figsize": list(ex.figsize)}
    print("__CNNLAB_LAYOUT__" + json.dumps(report))
__cnnlab_layout_report()
del __cnnlab_layout_report
"""

KERNEL_RUN = r"""
async ([path, code]) => {
  const w = window.__cnnlab.find(path);
  const kernel = w.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let text = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += '__ERROR__' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return text;
}
"""


def blank_band(m: dict) -> float:
    """CSS px a student sees as empty at the bottom of an explorer (from :data:`MEASURE`):
    from the last visible content to the bottom of the output area, plus the image's own
    background rows at its bottom, as shown."""
    bottom = m["contentBottom"] if m["contentBottom"] is not None else m["output"]["top"]
    band = m["output"]["bottom"] - bottom
    image = m["image"]
    if image is not None and image["naturalHeight"]:
        band += image["blankRows"] * image["clientHeight"] / image["naturalHeight"]
    return band


#: every figure image of a notebook outside the explorers, scrolled into view in turn (the
#: page skips laying out cells out of view): its size as sent and as shown
MEASURE_FIGURES = r"""
async (panel) => {
  const found = [];
  for (const img of panel.querySelectorAll('.jp-OutputArea-output img')) {
    if (img.closest('.cnnlab-explorer') || img.closest('.jupyter-widgets')) continue;
    img.scrollIntoView({block: 'start'});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    await img.decode();
    const cell = img.closest('.jp-Cell');
    const out = img.closest('.jp-OutputArea-output').getBoundingClientRect();
    found.push({key: img.src.slice(-96), naturalWidth: img.naturalWidth, clientWidth: img.clientWidth,
                right: img.getBoundingClientRect().right, outputRight: out.right,
                cell: [...cell.parentElement.children].filter(c => c.classList.contains('jp-Cell')).indexOf(cell)});
  }
  return found;
}
"""

#: scroll the notebook so that the explorer's top is at the top of its visible area (as far
#: as the notebook scrolls): what the screenshot in artifacts/browser/layout/ shows
SCROLL_TO_TOP = """
(root) => {
  const s = root.closest('.jp-WindowedPanel-outer') || root.closest('.jp-Notebook');
  root.scrollIntoView({block: 'start'});
  s.scrollTop += root.getBoundingClientRect().top - s.getBoundingClientRect().top;
}
"""


def explorer_key(classes: list[str]) -> str:
    """An explorer's name in the page: its specific CSS class (``cnnlab-conv-explorer``)."""
    specific = [c for c in classes if c.startswith("cnnlab-") and c != "cnnlab-explorer"]
    return specific[0] if specific else "cnnlab-explorer"


def run_in_kernel(lab, rel: str, code: str) -> str:
    """Run ``code`` in the notebook's kernel (not in a cell); its printed text."""
    text = lab.page.evaluate(KERNEL_RUN, [rel, code])
    assert "__ERROR__" not in text, text
    return text


def watch_figures(lab, rel: str) -> None:
    """Before "Run All": the kernel measures every figure the lesson will show."""
    run_in_kernel(lab, rel, _figtext.kernel_code())


def explorer_fonts(lab, rel: str) -> dict:
    """After "Run All": per explorer figure (keyed like MEASURE's image key), its dpi and
    smallest text."""
    text = run_in_kernel(lab, rel, _figtext.kernel_code(KERNEL_CODE))
    return json.loads(text.split("__CNNLAB_LAYOUT__", 1)[1].splitlines()[0])


def judge(name: str, m: dict, fonts: dict | None) -> tuple[dict, list[str]]:
    """The numbers of one explorer (from :data:`MEASURE`) and what is wrong with them."""
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
            record.update(min_text_pt=fonts["min_pt"], dpi=fonts["dpi"],
                          min_text_css_pt=round(_figtext.css_pt(fonts["min_pt"], fonts["dpi"], scale), 2),
                          min_text=fonts["min_text"])
            problems += _figtext.small_text(fonts, scale)
    record["blank_band_px"] = round(band)
    if band >= BLANK_BAND_PX:
        problems.append(f"{band:.0f} px blank band under its content (at most {BLANK_BAND_PX})")
    return record, [f"{name}: {p}" for p in problems]


def measure_lesson(lab, rel: str, stem: str, shots: pathlib.Path) -> tuple[dict, list[str]]:
    """Every explorer and figure of the lesson ``rel``, just run in ``lab`` (a
    :data:`LAPTOP` viewport, figures watched since before "Run All"): records by name, and
    what is wrong."""
    records, problems = {}, []
    explorers = lab.panel(rel).locator(".cnnlab-explorer")
    count = explorers.count()
    fonts = explorer_fonts(lab, rel) if count else {}
    shots.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        explorer = explorers.nth(i)
        key = explorer_key(explorer.evaluate("el => [...el.classList]"))
        name = f"{stem}/{key}" + (f"#{i}" if count > 1 else "")
        explorer.evaluate(SCROLL_TO_TOP)
        explorer.page.wait_for_function(
            "(root) => { const img = root.querySelector(':scope > .widget-output img');"
            " return !!img && img.complete && img.naturalWidth > 0; }",
            arg=explorer.element_handle(), timeout=30_000)
        m = explorer.evaluate(MEASURE, MAIN_FIGURE.get(key))
        record, wrong = judge(name, m, fonts.get(m["image"]["key"]) if m["image"] else None)
        lab.page.screenshot(path=str(shots / f"{i}-{key}.png"))
        records[name] = {**record, "problems": wrong}
        problems += wrong
    figures = _figtext.parse_report(run_in_kernel(lab, rel, _figtext.REPORT_FIGURES))
    for shown in lab.panel(rel).evaluate(MEASURE_FIGURES):
        name = f"{stem}/figure in cell {shown['cell']}"
        fonts = figures.get(shown["key"])
        scale = shown["clientWidth"] / shown["naturalWidth"]
        wrong = []
        if fonts is None:
            wrong.append("the kernel did not see this figure sent")
        else:
            records[name] = {"image_px": shown["naturalWidth"], "scale": round(scale, 3), "dpi": fonts["dpi"],
                             "min_text_pt": fonts["min_pt"], "min_text": fonts["min_text"]}
            if fonts["min_pt"] is not None:
                records[name]["min_text_css_pt"] = round(_figtext.css_pt(fonts["min_pt"], fonts["dpi"], scale), 2)
            wrong += _figtext.small_text(fonts, scale)
        if shown["right"] > shown["outputRight"] + 1:
            wrong.append("the figure is wider than its output area")
        wrong = [f"{name}: {w}" for w in wrong]
        records.setdefault(name, {})["problems"] = wrong
        problems += wrong
    return records, problems
