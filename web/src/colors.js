// Colours of the map: routes get colours that no order status and no zone
// uses, so a route line is never read as a status or a zone. Pure
// (test/colors.test.mjs).

/** CIE L*a*b* of "#rrggbb" (D65). */
export function lab(hex) {
  const n = parseInt(String(hex).replace('#', '').slice(0, 6), 16);
  const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(lin);
  const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047);
  const y = f(r * 0.2126 + g * 0.7152 + b * 0.0722);
  const z = f((r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

/** The perceptual distance (CIE76 ΔE) of two colours; under about 20 they look alike on a map. */
export function colorDistance(a, b) {
  const [p, q] = [lab(a), lab(b)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** The least distance from c to any of others (Infinity when there are none). */
export function nearest(c, others) {
  return others.reduce((m, o) => Math.min(m, colorDistance(c, o)), Infinity);
}

/**
 * Route colours, chosen to stay at least 28 ΔE from every order status
 * colour and the demo zones, and from each other.
 */
export const routeColors = ['#304ffe', '#ff00ff', '#827717', '#880e4f', '#aeea00', '#1a237e', '#ff80ab', '#b388ff', '#d81b60', '#ffeb3b'];

/** How far a route colour must stay from a status or zone colour. */
export const minDistance = 20;

/**
 * The route colours usable with these zone colours: those too close to one
 * are left out (a zone may be given any colour). Never empty.
 */
export function routePalette(zoneColors = []) {
  const ok = routeColors.filter((c) => nearest(c, zoneColors) >= minDistance);
  return ok.length ? ok : routeColors;
}

/** Black or white text, whichever reads better on the background bg. */
export function textOn(bg) {
  return lab(bg)[0] > 62 ? '#111' : '#fff';
}

/** A courier's initials ("Артём Белов" -> "АБ"), at most two letters. */
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...words[0]][0] || '';
  const last = words.length > 1 ? [...words[words.length - 1]][0] || '' : [...words[0]][1] || '';
  return (first + last).toUpperCase();
}
