// A signature drawn on the screen with a finger or a stylus (pointer
// events), kept as a PNG proof.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function signaturePad() {
  const canvas = h('canvas.signature', { 'data-testid': 'signature', 'aria-label': t('signature_here') });
  const g = canvas.getContext('2d');
  let ink = false;
  let drawing = false;
  let last = null;
  let strokes = 0;
  const ratio = () => globalThis.devicePixelRatio || 1;
  const size = () => {
    const r = canvas.getBoundingClientRect();
    if (!r.width) return;
    const w = Math.round(r.width * ratio());
    const hh = Math.round(r.height * ratio());
    if (canvas.width === w && canvas.height === hh) return;
    // A new size clears a canvas: what was drawn is kept, stretched.
    let copy = null;
    if (ink && canvas.width && canvas.height) {
      copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      copy.getContext('2d').drawImage(canvas, 0, 0);
    }
    canvas.width = w;
    canvas.height = hh;
    if (copy) g.drawImage(copy, 0, 0, w, hh);
    onChange();
  };
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * ratio(), (e.clientY - r.top) * ratio()];
  };
  let onChange = () => {};
  canvas.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    size();
    canvas.setPointerCapture?.(e.pointerId);
    drawing = true;
    last = point(e);
    g.lineWidth = 2.5 * ratio();
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.strokeStyle = '#0d1b5e';
    g.beginPath();
    g.arc(last[0], last[1], g.lineWidth / 2, 0, Math.PI * 2);
    g.fillStyle = g.strokeStyle;
    g.fill();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    e.preventDefault();
    const p = point(e);
    g.beginPath();
    g.moveTo(last[0], last[1]);
    g.lineTo(p[0], p[1]);
    g.stroke();
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) > 0) ink = true;
    last = p;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    if (ink) strokes++;
    onChange();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  const clear = () => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    ink = false;
    strokes = 0;
    onChange();
  };
  const ro = globalThis.ResizeObserver ? new ResizeObserver(size) : null;
  ro?.observe(canvas);
  const el = h('div.signature-box',
    h('div.field-label', t('signature'), h('button.small', { type: 'button', 'data-testid': 'signature-clear', on: { click: clear } }, t('clear'))),
    canvas);
  return {
    el,
    hasInk: () => ink,
    strokes: () => strokes,
    set onChange(fn) { onChange = fn; },
    /** The drawing as a PNG on white (a transparent PNG shows black on some viewers). */
    blob() {
      const out = document.createElement('canvas');
      out.width = canvas.width;
      out.height = canvas.height;
      const o = out.getContext('2d');
      o.fillStyle = '#fff';
      o.fillRect(0, 0, out.width, out.height);
      o.drawImage(canvas, 0, 0);
      return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
    },
    destroy() { ro?.disconnect(); },
  };
}
