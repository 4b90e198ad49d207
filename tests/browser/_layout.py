"""Measuring an explorer's layout in the page (see ``test_browser_layout.py``)."""
from __future__ import annotations

#: the issue's "150–300 px blank band under explorers" must not happen
BLANK_BAND_PX = 150

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
