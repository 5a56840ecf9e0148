// The orders table: filters (date, status, zone, courier), search by order
// number, phone or name, pages by cursor; a row opens the order's timeline.
import { h, fill, toast } from './dom.js';
import { t, statusName, statusColors } from './i18n.js';
import { showOrder } from './order-detail.js';

const statuses = ['new', 'confirmed', 'awaiting_stock', 'ready', 'planned', 'out_for_delivery', 'delivered', 'failed_attempt', 'refused', 'returned_to_depot', 'cancelled'];

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const [zones, couriers] = await Promise.all([api.get('/api/v1/zones'), api.get('/api/v1/couriers')]);
  const zoneName = new Map((zones.features || []).map((z) => [z.id, z.properties.name]));
  const courierName = new Map((couriers.items || []).map((c) => [c.id, c.name]));

  const q = h('input', { type: 'search', placeholder: t('search_orders'), 'aria-label': t('search'), 'data-testid': 'orders-q', style: { width: '22em' } });
  const date = h('input', { type: 'date', value: cfg.date || fmt.isoDate(), 'aria-label': t('date'), 'data-testid': 'orders-date' });
  const status = h('select', { 'aria-label': t('status'), 'data-testid': 'orders-status' }, h('option', { value: '' }, t('status') + ': ' + t('all')), statuses.map((s) => h('option', { value: s }, statusName(s))));
  const zone = h('select', { 'aria-label': t('zone'), 'data-testid': 'orders-zone' }, h('option', { value: '' }, t('zone') + ': ' + t('all')), [...zoneName].map(([id, n]) => h('option', { value: id }, n)));
  const courier = h('select', { 'aria-label': t('courier'), 'data-testid': 'orders-courier' }, h('option', { value: '' }, t('courier') + ': ' + t('all')), [...courierName].map(([id, n]) => h('option', { value: id }, n)));
  const tbody = h('tbody');
  const count = h('span.muted', { 'data-testid': 'orders-count' });
  const more = h('button', { type: 'button', hidden: true }, t('load_more'));
  const table = h('table.grid', { 'data-testid': 'orders-table' },
    h('thead', h('tr', [t('order'), t('status'), t('customer'), t('phone'), t('address'), t('window'), t('zone'), t('courier'), t('cod')].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  fill(root, h('div.page',
    h('form.filters', { on: { submit: (e) => { e.preventDefault(); load(); } } }, q, date, status, zone, courier, h('button.primary', { type: 'submit' }, t('search')), count),
    h('div.table-wrap', table), more));

  let cursor = null;
  let rows = 0;
  let seq = 0;

  function query() {
    const p = new URLSearchParams({ limit: '100' });
    if (q.value.trim()) p.set('q', q.value.trim());
    if (date.value) p.set('date', date.value);
    if (status.value) p.set('status', status.value);
    if (zone.value) p.set('zone_id', zone.value);
    if (courier.value) p.set('courier_id', courier.value);
    return p;
  }

  async function load(append = false) {
    const my = ++seq;
    const p = query();
    if (append && cursor) p.set('cursor', cursor);
    try {
      const page = await api.get('/api/v1/orders?' + p);
      if (my !== seq) return;
      if (!append) { tbody.replaceChildren(); rows = 0; }
      for (const o of page.items) tbody.append(row(o));
      rows += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      count.textContent = rows ? `${rows}${cursor ? '+' : ''}` : t('no_orders');
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function row(o) {
    const open = () => showOrder(ctx, o.id).catch((e) => toast(e.message, 'error'));
    return h('tr', { tabindex: 0, 'data-order-id': o.id, on: { click: open, keydown: (e) => { if (e.key === 'Enter') open(); } } },
      h('td', h('b', o.external_id || '#' + o.id)),
      h('td', h('span.badge', { style: { background: statusColors[o.status] } }, statusName(o.status))),
      h('td', o.customer.name), h('td.nowrap', o.customer.phone), h('td.addr', o.address),
      h('td.nowrap', fmt.window(o.time_window)),
      h('td', zoneName.get(o.zone_id) || ''), h('td', courierName.get(o.courier_id) || ''),
      h('td.num', o.cod.method === 'prepaid' ? '—' : `${fmt.money(o.cod.amount, o.cod.currency)}${o.cod.method === 'card' ? ' · ' + t('state_card') : ''}`));
  }

  let debounce;
  q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => load(), 300); });
  for (const el of [date, status, zone, courier]) el.addEventListener('change', () => load());
  more.addEventListener('click', () => load(true));
  await load();
  q.focus();
  root.dataset.ready = 'true';
  return () => clearTimeout(debounce);
}
