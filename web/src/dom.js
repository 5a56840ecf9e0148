// A small DOM builder: h('div.card#id', {attrs, on: {click}}, ...children).
// Text children become text nodes, so data from the API is never parsed as HTML.

export function h(tag, attrs, ...children) {
  if (attrs == null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    if (attrs != null) children.unshift(attrs);
    attrs = {};
  }
  const [, name = 'div', rest = ''] = /^([a-z0-9-]*)(.*)$/i.exec(tag);
  const el = document.createElement(name || 'div');
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'style' && typeof v === 'object') {
      Object.assign(el.style, v);
    } else if (k === 'class') {
      for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (k in el && typeof v !== 'string') {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A short message at the bottom right; kind is info, ok or error. */
export function toast(text, kind = 'info', ms = 5000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div.toast', { class: 'toast-' + kind, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(t);
  setTimeout(() => t.remove(), ms);
}

/**
 * A modal dialog: returns a promise of the value of the button pressed (or
 * null on Escape). buttons: [{label, value, kind, testid}].
 */
export function dialog(title, body, buttons) {
  return new Promise((resolve) => {
    const prev = document.activeElement;
    const close = (v) => {
      overlay.remove();
      prev?.focus?.();
      resolve(v);
    };
    const btns = buttons.map((b) => h('button', { type: 'button', class: b.kind || '', 'data-testid': b.testid, on: { click: () => close(b.value) } }, b.label));
    const box = h('div.dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
      h('h2', title), h('div.dialog-body', body), h('div.dialog-buttons', btns));
    const overlay = h('div.overlay', { on: { keydown: (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(null); } } } }, box);
    document.body.append(overlay);
    btns[0]?.focus();
  });
}

/** Escapes text for the few places Leaflet wants HTML (div icons). */
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** The query of the location hash (#/map?courier=3 -> URLSearchParams). */
export function hashQuery() {
  return new URLSearchParams(location.hash.split('?')[1] || '');
}

/**
 * A modal form that stays open until an action succeeds. actions:
 * [{label, kind, testid, run}] where run() may return false to stay open or
 * throw (the error is shown in the modal through opts.errorText); the modal
 * resolves with what run returned, or null on the cancel button or Escape.
 */
export function modal(title, body, actions, { cancelLabel = 'Cancel', errorText = (e) => String(e?.message || e), className = '' } = {}) {
  return new Promise((resolve) => {
    const prev = document.activeElement;
    const err = h('p.error.modal-error', { role: 'alert', 'data-testid': 'modal-error' });
    const close = (v) => {
      overlay.remove();
      prev?.focus?.();
      resolve(v);
    };
    const btns = actions.map((a) => h('button', {
      type: a.submit ? 'submit' : 'button', class: a.kind || '', 'data-testid': a.testid,
      on: {
        click: async (e) => {
          e.preventDefault();
          err.textContent = '';
          for (const b of btns) b.disabled = true;
          try {
            const v = await a.run();
            if (v !== false) close(v ?? true);
          } catch (ex) {
            err.textContent = errorText(ex);
          } finally {
            for (const b of btns) b.disabled = false;
          }
        },
      },
    }, a.label));
    const cancel = h('button', { type: 'button', 'data-testid': 'modal-cancel', on: { click: () => close(null) } }, cancelLabel);
    const form = h('form.dialog', { class: className, role: 'dialog', 'aria-modal': 'true', 'aria-label': title, on: { submit: (e) => { e.preventDefault(); btns.find((b) => b.type === 'submit')?.click(); } } },
      h('h2', title), h('div.dialog-body', body), err, h('div.dialog-buttons', btns, cancel));
    const overlay = h('div.overlay', { on: { keydown: (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(null); } } } }, form);
    document.body.append(overlay);
    (form.querySelector('input, select, textarea') || btns[0])?.focus();
  });
}
