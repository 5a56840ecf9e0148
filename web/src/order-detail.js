// An order's card and its history as a timeline, in a dialog (the map's
// popups and the orders table open it).
import { h, dialog } from './dom.js';
import { t, statusName, statusColors } from './i18n.js';

export async function showOrder(ctx, id) {
  const { api, fmt } = ctx;
  const [order, hist] = await Promise.all([api.get(`/api/v1/orders/${id}`), api.get(`/api/v1/orders/${id}/history`)]);
  const proofs = order.report ? await api.get(`/api/v1/orders/${id}/proofs`).catch(() => ({ items: [] })) : { items: [] };
  const body = h('div.order-detail', { 'data-testid': 'order-detail' },
    orderCard(ctx, order),
    order.report ? h('h3', t('door_report')) : null,
    order.report ? doorReport(ctx, order) : null,
    proofs.items.length ? h('div.proofs', { 'data-testid': 'proofs' }, proofs.items.map((p) => proofImage(ctx, p))) : null,
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
    row(t('weight'), o.weight_kg ? fmt.kg(o.weight_kg) : ''),
    row(t('cod'), o.cod?.method === 'prepaid' ? t('state_prepaid') : `${fmt.money(o.cod?.amount, o.cod?.currency)} · ${o.cod?.method}`),
    row('Notes', o.notes));
}

/** What the courier reported at the door: money, refused goods, recipient, why it failed. */
export function doorReport(ctx, o) {
  const { fmt } = ctx;
  const r = o.report;
  const cur = o.cod?.currency;
  const row = (k, v) => (v === '' || v == null ? null : h('div.kv', h('span.k', k), h('span.v', v)));
  const refused = (r.refused || []).map((x) => `${o.items?.[x.item]?.name || '#' + x.item} × ${x.qty}`).join(', ');
  return h('div.card', { 'data-testid': 'door-report' },
    row(t('arrived_at'), r.arrived_at ? fmt.dateTime(r.arrived_at) : ''),
    row(t('finished_at'), r.finished_at ? fmt.dateTime(r.finished_at) : ''),
    row(t('recipient'), r.recipient_name),
    row(t('amount_due'), r.fail_reason ? '' : fmt.money(r.amount_due, cur)),
    row(t('collected'), r.collected ? `${fmt.money(r.collected.amount, cur)} · ${r.collected.method}` +
      (r.collected.payment_ref ? ` · ${r.collected.payment_ref}` : '') : ''),
    row(t('short_at_door'), r.short_at_door ? fmt.money(r.short_at_door, cur) : ''),
    row(t('refused_goods'), refused),
    row(t('fail_reason'), r.fail_reason ? t('fail_' + r.fail_reason) + (r.fail_comment ? ` · ${r.fail_comment}` : '') : ''),
    row(t('wished_date'), r.wished_date));
}

/** A proof of delivery, fetched with the session's token and shown from a blob URL. */
function proofImage(ctx, p) {
  const img = h('img.proof', { alt: t('proof_' + p.kind), 'data-testid': 'proof-' + p.kind });
  ctx.api.blob(p.url).then((b) => { img.src = URL.createObjectURL(b); }).catch(() => { img.alt = t('proof_missing'); });
  return h('figure', img, h('figcaption', `${t('proof_' + p.kind)} · ${ctx.fmt.dateTime(p.created_at)}`));
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
