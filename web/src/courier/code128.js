// Code 128 barcodes, drawn on a canvas so that the cash desk's scanner reads
// the route sheet's number off the phone. Pure: no DOM in encode(), so
// node --test covers it (test/code128.test.mjs).

// The bar and space widths of symbols 0..106 (103-105 start A/B/C, 106 stop).
const PATTERNS = ('212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 122132 ' +
  '122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 212123 ' +
  '212321 232121 111323 131123 131321 112313 132113 132311 211313 231113 231311 112133 112331 132131 113123 113321 133121 ' +
  '313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 314111 221411 431111 111224 111422 ' +
  '121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 111242 121142 ' +
  '121241 114212 124112 124211 411212 421112 421211 212141 214121 412121 111143 111341 131141 114113 114311 411113 411311 ' +
  '113141 114131 311141 411131 211412 211214 211232 2331112').split(' ');

const START_B = 104;
const START_C = 105;
const CODE_B = 100;
const CODE_C = 99;
const STOP = 106;

const isDigit = (c) => c >= '0' && c <= '9';

/** How many digits start s at i. */
function digitRun(s, i) {
  let n = 0;
  while (i + n < s.length && isDigit(s[i + n])) n++;
  return n;
}

/**
 * The symbol values of text (printable ASCII): code set B, switching to C
 * for runs of at least 4 digits (2 when already in C), with the check symbol
 * and the stop. Throws on a character Code 128 B cannot carry.
 */
export function symbols(text) {
  const s = String(text);
  if (!s.length) throw new Error('code128: nothing to encode');
  const out = [];
  let set = 0;
  for (let i = 0; i < s.length;) {
    const run = digitRun(s, i);
    if (run >= (set === START_C ? 2 : 4)) {
      if (set !== START_C) out.push(set === 0 ? START_C : CODE_C);
      set = START_C;
      out.push(Number(s.slice(i, i + 2)));
      i += 2;
      continue;
    }
    const code = s.charCodeAt(i);
    if (code < 32 || code > 126) throw new Error(`code128: cannot encode ${JSON.stringify(s[i])}`);
    if (set !== START_B) out.push(set === 0 ? START_B : CODE_B);
    set = START_B;
    out.push(code - 32);
    i++;
  }
  let sum = out[0];
  for (let i = 1; i < out.length; i++) sum += out[i] * i;
  out.push(sum % 103, STOP);
  return out;
}

/** The modules of text's barcode, '1' a bar and '0' a space, without quiet zones. */
export function modules(text) {
  let bits = '';
  for (const v of symbols(text)) {
    const widths = PATTERNS[v];
    for (let k = 0; k < widths.length; k++) bits += (k % 2 === 0 ? '1' : '0').repeat(Number(widths[k]));
  }
  return bits;
}

/**
 * Reads modules back into text (code sets B and C): the tests check the
 * encoder with it, and the e2e test reads the barcode drawn on the phone's
 * screen. Returns null when the bars are not a valid Code 128 symbol.
 */
export function decode(bits) {
  const widthsOf = (b) => {
    const w = [];
    let n = 1;
    for (let i = 1; i <= b.length; i++) {
      if (i < b.length && b[i] === b[i - 1]) n++;
      else { w.push(n); n = 1; }
    }
    return w;
  };
  const trimmed = bits.replace(/^0+|0+$/g, '');
  const w = widthsOf(trimmed);
  if ((w.length - 7) % 6 !== 0) return null;
  const vals = [];
  for (let i = 0; i + 6 <= w.length - 7; i += 6) {
    const v = PATTERNS.indexOf(w.slice(i, i + 6).join(''));
    if (v < 0) return null;
    vals.push(v);
  }
  if (w.slice(-7).join('') !== PATTERNS[STOP] || vals.length < 2) return null;
  const check = vals.pop();
  let sum = vals[0];
  for (let i = 1; i < vals.length; i++) sum += vals[i] * i;
  if (sum % 103 !== check) return null;
  let set = vals[0];
  if (set !== START_B && set !== START_C) return null;
  let text = '';
  for (const v of vals.slice(1)) {
    if (set === START_C) {
      // In code set C, 0..99 are digit pairs and 100 switches to B.
      if (v === CODE_B) set = START_B;
      else if (v < 100) text += String(v).padStart(2, '0');
      else return null;
    } else if (v === CODE_C) {
      set = START_C;
    } else if (v < 95) {
      text += String.fromCharCode(v + 32);
    } else {
      return null; // control symbols we never draw
    }
  }
  return text;
}

/**
 * Draws text's barcode on canvas: black bars on white with quiet zones of
 * 10 modules, each module a whole number of device pixels so that a scanner
 * reads sharp edges. Returns the module width in canvas pixels.
 */
export function drawBarcode(canvas, text, { height = 120 } = {}) {
  const bits = modules(text);
  const quiet = 10;
  const total = bits.length + 2 * quiet;
  const cssWidth = canvas.clientWidth || canvas.width || total * 2;
  const ratio = globalThis.devicePixelRatio || 1;
  const module = Math.max(1, Math.floor((cssWidth * ratio) / total));
  canvas.width = total * module;
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#000';
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === '1') g.fillRect((quiet + i) * module, 0, module, canvas.height);
  }
  canvas.dataset.code = text;
  canvas.dataset.module = String(module);
  return module;
}
