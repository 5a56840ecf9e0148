// An order's card and its history as a timeline, in a dialog (the map's
// popups and the orders table open it).
import { h, dialog } from './dom.js';
import { t, statusName, statusColors } from './i18n.js';

export async function showOrder(ctx, id) {
  const { api, fmt } = ctx;
  const [order, hist] = await Promise.all([api.get(`/api/v1/orders/${id}`), api.get(`/api/v1/orders/${id}/history`)]);
  const body = h('div.order-detail', { 'data-testid': 'order-detail' },
    orderCard(ctx, order),
    h('h3', t('order_events')),
    timeline(ctx, hist.items || []));
  await dialog(`${t('order')} ${order.external_id || '#' + order.id}`, body, [{ label: t('close'), value: null }]);
}

export function orderCard(ctx, o) {
  const { fmt } = ctx;
  const row = (k, v) => (v === '' || v == null ? null : h('div.kv', h('span.k', k), h('span.v', v)));
  return h('div.card',
    row(t('status'), h('span.badge', { style: { background: statusColors[o.status] } }, statusName(o.status))),
    row(t('customer'), o.customer?.name),
    row(t('phone'), o.customer?.phone),
    row(t('address'), o.address),
    row(t('date'), fmt.date(o.delivery_date + 'T12:00:00Z')),
    row(t('window'), fmt.window(o.time_window)),
    row(t('weight'), o.weight_kg ? fmt.number(o.weight_kg) + ' kg' : ''),
    row(t('cod'), o.cod?.method === 'prepaid' ? t('state_prepaid') : `${fmt.money(o.cod?.amount, o.cod?.currency)} · ${o.cod?.method}`),
    row('Notes', o.notes));
}

/** The events of an order, oldest first, as an ordered list. */
export function timeline(ctx, events) {
  const { fmt } = ctx;
  return h('ol.timeline', { 'data-testid': 'timeline' }, events.map((ev) => {
    let what = t('ev_' + ev.kind);
    if (ev.kind === 'status') what = `${statusName(ev.from_status || '')} → ${statusName(ev.to_status || '')}`;
    return h('li', { class: 'ev-' + ev.kind },
      h('time', { datetime: ev.at }, fmt.dateTime(ev.at)),
      h('span.what', what),
      ev.actor_role ? h('span.who', ev.actor_role) : null,
      ev.reason ? h('span.reason', ev.reason) : null,
      ev.comment ? h('span.comment', ev.comment) : null);
  }));
}
