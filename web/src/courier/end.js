// The end of the shift: delivered, failed, the stops still open (handed
// back to the depot), the cash to hand in; after it, the route sheets'
// barcodes on screen for the cashier's scanner.
import { h, fill } from '../dom.js';
import { t, tn } from '../i18n.js';
import { toast, perform } from './parts.js';
import { summary, shiftOpen } from './day.js';
import { drawBarcode } from './code128.js';

export function endScreen(ctx) {
  const el = h('div.end-screen', { 'data-testid': 'end' });
  const draw = (day) => {
    if (!shiftOpen(day)) {
      fill(el, h('div.bar', h('a.back', { href: '#/', 'aria-label': t('back') }, '←'), h('h1', t('end_shift'))),
        day.shift?.status === 'ended' ? shiftSummary(ctx, day) : h('p.card', t('no_open_shift')));
      return;
    }
    const s = summary(day);
    fill(el,
      h('div.bar', h('a.back', { href: '#/', 'data-testid': 'back', 'aria-label': t('back') }, '←'), h('h1', t('end_shift'))),
      figures(ctx, day, s),
      s.open ? h('p.card.warn', { 'data-testid': 'open-left' }, tn('open_left', s.open)) : null,
      h('button.big.primary', { type: 'button', 'data-testid': 'confirm-end', on: { click: (e) => { const b = e.currentTarget; b.disabled = true; perform(() => end(ctx, day, s), b); } } },
        s.open ? t('end_and_hand_back') : t('end_shift')));
  };
  draw(ctx.model.view());
  return { el, update: draw };
}

async function end(ctx, day, s) {
  const ev = { action: 'shift_end' };
  if (s.openIds.length) ev.hand_back = s.openIds;
  await ctx.model.act(ev);
  toast(t('shift_ended'), 'ok', 2500);
  ctx.go('#/');
}

function figures(ctx, day, s) {
  const money = (v) => ctx.fmt.money(v, day.cash_on_hand.currency);
  return h('dl.summary', { 'data-testid': 'summary' },
    h('dt', t('delivered_n')), h('dd', { 'data-testid': 'sum-delivered' }, String(s.delivered)),
    h('dt', t('failed_n')), h('dd', { 'data-testid': 'sum-failed' }, String(s.failed)),
    s.open ? h('dt', t('open_n')) : null, s.open ? h('dd', { 'data-testid': 'sum-open' }, String(s.open)) : null,
    s.card ? h('dt', t('card_total')) : null, s.card ? h('dd', money(s.card)) : null,
    s.short ? h('dt', t('short_total')) : null, s.short ? h('dd.bad', money(s.short)) : null,
    h('dt.cash', t('cash_to_hand_in')), h('dd.cash', { 'data-testid': 'sum-cash', 'data-amount': String(day.cash_on_hand.amount) }, money(day.cash_on_hand.amount)));
}

/** After the shift: the figures and each sheet's barcode for the cash desk. */
export function shiftSummary(ctx, day) {
  const s = summary(day);
  const codes = day.sheets.map((sheet) => {
    const canvas = h('canvas.barcode', { 'data-testid': 'sheet-barcode', 'data-sheet': String(sheet.id) });
    requestAnimationFrame(() => {
      try {
        drawBarcode(canvas, sheet.barcode || sheet.number);
      } catch (e) {
        canvas.replaceWith(h('p.error', String(e.message)));
      }
    });
    return h('div.barcode-box', canvas, h('div.barcode-text', sheet.barcode || sheet.number));
  });
  return h('section.shift-summary', { 'data-testid': 'shift-summary' },
    h('h2', t('shift_over')),
    figures(ctx, day, s),
    h('p.muted', t('show_cashier')),
    codes);
}
