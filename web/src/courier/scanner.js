// Scanning the goods: typed entry always (and Enter), a Bluetooth scanner
// that types like a keyboard (into the field, or anywhere on the screen:
// fast keys ending with Enter), and the camera through the browser's
// BarcodeDetector where it exists.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { icon } from './icons.js';

const FORMATS = ['ean_13', 'ean_8', 'code_128', 'code_39', 'upc_a', 'upc_e', 'itf', 'qr_code', 'data_matrix'];

export function scanner(onCode) {
  const input = h('input#scan', {
    name: 'scan', autocomplete: 'off', autocapitalize: 'none', spellcheck: false, enterkeyhint: 'enter',
    placeholder: t('scan_placeholder'), 'data-testid': 'scan-input',
  });
  const submit = () => {
    const code = input.value.trim();
    input.value = '';
    if (code) onCode(code);
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      submit();
    }
  });
  const add = h('button.scan-add', { type: 'button', 'data-testid': 'scan-add', on: { click: () => { submit(); input.focus(); } } }, t('add'));
  let camera = null;
  const camButton = 'BarcodeDetector' in globalThis
    ? h('button.big', { type: 'button', 'data-testid': 'scan-camera', on: { click: () => { camera = openCamera(onCode); } } }, icon('camera'), t('scan_camera'))
    : null;

  // A keyboard-wedge scanner types the code and Enter. Outside a field,
  // keys do nothing else on this screen, so whatever is typed there and
  // ends with Enter is a scan; a pause of a second starts a new one (stray
  // keys before a scan are dropped).
  let buf = '';
  let lastKey = 0;
  const onKey = (e) => {
    const tag = e.target?.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.ctrlKey || e.metaKey || e.altKey) return;
    const now = performance.now();
    if (now - lastKey > 1000) buf = '';
    lastKey = now;
    if (e.key === 'Enter') {
      if (buf.length >= 3) {
        e.preventDefault(); // a scan's Enter must not press the button that has the focus
        onCode(buf);
      }
      buf = '';
      return;
    }
    if (e.key.length === 1) buf += e.key;
  };
  document.addEventListener('keydown', onKey);
  return {
    el: h('div.scanner', h('div.scan-row', input, add), camButton),
    focus: () => input.focus(),
    destroy() {
      document.removeEventListener('keydown', onKey);
      camera?.close();
    },
  };
}

/** A full-screen camera view that reads barcodes until closed. */
function openCamera(onCode) {
  const video = h('video', { playsinline: true, muted: true, autoplay: true });
  const note = h('p.camera-note', t('scan_camera_hint'));
  let stream = null;
  let timer = null;
  let closed = false;
  const close = () => {
    closed = true;
    clearTimeout(timer);
    stream?.getTracks().forEach((tr) => tr.stop());
    overlay.remove();
  };
  const overlay = h('div.camera', video, note, h('button.big', { type: 'button', 'data-testid': 'camera-close', on: { click: close } }, t('done_button')));
  document.body.append(overlay);
  (async () => {
    try {
      let formats = FORMATS;
      try {
        const supported = await globalThis.BarcodeDetector.getSupportedFormats();
        formats = FORMATS.filter((f) => supported.includes(f));
      } catch { /* use the list */ }
      const detector = new globalThis.BarcodeDetector({ formats });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      if (closed) { stream.getTracks().forEach((tr) => tr.stop()); return; }
      video.srcObject = stream;
      await video.play();
      let last = '';
      let lastAt = 0;
      const tick = async () => {
        if (closed) return;
        try {
          const found = await detector.detect(video);
          for (const b of found) {
            const now = Date.now();
            // The same code in view stays one scan for 2 s.
            if (b.rawValue && (b.rawValue !== last || now - lastAt > 2000)) {
              last = b.rawValue;
              lastAt = now;
              navigator.vibrate?.(60);
              onCode(b.rawValue);
            }
          }
        } catch { /* a frame that could not be read */ }
        timer = setTimeout(tick, 200);
      };
      tick();
    } catch (e) {
      note.textContent = t('camera_failed') + ': ' + (e.message || e);
    }
  })();
  return { close };
}
