// The couriers table: search (name, phone, login), active filter, vehicle
// and capacity, shift, zones, today's route sheet with its progress, the
// cash the courier holds, the last known position; show the courier on the
// map, send a message to the courier's phone.
import { h, fill, toast, modal } from './dom.js';
import { t, tn, errorText, word } from './i18n.js';
import { routePalette, textOn, initials } from './colors.js';
import { counts } from './day.js';
import { icon } from './icons.js';

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const staff = ['admin', 'dispatcher'].includes(api.role);
  const day = cfg.date || fmt.isoDate();
  const zones = await api.get('/api/v1/zones');
  const zoneName = new Map((zones.features || []).map((z) => [z.id, z.properties.name]));
  const palette = routePalette((zones.features || []).map((z) => z.properties.color));
  const q = h('input', { type: 'search', placeholder: t('search_couriers'), 'aria-label': t('search'), 'data-testid': 'couriers-q', class: 'q' });
  const active = h('select', { 'aria-label': t('active'), 'data-testid': 'couriers-active' },
    h('option', { value: '' }, t('active') + ': ' + t('all')), h('option', { value: 'true' }, t('yes')), h('option', { value: 'false' }, t('no')));
  const tbody = h('tbody');
  const cols = [t('courier'), t('phone'), t('vehicle'), t('shift'), t('today_sheet'), t('cash_on_hand'), t('position'), t('actions')];
  const count = h('span.muted', { 'data-testid': 'couriers-count' });
  fill(root, h('div.page',
    h('form.filters', { on: { submit: (e) => { e.preventDefault(); load(); } } }, q, active, h('button', { type: 'submit' }, t('search')), count,
      h('span.muted', `${t('date')}: ${fmt.date(day + 'T12:00:00Z')}`)),
    // On a phone each row is a card (style.css: table.cards), each cell labelled by its column.
    h('div.table-wrap', h('table.grid.cards', { 'data-testid': 'couriers-table' },
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c)))),
      tbody))));

  let all = [];
  let positions = new Map();
  let sheets = new Map();
  let cash = new Map();
  let seq = 0;
  async function load() {
    const my = ++seq;
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (active.value) p.set('active', active.value);
    try {
      const [list, pos, sh, debt, everyone] = await Promise.all([
        api.get('/api/v1/couriers?' + p),
        api.get('/api/v1/tracking/positions').catch(() => ({ items: [] })),
        api.get(`/api/v1/route-sheets?date=${day}&status=published,active,completed`).catch(() => ({ items: [] })),
        api.get('/api/v1/cashdesk/debtors').catch(() => ({ items: [] })),
        all.length ? { items: all } : api.get('/api/v1/couriers'),
      ]);
      if (my !== seq) return;
      all = everyone.items || [];
      positions = new Map((pos.items || []).map((x) => [x.courier_id, x]));
      sheets = new Map();
      for (const s of sh.items || []) if (!sheets.has(s.courier_id) || s.status === 'active') sheets.set(s.courier_id, s);
      cash = new Map((debt.items || []).map((d) => [d.courier_id, d]));
      tbody.replaceChildren(...list.items.map(row));
      for (const tr of tbody.children) [...tr.children].forEach((td, i) => { td.dataset.label = cols[i]; });
      count.textContent = String(list.items.length);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function colorOf(id) {
    const ids = all.map((c) => c.id).sort((a, b) => a - b);
    const i = ids.indexOf(id);
    return palette[(i < 0 ? id : i) % palette.length];
  }

  function row(c) {
    const v = c.vehicle || {};
    const cap = [v.capacity_kg ? fmt.kg(v.capacity_kg) : '', v.capacity_l ? fmt.litres(v.capacity_l) : '', v.max_stops ? tn('stops_n', v.max_stops) : ''].filter(Boolean).join(' · ');
    const p = positions.get(c.id);
    const stale = p && (p.stale || Date.now() - new Date(p.recorded_at).getTime() > (cfg.stale_after_s || 300) * 1000);
    const sh = sheets.get(c.id);
    const n = sh ? counts(sh, new Map()) : null;
    const done = n ? n.delivered + n.failed + n.cancelled : 0;
    const d = cash.get(c.id);
    const color = colorOf(c.id);
    return h('tr', { 'data-courier-id': c.id, class: c.active ? '' : 'inactive' },
      h('td.nowrap', h('span.courier-badge', { style: { background: color, color: textOn(color) } }, initials(c.name)), ' ', h('b', c.name), h('div.muted.small', c.login)),
      h('td.nowrap', c.phone),
      h('td', word('vehicle_', v.type), h('div.muted.small', cap)),
      h('td', h('span.nowrap', c.shift ? `${c.shift.start}–${c.shift.end}` : ''),
        h('div.muted.small', `${t('zones')}: ${(c.zone_ids || []).map((id) => zoneName.get(id) || '#' + id).join(', ') || t('any')}`)),
      h('td', { 'data-testid': 'today-sheet-' + c.id }, sh ? [h('span.mono.nowrap', sh.number), ' ', h('span.sheet-status', { class: 'st-' + sh.status }, t('status_' + sh.status)),
        h('div', { 'data-testid': 'courier-progress-' + c.id }, h('b', t('progress_of', { done, total: n.total })), n.late ? h('span.bad', ' · ' + tn('late_n', n.late)) : null)] : h('span.muted', t('no_sheet_today'))),
      h('td.num', { 'data-testid': 'cash-' + c.id, 'data-amount': String(d?.cash ?? 0) }, d && d.cash ? h('b', fmt.money(d.cash)) : h('span.muted', fmt.money(0)),
        d && d.discrepancy ? h('div.bad.small', t('of_it_discrepancy', { amount: fmt.money(Math.abs(d.discrepancy)) })) : null),
      h('td', p ? h('span', { class: stale ? 'muted' : 'ok' }, `${fmt.time(p.recorded_at)}${stale ? ' · ' + t('stale') : ''}`) : h('span.muted', t('never_seen'))),
      h('td.nowrap.row-actions',
        // On a tablet only the icons show (style.css); the names stay as the title and for screen readers.
        staff ? h('a.button.small', { href: `#/map?courier=${c.id}`, 'data-testid': 'show-on-map-' + c.id, title: t('show_on_map'), 'aria-label': t('show_on_map') }, icon('pin', 14), h('span.label', ' ', t('show_on_map'))) : null,
        staff ? h('button.small', { type: 'button', 'data-testid': 'message-' + c.id, title: t('send_message'), 'aria-label': t('send_message'), on: { click: () => message(c) } }, icon('message', 14), h('span.label', ' ', t('send_message'))) : null));
  }

  async function message(c) {
    const text = h('textarea', { rows: 3, maxlength: 1000, required: true, 'data-testid': 'message-text' });
    const ok = await modal(t('message_to', { name: c.name }), h('div.form', h('label', t('message_text'), text)), [{
      label: t('send'), kind: 'primary', testid: 'message-send', submit: true,
      run: async () => {
        if (!text.value.trim()) return false;
        return api.post(`/api/v1/couriers/${c.id}/messages`, { text: text.value.trim() });
      },
    }], { cancelLabel: t('cancel'), errorText });
    if (ok) toast(t('message_sent', { name: c.name }), 'ok');
  }

  let debounce;
  q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(load, 300); });
  active.addEventListener('change', load);
  await load();
  q.focus();
  root.dataset.ready = 'true';
  return () => clearTimeout(debounce);
}
