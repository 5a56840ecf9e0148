// A photo from the camera (an input with capture, so the phone opens its
// camera app), made smaller on the phone and kept as a JPEG proof.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { toast } from './parts.js';
import { icon } from './icons.js';

const MAX_SIDE = 1600;
const MAX_BYTES = 10 << 20;

/** The picture as a JPEG of at most MAX_SIDE px on its longer side. */
export async function toJPEG(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    if (file.type === 'image/jpeg' && file.size <= MAX_BYTES) return file;
    throw new Error(t('photo_unreadable'));
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const c = document.createElement('canvas');
  c.width = Math.round(bitmap.width * scale);
  c.height = Math.round(bitmap.height * scale);
  c.getContext('2d').drawImage(bitmap, 0, 0, c.width, c.height);
  bitmap.close?.();
  const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/jpeg', 0.8));
  if (!blob) throw new Error(t('photo_unreadable'));
  return blob;
}

export function photoInput() {
  let blob = null;
  let url = '';
  const input = h('input', { type: 'file', accept: 'image/*', capture: 'environment', hidden: true, 'data-testid': 'photo-input' });
  const preview = h('div.photo-preview');
  const button = h('button.big', { type: 'button', 'data-testid': 'photo', on: { click: () => input.click() } }, icon('camera'), h('span', t('take_photo')));
  const show = () => {
    if (url) URL.revokeObjectURL(url);
    url = blob ? URL.createObjectURL(blob) : '';
    preview.replaceChildren(...(blob ? [h('img', { src: url, alt: t('photo'), 'data-testid': 'photo-preview' }),
      h('button.small', { type: 'button', on: { click: () => { blob = null; show(); } } }, t('remove'))] : []));
    button.lastChild.textContent = blob ? t('retake_photo') : t('take_photo');
  };
  input.addEventListener('change', async () => {
    const f = input.files?.[0];
    input.value = '';
    if (!f) return;
    try {
      blob = await toJPEG(f);
      show();
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  return {
    el: h('div.photo-box', input, button, preview),
    blob: () => blob,
    destroy() { if (url) URL.revokeObjectURL(url); },
  };
}
