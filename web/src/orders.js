// The orders table: filters (date, status, zone, courier), search by order
// number, phone or name, pages by cursor; a row opens the order's card with
// its actions. New order, CSV import with the report of every row, and bulk
// status changes and rescheduling of the selected orders, each order's
// outcome reported.
import { h, fill, toast, modal, dialog } from './dom.js';
import { t, tn, statusName, statusColors, errorText, word } from './i18n.js';
import { newKey } from './api.js';
import { icon } from './icons.js';
import { showOrder } from './order-detail.js';
import { orderForm } from './order-form.js';

const statuses = ['new', 'confirmed', 'awaiting_stock', 'ready', 'planned', 'out_for_delivery', 'delivered', 'failed_attempt', 'refused', 'returned_to_depot', 'cancelled'];
// What a dispatcher sets by hand (the courier's app reports the rest).
const settable = ['confirmed', 'awaiting_stock', 'ready', 'cancelled', 'returned_to_depot'];
const needsReason = new Set(['failed_attempt', 'refused', 'cancelled']);

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const staff = ['admin', 'dispatcher'].includes(api.role);
  const [zones, couriers] = await Promise.all([api.get('/api/v1/zones'), api.get('/api/v1/couriers')]);
  const zoneName = new Map((zones.features || []).map((z) => [z.id, z.properties.name]));
  const courierName = new Map((couriers.items || []).map((c) => [c.id, c.name]));

  const q = h('input', { type: 'search', placeholder: t('search_orders'), 'aria-label': t('search'), 'data-testid': 'orders-q', class: 'q' });
  const date = h('input', { type: 'date', value: cfg.date || fmt.isoDate(), 'aria-label': t('date'), 'data-testid': 'orders-date' });
  const status = h('select', { 'aria-label': t('status'), 'data-testid': 'orders-status' }, h('option', { value: '' }, t('status') + ': ' + t('all')), statuses.map((s) => h('option', { value: s }, statusName(s))));
  const zone = h('select', { 'aria-label': t('zone'), 'data-testid': 'orders-zone' }, h('option', { value: '' }, t('zone') + ': ' + t('all')), [...zoneName].map(([id, n]) => h('option', { value: id }, n)));
  const courier = h('select', { 'aria-label': t('courier'), 'data-testid': 'orders-courier' }, h('option', { value: '' }, t('courier') + ': ' + t('all')), [...courierName].map(([id, n]) => h('option', { value: id }, n)));
  const tbody = h('tbody');
  const count = h('span.muted', { 'data-testid': 'orders-count' });
  const more = h('button', { type: 'button', hidden: true }, t('load_more'));
  const all = h('input', { type: 'checkbox', 'aria-label': t('select_all'), 'data-testid': 'select-all', on: { change: () => selectAll(all.checked) } });
  const table = h('table.grid', { 'data-testid': 'orders-table' },
    h('thead', h('tr', staff ? h('th.check', all) : null,
      [t('order'), t('status'), t('customer'), t('phone'), t('address'), t('window'), t('zone'), t('courier'), t('cod')].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);

  // Bulk actions on the selected orders.
  const selected = new Map(); // id -> order
  const selCount = h('span.sel-count', { 'data-testid': 'selected-count' });
  const bulkStatus = h('select', { 'aria-label': t('bulk_status'), 'data-testid': 'bulk-status' },
    h('option', { value: '' }, t('bulk_status')), settable.map((s) => h('option', { value: s }, statusName(s))));
  const bulkReschedule = h('button', { type: 'button', 'data-testid': 'bulk-reschedule', on: { click: () => bulkRescheduleRun() } }, icon('calendar', 14), ' ', t('bulk_reschedule'));
  const bulkBar = h('div.bulk-bar', { hidden: true, 'data-testid': 'bulk-bar' }, selCount, bulkStatus, bulkReschedule);
  bulkStatus.addEventListener('change', () => { if (bulkStatus.value) bulkStatusRun(bulkStatus.value); });

  const tools = staff ? h('span.tools',
    h('button.primary', { type: 'button', 'data-testid': 'new-order', on: { click: () => newOrder() } }, icon('plus', 14), ' ', t('new_order')),
    h('button', { type: 'button', 'data-testid': 'import-csv', on: { click: () => importCSV() } }, icon('upload', 14), ' ', t('import_csv'))) : null;
  fill(root, h('div.page',
    h('form.filters', { on: { submit: (e) => { e.preventDefault(); load(); } } }, q, date, status, zone, courier, h('button', { type: 'submit' }, t('search')), count, tools),
    bulkBar,
    h('div.table-wrap', table), more));

  let cursor = null;
  let rows = 0;
  let seq = 0;
  const shown = new Map();

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
      if (!append) { tbody.replaceChildren(); rows = 0; shown.clear(); }
      for (const o of page.items) { shown.set(o.id, o); tbody.append(row(o)); }
      rows += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      count.textContent = rows ? `${rows}${cursor ? '+' : ''}` : t('no_orders');
      syncSelection();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function row(o) {
    const open = () => showOrder(ctx, o.id, { onChange: () => load() }).catch((e) => toast(errorText(e), 'error'));
    const box = staff ? h('input', {
      type: 'checkbox', 'aria-label': `${t('order')} ${o.external_id}`, 'data-testid': 'select-' + o.id, checked: selected.has(o.id),
      on: { click: (e) => e.stopPropagation(), change: (e) => { if (e.target.checked) selected.set(o.id, o); else selected.delete(o.id); syncSelection(); } },
    }) : null;
    return h('tr', { tabindex: 0, 'data-order-id': o.id, on: { click: open, keydown: (e) => { if (e.key === 'Enter' && e.target.tagName === 'TR') open(); } } },
      staff ? h('td.check', box) : null,
      h('td', h('b', o.external_id || '#' + o.id)),
      h('td', h('span.badge', { style: { background: statusColors[o.status] } }, statusName(o.status))),
      h('td', o.customer.name), h('td.nowrap', o.customer.phone), h('td.addr', o.address),
      h('td.nowrap', fmt.window(o.time_window)),
      h('td', zoneName.get(o.zone_id) || ''), h('td', courierName.get(o.courier_id) || ''),
      h('td.num', o.cod.method === 'prepaid' ? t('pay_prepaid') : `${fmt.money(o.cod.amount, o.cod.currency)}${o.cod.method === 'card' ? ' · ' + word('pay_', 'card') : ''}`));
  }

  function selectAll(on) {
    for (const o of shown.values()) if (on) selected.set(o.id, o); else selected.delete(o.id);
    for (const cb of tbody.querySelectorAll('input[type=checkbox]')) cb.checked = on;
    syncSelection();
  }

  function syncSelection() {
    bulkBar.hidden = selected.size === 0;
    selCount.textContent = tn('selected_n', selected.size);
    all.checked = shown.size > 0 && [...shown.keys()].every((id) => selected.has(id));
  }

  /** Runs fn on every selected order, four at a time; resolves with [{order, ok, error}]. */
  async function eachSelected(fn) {
    const list = [...selected.values()];
    const out = new Array(list.length);
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(4, list.length) }, async () => {
      while (next < list.length) {
        const i = next++;
        try {
          out[i] = { order: list[i], ok: true, result: await fn(list[i]) };
        } catch (err) {
          out[i] = { order: list[i], ok: false, error: err };
        }
      }
    }));
    return out;
  }

  async function report(results) {
    const ok = results.filter((r) => r.ok).length;
    const body = h('div',
      h('p', { 'data-testid': 'bulk-summary' }, t('bulk_done', { ok, failed: results.length - ok })),
      h('div.table-wrap.report-table', h('table.grid', { 'data-testid': 'bulk-report' },
        h('thead', h('tr', h('th', t('order')), h('th', t('import_outcome')))),
        h('tbody', results.map((r) => h('tr', { class: r.ok ? 'ok' : 'bad', 'data-order-id': r.order.id, 'data-outcome': r.ok ? 'ok' : 'error' },
          h('td', r.order.external_id || '#' + r.order.id),
          h('td', r.ok ? t('outcome_ok') : `${t('outcome_error')}: ${errorText(r.error)}`)))))));
    await dialog(t('bulk_report'), body, [{ label: t('close'), value: null, testid: 'bulk-close' }]);
  }

  async function bulkStatusRun(to) {
    const reason = h('input', { maxlength: 500, 'data-testid': 'bulk-reason' });
    const go = await modal(`${statusName(to)} · ${tn('selected_n', selected.size)}`,
      needsReason.has(to) ? h('div.form', h('label', t('bulk_reason'), reason)) : h('p', tn('orders_n', selected.size)),
      [{ label: t('bulk_apply', { n: selected.size }), kind: 'primary', testid: 'bulk-apply', submit: true, run: () => true }],
      { cancelLabel: t('cancel'), errorText });
    bulkStatus.value = '';
    if (!go) return;
    const results = await eachSelected((o) => api.post(`/api/v1/orders/${o.id}/status`, needsReason.has(to) ? { status: to, reason: reason.value.trim() || statusName(to) } : { status: to }));
    await report(results);
    selected.clear();
    await load();
  }

  async function bulkRescheduleRun() {
    const d = h('input', { type: 'date', value: date.value || fmt.isoDate(), 'data-testid': 'bulk-date' });
    const go = await modal(`${t('bulk_reschedule')} · ${tn('selected_n', selected.size)}`, h('div.form', h('label', t('reschedule_to'), d)),
      [{ label: t('bulk_apply', { n: selected.size }), kind: 'primary', testid: 'bulk-apply', submit: true, run: () => true }],
      { cancelLabel: t('cancel'), errorText });
    if (!go) return;
    const results = await eachSelected((o) => api.post(`/api/v1/orders/${o.id}/reschedule`, { date: d.value }));
    await report(results);
    selected.clear();
    await load();
  }

  async function newOrder() {
    const o = await orderForm(ctx, null, { date: date.value || cfg.date });
    if (!o) return;
    toast(t('order_created', { n: o.external_id || '#' + o.id }), 'ok');
    q.value = o.external_id || '';
    await load();
  }

  async function importCSV() {
    const file = h('input', { type: 'file', accept: '.csv,text/csv', required: true, 'data-testid': 'import-file' });
    const res = await modal(t('import_title'), h('div.form', h('p.hint', t('import_help')), h('label', t('import_file'), file)), [{
      label: t('import_run'), kind: 'primary', testid: 'import-run', submit: true,
      run: async () => {
        const f = file.files?.[0];
        if (!f) return false;
        return postCSV(await f.text());
      },
    }], { cancelLabel: t('cancel'), errorText });
    if (!res) return;
    const body = h('div',
      h('p', { 'data-testid': 'import-summary' }, t('import_result', res)),
      h('div.table-wrap.report-table', h('table.grid', { 'data-testid': 'import-report' },
        h('thead', h('tr', h('th', t('import_row')), h('th', t('order')), h('th', t('import_outcome')))),
        h('tbody', res.rows.map((r) => h('tr', { class: r.outcome === 'error' ? 'bad' : '', 'data-row': r.row, 'data-outcome': r.outcome },
          h('td.num', String(r.row)), h('td', r.external_id || ''),
          h('td', r.outcome === 'error' ? `${t('outcome_error')}: ${errorText({ status: 422, ...r.error })}` : t('outcome_' + r.outcome))))))));
    await dialog(t('import_title'), body, [{ label: t('close'), value: null, testid: 'import-close' }]);
    await load();
  }

  /** POSTs a CSV file as text/csv (the API client sends JSON only); one refresh on 401. */
  async function postCSV(text) {
    const send = () => fetch('/api/v1/orders/import', {
      method: 'POST', body: text,
      headers: { Authorization: 'Bearer ' + api.session.access_token, 'Content-Type': 'text/csv; charset=utf-8', 'Idempotency-Key': newKey() },
    });
    let r = await send();
    if (r.status === 401 && await api.refresh()) r = await send();
    const body = await r.json().catch(() => null);
    if (!r.ok) {
      const e = body?.error || {};
      throw Object.assign(new Error(e.message || 'HTTP ' + r.status), { status: r.status, code: e.code, details: e.details || {} });
    }
    return body;
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
