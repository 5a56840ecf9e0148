// Small pieces shared by the app's screens: what to collect, the distance,
// the status chip, the call and navigation links.
import { h, toast as domToast } from '../dom.js';
import { t, statusName } from '../i18n.js';
import { distanceM, isFinished } from './day.js';
import { icon } from './icons.js';

/** "Cash 2 499,00 ₽", "Card 1 200,00 ₽", "Prepaid". */
export function collectText(ctx, stop) {
  const c = stop.collect;
  if (c.method === 'prepaid' || !c.amount) return t('pay_prepaid');
  return `${t('pay_' + c.method)} ${ctx.fmt.money(c.amount, c.currency)}`;
}

export function distanceText(ctx, stop) {
  const m = distanceM(ctx.model.position, stop.location);
  if (m == null) return '';
  if (m < 1000) return `${Math.round(m / 10) * 10} ${t('unit_m')}`;
  return `${ctx.fmt.number(m / 1000)} ${t('unit_km')}`;
}

export function statusChip(stop) {
  return h('span.chip', { class: 'st-' + stop.status }, statusName(stop.status));
}

/** tel: with the digits and + only. */
export function telHref(phone) {
  return 'tel:' + String(phone || '').replace(/[^\d+]/g, '');
}

/**
 * A geo: link opens the phone's own map app (Android); iPhones do not
 * know geo:, so they get Apple Maps' link, which opens the Maps app.
 */
export function navHref(stop) {
  const { lat, lng } = stop.location;
  if (/iPhone|iPad|iPod/.test(globalThis.navigator?.userAgent || '')) return `https://maps.apple.com/?daddr=${lat},${lng}`;
  return `geo:${lat},${lng}?q=${lat},${lng}(${encodeURIComponent(stop.address || '')})`;
}

export function callLink(stop, big = false) {
  return h('a.action', { class: big ? 'big' : '', href: telHref(stop.customer?.phone), 'data-testid': 'call' }, icon('phone'), t('call'));
}

export function navLink(stop, big = false) {
  return h('a.action', { class: big ? 'big' : '', href: navHref(stop), 'data-testid': 'navigate' }, icon('navigate'), t('navigate'));
}

/** One line of a stop in the list. */
export function stopRow(ctx, stop, { next = false } = {}) {
  const done = isFinished(stop);
  const dist = done ? '' : distanceText(ctx, stop);
  return h('a.stop-row', {
    href: '#/stop/' + stop.order_id, class: [done ? 'done' : '', next ? 'next' : '', 'st-' + stop.status].join(' '),
    'data-testid': 'stop-row', 'data-order': String(stop.order_id), 'data-status': stop.status, 'data-pending': stop.pending ? 'true' : 'false',
  },
  h('span.seq', String(stop.seq)),
  h('span.body',
    h('span.line1', h('strong', stop.customer?.name || stop.external_id), done ? statusChip(stop) : null,
      stop.pending ? h('span.pending', { title: t('not_sent') }, icon('wait')) : null),
    h('span.line2', stop.address),
    h('span.line3',
      stop.time_window ? h('span', icon('clock'), ctx.fmt.window(stop.time_window)) : null,
      !done && stop.eta ? h('span', t('eta'), ' ', ctx.fmt.time(stop.eta)) : null,
      dist ? h('span', icon('pin'), dist) : null,
      h('span.collect', { class: stop.collect.method === 'prepaid' ? 'prepaid' : '' }, collectText(ctx, stop)))));
}

/** A short message at the bottom: one at a time (a courier taps fast). */
export function toast(text, kind = 'info', ms = 2500) {
  document.getElementById('toasts')?.replaceChildren();
  domToast(text, kind, ms);
}

/**
 * Runs a tap's action; if the phone could not keep it (storage full or
 * refused), says so instead of failing silently.
 */
export async function perform(fn, button) {
  try {
    return await fn();
  } catch (e) {
    console.error(e);
    toast(t('save_failed', { error: e?.message || String(e) }), 'error', 8000);
    if (button) button.disabled = false;
    return undefined;
  }
}
