"""The JavaScript the browser tests run in the page (see ``_explorers``)."""

LIST_CONTROLS = r"""
(root, selector) => {
  const out = root.querySelector(':scope > .widget-output');
  const nodes = [...root.querySelectorAll(selector)].filter(el => !(out && out.contains(el)));
  const kinds = ['widget-slider', 'widget-dropdown', 'widget-toggle-buttons', 'widget-checkbox',
                 'widget-play', 'widget-textarea', 'widget-text', 'widget-radio', 'widget-select',
                 'widget-button'];
  const clean = (t) => (t || '').replace(/[\u00a0\u200b]/g, (c) => c === '\u00a0' ? ' ' : '').trim();
  return nodes.map((el, index) => {
    const kind = kinds.find(k => el.classList.contains(k)).replace('widget-', '');
    const label = el.querySelector(':scope > .widget-label');
    let description = label ? clean(label.textContent) : '';
    let value = null, disabled = false, options = null, min = null, max = null, now = null;
    if (kind === 'slider') {
      const handle = el.querySelector('.noUi-handle');
      const target = el.querySelector('.noUi-target');
      value = clean(el.querySelector('.widget-readout').textContent).replace(/\u2212/g, '-');
      disabled = target.hasAttribute('disabled');
      min = parseFloat(handle.getAttribute('aria-valuemin'));
      max = parseFloat(handle.getAttribute('aria-valuemax'));
      now = parseFloat(handle.getAttribute('aria-valuenow'));
    } else if (kind === 'dropdown' || kind === 'select') {
      const select = el.querySelector('select');
      options = [...select.options].map(o => clean(o.textContent));
      value = select.selectedIndex >= 0 ? options[select.selectedIndex] : null;
      disabled = select.disabled;
    } else if (kind === 'toggle-buttons' || kind === 'radio') {
      const buttons = [...el.querySelectorAll(kind === 'radio' ? 'label' : 'button')];
      options = buttons.map(b => clean(b.textContent));
      const active = kind === 'radio'
        ? buttons.findIndex(b => b.querySelector('input').checked)
        : buttons.findIndex(b => b.classList.contains('mod-active'));
      value = active >= 0 ? options[active] : null;
      disabled = buttons.every(b => b.disabled || (b.querySelector('input') || {}).disabled);
    } else if (kind === 'checkbox') {
      const input = el.querySelector('input[type=checkbox]');
      description = clean(el.querySelector('.widget-label-basic span').textContent);
      value = input.checked;
      disabled = input.disabled;
    } else if (kind === 'play') {
      description = description || 'play';
      disabled = el.querySelector('button').disabled;
    } else if (kind === 'text') {
      const input = el.querySelector('input');
      value = input.value;
      disabled = input.disabled;
    } else if (kind === 'textarea') {
      const input = el.querySelector('textarea');
      value = input.value;
      disabled = input.disabled;
    } else if (kind === 'button') {
      description = clean(el.textContent);
      disabled = el.disabled;
    }
    return {index, kind, description, value, disabled, options, min, max, now};
  });
}
"""

#: the input events a gesture may start the clock with
EVENTS = ["keydown", "mouseup", "click", "change", "input"]

#: installs a probe on one explorer: it notes the times of input events (per type) and
#: the moment a *new* figure <img> is decoded, or a new error box appears, in the
#: explorer's output (t1). Installed by every state read, so it is ready for the next
#: gesture without a round trip of its own.
ARM = r"""
(root, events) => {
  const out = root.querySelector(':scope > .widget-output');
  const probe = {times: {}, t1: null, src: null, error: null,
                 oldImg: out.querySelector('img'), oldError: out.querySelector('.cnnlab-error')};
  if (root.__cnnlabProbe && root.__cnnlabProbe.stop) root.__cnnlabProbe.stop();
  root.__cnnlabProbe = probe;
  const note = (event) => { (probe.times[event.type] = probe.times[event.type] || []).push(performance.now()); };
  const check = () => {
    if (probe.t1 !== null) return;
    const err = out.querySelector('.cnnlab-error');
    if (err && err !== probe.oldError) {
      probe.t1 = performance.now(); probe.error = err.textContent.trim(); probe.stop(); return;
    }
    const img = out.querySelector('img');
    if (img && img !== probe.oldImg && img !== probe.seen) {
      probe.seen = img;
      img.decode().then(() => {
        if (probe.t1 === null && img.isConnected) {
          probe.t1 = performance.now(); probe.src = img.src; probe.stop();
        }
      }).catch(() => {});
    }
  };
  const observer = new MutationObserver(check);
  probe.stop = () => {
    observer.disconnect();
    for (const type of events) root.removeEventListener(type, note, true);
  };
  for (const type of events) root.addEventListener(type, note, true);
  observer.observe(out, {childList: true, subtree: true, attributes: true});
}
"""

VIEW = r"""
(root) => {
  const out = root.querySelector(':scope > .widget-output');
  const img = out.querySelector('img');
  const err = out.querySelector('.cnnlab-error');
  // textContent, not innerText: JupyterLab skips rendering cells scrolled out of view
  // (content-visibility), and innerText of an unrendered element is empty
  const text = [...out.querySelectorAll('.jp-RenderedHTMLCommon, .jp-RenderedHTML')]
    .map(e => e.textContent).join('\n');
  const readouts = {};
  for (const el of out.querySelectorAll('[class*="cnnlab-"]')) {
    for (const cls of el.classList) {
      if (cls.startsWith('cnnlab-') && !(cls in readouts)) readouts[cls] = el.textContent.trim();
    }
  }
  const data = {};
  for (const el of out.querySelectorAll('.cnnlab-readout')) {
    for (const a of el.attributes) {
      const key = a.name.slice(5);
      if (a.name.startsWith('data-') && !(key in data)) data[key] = a.value;
    }
  }
  const selected = [...out.querySelectorAll('.cnnlab-cell.sel')].map(c => c.getAttribute('data-index'));
  const cells = [...out.querySelectorAll('.cnnlab-cell')].map(c => ({
    classes: [...c.classList].filter(k => k !== 'cnnlab-cell'), index: c.getAttribute('data-index'),
    text: c.textContent.trim()}));
  const audio = [...root.querySelectorAll('audio')].map(a => a.src || (a.querySelector('source') || {}).src || '');
  return {src: img ? img.src : null, error: err ? err.textContent.trim() : null, text, readouts, data,
          selected, cells, audio};
}
"""


STATE = f"""
(root, [selector, events]) => {{
  const controls = ({LIST_CONTROLS})(root, selector);
  const view = ({VIEW})(root);
  const p = root.__cnnlabProbe;
  const probe = p ? {{times: p.times, t1: p.t1, src: p.src, error: p.error}} : null;
  ({ARM})(root, events);  // ready for the next gesture
  return {{controls, view, probe}};
}}
"""


#: true once the explorer's output has not changed for ``quiet`` ms
SETTLED = r"""
([root, quiet]) => {
  const out = root.querySelector(':scope > .widget-output');
  const now = performance.now();
  const img = out.querySelector('img');
  const key = img ? img.src.length + ':' + img.src.slice(-64) : '';
  if (root.__settle === undefined || root.__settle.key !== key) { root.__settle = {key, since: now}; return false; }
  return now - root.__settle.since > quiet;
}
"""
