// The day: start the shift; the stops in route order, the next one first,
// with the window, the ETA, the distance and what to collect; finished
// stops greyed; the cash on hand; end the shift.
import { h, fill } from '../dom.js';
import { t, tn } from '../i18n.js';
import { allStops, nextStop, shiftOpen, summary } from './day.js';
import { stopRow, callLink, navLink, collectText, distanceText, toast, perform } from './parts.js';
import { shiftSummary } from './end.js';

export function homeScreen(ctx) {
  const el = h('div.home', { 'data-testid': 'home' });
  let shown = '';
  // Redrawn only when what it shows changed: a tap is never lost under a redraw.
  const draw = (day) => {
    const p = ctx.model.position;
    const sig = JSON.stringify([day, ctx.model.online, ctx.model.lastRefresh > 0, p ? [p.lat.toFixed(3), p.lng.toFixed(3)] : null]);
    if (sig === shown) return;
    shown = sig;
    fill(el, content(ctx, day));
  };
  draw(ctx.model.view());
  return { el, update: draw };
}

function content(ctx, day) {
  const stops = allStops(day);
  const out = [];
  if (!ctx.model.lastRefresh && !stops.length && !day.courier) {
    out.push(h('p.muted.center', { 'data-testid': 'loading' }, ctx.model.online ? t('loading') : t('offline_no_day')));
    return out;
  }
  const date = day.date ? ctx.fmt.date(day.date + 'T12:00:00Z') : '';
  out.push(h('div.day-head', h('span', day.courier?.name || ''), h('span.muted', date)));
  if (!stops.length) {
    out.push(h('div.card.center', { 'data-testid': 'no-sheets' }, h('p', t('no_sheets', { date })),
      h('button.big', { type: 'button', on: { click: () => ctx.model.kick({ refresh: true }) } }, t('refresh'))));
    return out;
  }
  if (day.shift?.status === 'ended') {
    // A sheet published after the shift ended can still be started.
    if (day.sheets.some((sh) => sh.status === 'published')) {
      out.push(h('div.card.start', h('p', t('new_sheet')),
        h('button.big.primary', { type: 'button', 'data-testid': 'start-shift', on: { click: (e) => { const b = e.currentTarget; b.disabled = true; perform(() => startShift(ctx, day), b); } } }, t('start_shift'))));
    }
    out.push(shiftSummary(ctx, day));
    return out;
  }
  const open = shiftOpen(day);
  const s = summary(day);
  if (!open) {
    out.push(h('div.card.start',
      h('p', tn('stops_today', s.stops), ' · ', day.sheets.map((sh) => sh.number).join(', ')),
      h('button.big.primary', { type: 'button', 'data-testid': 'start-shift', on: { click: (e) => { const b = e.currentTarget; b.disabled = true; perform(() => startShift(ctx, day), b); } } }, t('start_shift'))));
  } else {
    // A sheet published after the shift started starts with one tap (online: it is not a courier event).
    for (const sheet of day.sheets.filter((sh) => sh.status === 'published')) {
      out.push(h('div.card.start', { 'data-testid': 'late-sheet' }, h('p', t('new_sheet'), ' ', sheet.number),
        h('button.big.primary', { type: 'button', on: { click: (e) => startSheet(ctx, sheet, e.currentTarget) } }, t('start_sheet'))));
    }
    out.push(h('div.figures', { 'data-testid': 'figures' },
      h('div', h('small', t('cash_on_hand')), h('strong', { 'data-testid': 'cash-on-hand', 'data-amount': String(day.cash_on_hand.amount) }, ctx.fmt.money(day.cash_on_hand.amount, day.cash_on_hand.currency))),
      h('div', h('small', t('done')), h('strong', { 'data-testid': 'done-count' }, `${s.delivered + s.failed} / ${s.stops}`))));
    const next = nextStop(day);
    if (next) {
      const st = next.stop;
      const dist = distanceText(ctx, st);
      out.push(h('section.next', { 'data-testid': 'next-stop', 'data-order': String(st.order_id) },
        h('div.next-label', t('next_stop')),
        h('a.next-main', { href: '#/stop/' + st.order_id },
          h('span.seq.big', String(st.seq)),
          h('span', h('strong', st.customer?.name || ''), h('br'), st.address, h('br'),
            h('span.muted', [st.time_window ? ctx.fmt.window(st.time_window) : '', st.eta ? `${t('eta')} ${ctx.fmt.time(st.eta)}` : '', dist].filter(Boolean).join(' · ')),
            h('br'), h('span.collect', collectText(ctx, st)))),
        h('div.next-actions', callLink(st), navLink(st),
          h('a.action.primary', { href: '#/stop/' + st.order_id, 'data-testid': 'open-next' }, t('open_stop')))));
    } else {
      out.push(h('div.card.center', h('p', t('all_done'))));
    }
  }
  for (const sheet of day.sheets) {
    out.push(h('h2.sheet-title', `${t('sheet')} ${sheet.number}`, h('span.muted', ` · ${sheet.progress.delivered + sheet.progress.failed}/${sheet.progress.total}`)));
    const next = nextStop(day)?.stop.order_id;
    out.push(h('div.stops', { 'data-testid': 'stops' }, sheet.stops.map((st) => stopRow(ctx, st, { next: open && st.order_id === next }))));
  }
  if (open) {
    out.push(h('button.big.end-shift', { type: 'button', 'data-testid': 'go-end', on: { click: () => ctx.go('#/end') } }, t('end_shift')));
  }
  return out;
}

async function startShift(ctx, day) {
  await ctx.model.act({ action: 'shift_start', date: day.date });
  toast(t('shift_started'), 'ok', 2500);
}

async function startSheet(ctx, sheet, button) {
  button.disabled = true;
  try {
    await ctx.api.post(`/api/v1/route-sheets/${sheet.id}/start`, { at: new Date().toISOString() });
  } catch (e) {
    toast(`${sheet.number}: ${e instanceof TypeError ? t('needs_network') : e.message}`, 'error', 6000);
    button.disabled = false;
    return;
  }
  ctx.model.kick({ refresh: true });
}
