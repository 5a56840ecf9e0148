// Icons as inline SVG (24x24, stroked with the text colour): every system
// draws them the same, unlike emoji. icon('lock') is an element for h();
// iconHTML('lock') the same as a string, for Leaflet's div icons.

const paths = {
  lock: 'M6 11h12v9H6z M8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  unlock: 'M6 11h12v9H6z M8.5 11V8a3.5 3.5 0 0 1 6.8-1.2',
  up: 'M12 19V5 M6 11l6-6 6 6',
  down: 'M12 5v14 M6 13l6 6 6-6',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  cross: 'M6 6l12 12 M18 6L6 18',
  clock: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18 M12 7v5l3.5 2',
  alert: 'M12 3l10 18H2z M12 10v5 M12 18v.01',
  truck: 'M2 6h12v10H2z M14 10h4l3 3v3h-7 M6 19a2 2 0 1 0 0-4a2 2 0 1 0 0 4 M17 19a2 2 0 1 0 0-4a2 2 0 1 0 0 4',
  print: 'M7 9V3h10v6 M5 9h14a2 2 0 0 1 2 2v5h-4 M7 16H3v-5a2 2 0 0 1 2-2 M7 14h10v7H7z',
  logout: 'M10 4H5v16h5 M14 8l4 4-4 4 M18 12H9',
  panel: 'M3 4h18v16H3z M15 4v16',
  menu: 'M4 7h16 M4 12h16 M4 17h16',
  pin: 'M12 21s-7-6.5-7-12a7 7 0 0 1 14 0c0 5.5-7 12-7 12z M12 7a2 2 0 1 0 0 4a2 2 0 1 0 0-4',
  message: 'M4 5h16v11H9l-5 4z',
  copy: 'M9 9h11v11H9z M5 15H4V4h11v1',
  edit: 'M4 20h4L19 9l-4-4L4 16z M13.5 6.5l4 4',
  calendar: 'M4 6h16v14H4z M4 10h16 M8 3v4 M16 3v4',
  ban: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18 M5.6 5.6l12.8 12.8',
  image: 'M3 5h18v14H3z M3 16l5-5 4 4 3-3 6 6 M15.5 8.5a1.5 1.5 0 1 0 0 .01',
  plus: 'M12 5v14 M5 12h14',
  upload: 'M12 16V4 M7 9l5-5 5 5 M4 16v4h16v-4',
  download: 'M12 4v12 M7 11l5 5 5-5 M4 16v4h16v-4',
  home: 'M3 11l9-8 9 8 M5 9.5V21h14V9.5',
  signal: 'M5 19a1 1 0 1 0 0 .01 M4 12a8 8 0 0 1 8 8 M4 5a15 15 0 0 1 15 15',
  user: 'M12 12a4 4 0 1 0 0-8a4 4 0 1 0 0 8 M4 21a8 8 0 0 1 16 0',
};

/** The SVG markup of an icon (for Leaflet div icons); unknown names draw nothing. */
export function iconHTML(name, size = 16) {
  const d = paths[name] || '';
  return `<svg class="icon icon-${name}" width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${d.split(' M').map((p, i) => `<path d="${i ? 'M' + p : p}"/>`).join('')}</svg>`;
}

/** An icon element, for h(). */
export function icon(name, size = 16) {
  const tpl = document.createElement('template');
  tpl.innerHTML = iconHTML(name, size);
  return tpl.content.firstChild;
}

export const iconNames = Object.keys(paths);
