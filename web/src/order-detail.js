// An order's card in a dialog (the map and the orders table open it): the
// order, what the courier reported at the door, the proofs of delivery and
// the history; and for dispatchers the actions: edit the address or the
// window, cancel, reschedule a failed order, copy the tracking link.
import { h, fill, dialog, modal, toast } from './dom.js';
import { t, statusName, statusColors, errorText, historyNote, historyComment, word } from './i18n.js';
import { icon } from './icons.js';
import { orderForm, editableStatuses } from './order-form.js';

const cancellable = new Set(['new', 'confirmed', 'awaiting_stock', 'ready', 'planned']);
const reschedulable = new Set(['failed_attempt']);

/** Opens an order's card; opts.onChange() runs after an action changed it. */
export async function showOrder(ctx, id, opts = {}) {
  const box = h('div.order-detail', { 'data-testid': 'order-detail' });
  let order = await fill_(ctx, id, box, opts);
  const shown = dialog(`${t('order')} ${order.external_id || '#' + order.id}`, box, [{ label: t('close'), value: null, testid: 'order-close' }]);
  // The card opens at its top, on its first action.
  box.closest('.dialog').scrollTop = 0;
  box.querySelector('.order-actions button:not([disabled])')?.focus({ preventScroll: true });
  await shown;

  async function fill_(ctx2, oid, el, o2) {
    const [o, hist] = await Promise.all([ctx2.api.get(`/api/v1/orders/${oid}`), ctx2.api.get(`/api/v1/orders/${oid}/history`)]);
    const hasProofs = o.report || ['delivered', 'failed_attempt', 'refused', 'returned_to_depot'].includes(o.status);
    const proofs = hasProofs ? await ctx2.api.get(`/api/v1/orders/${oid}/proofs`).catch(() => ({ items: [] })) : { items: [] };
    const refresh = async () => {
      order = await fill_(ctx2, oid, el, o2);
      o2.onChange?.(order);
    };
    fill(el,
      actions(ctx2, o, refresh),
      orderCard(ctx2, o),
      o.report ? h('h3', t('door_report')) : null,
      o.report ? doorReport(ctx2, o) : null,
      hasProofs ? h('h3', t('proofs')) : null,
      hasProofs ? (proofs.items.length ? h('div.proofs', { 'data-testid': 'proofs' }, proofs.items.map((p) => proofImage(ctx2, p))) : h('p.muted', { 'data-testid': 'no-proofs' }, t('no_proofs'))) : null,
      h('h3', t('order_events')),
      timeline(ctx2, hist.items || []));
    return o;
  }
}

/** The dispatcher's actions on an order, as far as its status allows them. */
function actions(ctx, o, refresh) {
  const staff = ['admin', 'dispatcher'].includes(ctx.api.role);
  if (!staff) return null;
  const btn = (name, label, testid, run, enabled = true) => h('button.small', { type: 'button', 'data-testid': testid, disabled: !enabled, on: { click: run } }, icon(name, 14), ' ', label);
  return h('div.order-actions', { role: 'toolbar', 'aria-label': t('actions') },
    btn('edit', t('edit'), 'order-edit', async () => {
      const saved = await orderForm(ctx, o);
      if (saved) { toast(t('order_saved'), 'ok'); await refresh(); }
    }, editableStatuses.has(o.status)),
    btn('ban', t('cancel_order'), 'order-cancel', async () => {
      if (await cancelOrder(ctx, o)) { toast(t('order_cancelled'), 'ok'); await refresh(); }
    }, cancellable.has(o.status)),
    btn('calendar', t('reschedule'), 'order-reschedule', async () => {
      const res = await rescheduleOrder(ctx, o);
      if (res) { toast(t('rescheduled', { date: ctx.fmt.date(res.delivery_date + 'T12:00:00Z') }), 'ok'); await refresh(); }
    }, reschedulable.has(o.status)),
    btn('copy', t('tracking_link'), 'order-link', () => copyTrackingLink(ctx, o)),
    editableStatuses.has(o.status) ? null : h('span.muted.small', t('edit_locked')));
}

/** Asks for a reason and cancels; resolves with the order or null. */
export function cancelOrder(ctx, o) {
  const reason = h('input', { required: true, maxlength: 500, 'data-testid': 'cancel-reason' });
  return modal(`${t('cancel_order')} ${o.external_id || '#' + o.id}`, h('div.form', h('label', t('cancel_reason'), reason)), [
    { label: t('cancel_order'), kind: 'danger', testid: 'cancel-confirm', submit: true, run: () => ctx.api.post(`/api/v1/orders/${o.id}/status`, { status: 'cancelled', reason: reason.value.trim() || t('cancel_order') }) },
  ], { cancelLabel: t('keep_order'), errorText });
}

/** A failed order back into a day's pool: the date the customer wished, another, or today. */
export function rescheduleOrder(ctx, o) {
  const wished = o.report?.wished_date;
  const date = h('input', { type: 'date', value: wished || ctx.cfg.date || ctx.fmt.isoDate(), 'data-testid': 'reschedule-date' });
  return modal(`${t('reschedule')} ${o.external_id || '#' + o.id}`, h('div.form',
    wished ? h('p', `${t('wished_date')}: ${ctx.fmt.date(wished + 'T12:00:00Z')}`) : null,
    h('label', t('reschedule_to'), date)), [
    { label: t('reschedule'), kind: 'primary', testid: 'reschedule-confirm', submit: true, run: () => ctx.api.post(`/api/v1/orders/${o.id}/reschedule`, { date: date.value }) },
    { label: t('reschedule_today'), testid: 'reschedule-today', run: () => ctx.api.post(`/api/v1/orders/${o.id}/reschedule`, {}) },
  ], { cancelLabel: t('cancel'), errorText });
}

/** Copies the customer's tracking link; shows it where the clipboard is closed. */
export async function copyTrackingLink(ctx, o) {
  try {
    const link = await ctx.api.get(`/api/v1/orders/${o.id}/tracking-link`);
    let copied = false;
    try {
      await navigator.clipboard.writeText(link.url);
      copied = true;
    } catch { /* no clipboard here (not a secure page, or refused) */ }
    const input = h('input.link', { readonly: true, value: link.url, 'data-testid': 'tracking-url', on: { focus: (e) => e.target.select() } });
    if (copied) toast(`${t('link_copied')}: ${link.url}`, 'ok', 8000);
    else await dialog(t('link_is'), h('div.form', input), [{ label: t('close'), value: null }]);
    document.body.dataset.lastTrackingLink = link.url;
  } catch (err) {
    toast(errorText(err), 'error');
  }
}

export function orderCard(ctx, o) {
  const { fmt } = ctx;
  const row = (k, v) => (v === '' || v == null ? null : h('div.kv', h('span.k', k), h('span.v', v)));
  const ad = o.address_details || {};
  const details = [ad.entrance && `${t('entrance')} ${ad.entrance}`, ad.floor && `${t('floor')} ${ad.floor}`, ad.apartment && `${t('apartment')} ${ad.apartment}`,
    ad.intercom && `${t('intercom')} ${ad.intercom}`, ad.comment].filter(Boolean).join(', ');
  return h('div.card',
    row(t('status'), h('span.badge', { style: { background: statusColors[o.status] }, 'data-testid': 'order-status', 'data-status': o.status }, statusName(o.status))),
    row(t('customer'), o.customer?.name),
    row(t('phone'), o.customer?.phone),
    row(t('address'), h('span', { 'data-testid': 'order-address' }, o.address, details ? h('span.muted', ` (${details})`) : null)),
    row(t('date'), fmt.date(o.delivery_date + 'T12:00:00Z')),
    row(t('window'), h('span', { 'data-testid': 'order-window' }, fmt.window(o.time_window))),
    row(t('weight'), o.weight_kg ? fmt.kg(o.weight_kg) : ''),
    row(t('cod'), o.cod?.method === 'prepaid' ? t('pay_prepaid') : `${fmt.money(o.cod?.amount, o.cod?.currency)} · ${word('pay_', o.cod?.method)}`),
    row(t('notes'), o.notes));
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
    row(t('collected'), r.collected ? `${fmt.money(r.collected.amount, cur)} · ${word('pay_', r.collected.method)}` +
      (r.collected.payment_ref ? ` · ${r.collected.payment_ref}` : '') : ''),
    row(t('short_at_door'), r.short_at_door ? fmt.money(r.short_at_door, cur) : ''),
    row(t('refused_goods'), refused),
    row(t('fail_reason'), r.fail_reason ? word('fail_', r.fail_reason) + (r.fail_comment ? ` · ${r.fail_comment}` : '') : ''),
    row(t('wished_date'), r.wished_date ? fmt.date(r.wished_date + 'T12:00:00Z') : ''));
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
  const day = (d) => fmt.date(d + 'T12:00:00Z');
  return h('ol.timeline', { 'data-testid': 'timeline' }, events.map((ev) => {
    let what = t('ev_' + ev.kind);
    if (ev.kind === 'status') what = `${statusName(ev.from_status || '')} → ${statusName(ev.to_status || '')}`;
    return h('li', { class: 'ev-' + ev.kind },
      h('time', { datetime: ev.at }, fmt.dateTime(ev.at)),
      h('span.what', what),
      ev.actor_role ? h('span.who', word('role_', ev.actor_role)) : null,
      ev.reason ? h('span.reason', historyNote(ev.reason, day)) : null,
      ev.comment ? h('span.comment', historyComment(ev.comment, (m, c) => fmt.money(m, c))) : null);
  }));
}
