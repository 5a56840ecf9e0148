// One stop: call, navigate, arrive; deliver (scan the goods, refused
// pieces, the money with cash or card and slip number, the recipient, a
// signature, a photo) or report it failed with a reason (a reschedule asks
// the date).
import { h, fill, dialog } from '../dom.js';
import { t, tn, statusName } from '../i18n.js';
import { findStop, isFinished, amountDue, expectedScans, compareScans, FAIL_REASONS } from './day.js';
import { uuid } from './queue.js';
import { callLink, navLink, collectText, distanceText, statusChip, toast, perform } from './parts.js';
import { scanner } from './scanner.js';
import { signaturePad } from './signature.js';
import { photoInput } from './photo.js';
import { icon } from './icons.js';

export function stopScreen(ctx, orderId) {
  const el = h('div.stop-screen', { 'data-testid': 'stop', 'data-order': String(orderId) });
  const widgets = [];
  let mode = 'view';
  let current = findStop(ctx.model.view(), orderId);
  const destroyWidgets = () => { while (widgets.length) widgets.pop().destroy?.(); };

  const draw = () => {
    destroyWidgets();
    if (!current) {
      fill(el, backBar(ctx, ''), h('p.card', t('stop_gone')));
      return;
    }
    const { sheet, stop } = current;
    const parts = [backBar(ctx, `${t('stop')} ${stop.seq}`, stop), info(ctx, stop)];
    if (mode === 'deliver') parts.push(deliverForm(ctx, sheet, stop, widgets, () => { mode = 'view'; draw(); }));
    else if (mode === 'fail') parts.push(failForm(ctx, sheet, stop, widgets, () => { mode = 'view'; draw(); }));
    else parts.push(actions(ctx, stop, (m) => { mode = m; draw(); el.querySelector('section.form')?.scrollIntoView({ block: 'start' }); }));
    fill(el, parts);
    el.dataset.mode = mode;
    if (mode === 'deliver') el.querySelector('#scan')?.focus({ preventScroll: true });
  };
  draw();
  return {
    el,
    update(day) {
      const next = findStop(day, orderId);
      if (JSON.stringify(next) === JSON.stringify(current)) return;
      const changed = !current || !next || next.stop.status !== current.stop.status || next.stop.actions.join() !== current.stop.actions.join();
      current = next;
      // A form being filled in stays; the rest follows the day.
      if (mode === 'view' || (changed && next && isFinished(next.stop))) {
        mode = 'view';
        draw();
      } else {
        const chip = el.querySelector('.bar .chip');
        if (chip && next) chip.replaceWith(statusChip(next.stop));
      }
    },
    unmount: destroyWidgets,
  };
}

function backBar(ctx, title, stop) {
  return h('div.bar', h('a.back', { href: '#/', 'data-testid': 'back', 'aria-label': t('back') }, '←'), h('h1', title), stop ? statusChip(stop) : null);
}

function info(ctx, stop) {
  const d = stop.address_details || {};
  const details = [['entrance', d.entrance], ['floor', d.floor], ['apartment', d.apartment], ['intercom', d.intercom]]
    .filter(([, v]) => v).map(([k, v]) => `${t('addr_' + k)} ${v}`).join(' · ');
  const dist = distanceText(ctx, stop);
  return h('section.info',
    h('div.customer', h('strong', stop.customer?.name || ''), h('span.muted', stop.customer?.phone || ''), h('span.muted', stop.external_id)),
    h('div.links', callLink(stop, true), navLink(stop, true)),
    h('p.address', stop.address, details ? h('br') : null, details ? h('span', details) : null,
      d.comment ? h('br') : null, d.comment ? h('em', d.comment) : null),
    h('p.when',
      stop.time_window ? h('span', icon('clock'), ctx.fmt.window(stop.time_window)) : null,
      stop.eta && !isFinished(stop) ? h('span', `${t('eta')} ${ctx.fmt.time(stop.eta)}`) : null,
      dist && !isFinished(stop) ? h('span', icon('pin'), dist) : null),
    stop.notes ? h('p.notes', icon('note'), stop.notes) : null,
    h('p.collect-line', { 'data-testid': 'to-collect' }, h('span.muted', t('to_collect'), ' '), h('strong', collectText(ctx, stop))),
    h('ul.goods-brief', stop.goods.map((g) => h('li', `${g.name} × ${g.qty}`, g.barcode ? h('code', g.barcode) : null))),
    report(ctx, stop));
}

/** What was reported at a finished stop. */
function report(ctx, stop) {
  const r = stop.report;
  if (!r || !isFinished(stop)) {
    return r?.arrived_at ? h('p.muted', { 'data-testid': 'arrived' }, t('arrived_at', { time: ctx.fmt.time(r.arrived_at) })) : null;
  }
  const lines = [];
  if (stop.status === 'delivered') {
    lines.push(t('delivered_at', { time: ctx.fmt.time(r.finished_at) }));
    if (r.collected) lines.push(`${t('pay_' + r.collected.method)} ${ctx.fmt.money(r.collected.amount)}${r.collected.payment_ref ? ' · ' + t('slip') + ' ' + r.collected.payment_ref : ''}`);
    if (r.recipient_name) lines.push(t('received_by', { name: r.recipient_name }));
    if (r.short_at_door) lines.push(t('short_by', { amount: ctx.fmt.money(r.short_at_door) }));
  } else {
    lines.push(`${statusName(stop.status)}: ${t('reason_' + (r.fail_reason || 'unknown'))}`);
    if (r.wished_date) lines.push(t('wished', { date: ctx.fmt.date(r.wished_date + 'T12:00:00Z') }));
    if (r.fail_comment) lines.push(r.fail_comment);
  }
  if (stop.pending) lines.push(t('not_sent'));
  return h('div.report', { 'data-testid': 'report' }, lines.map((l) => h('p', l)));
}

function actions(ctx, stop, setMode) {
  if (isFinished(stop)) return null;
  const can = (a) => stop.actions.includes(a);
  if (!stop.actions.length) return h('p.card.center', { 'data-testid': 'no-actions' }, t('start_shift_first'));
  return h('div.stop-actions',
    can('arrive') ? h('button.big', { type: 'button', 'data-testid': 'arrive', on: { click: (e) => { const b = e.currentTarget; b.disabled = true; perform(() => arrive(ctx, stop), b); } } }, icon('door'), t('arrive')) : null,
    can('deliver') ? h('button.big.primary', { type: 'button', 'data-testid': 'deliver', on: { click: () => setMode('deliver') } }, icon('check'), t('deliver')) : null,
    can('fail') ? h('button.big.danger-outline', { type: 'button', 'data-testid': 'fail', on: { click: () => setMode('fail') } }, icon('cross'), t('fail')) : null);
}

async function arrive(ctx, stop) {
  await ctx.model.act({ action: 'arrive', order_id: stop.order_id });
  toast(t('arrived_saved'), 'ok', 2000);
}

function deliverForm(ctx, sheet, stop, widgets, cancel) {
  const refused = {};
  const scanned = [];
  const form = h('section.form.deliver-form', { 'data-testid': 'deliver-form' });
  const feedback = h('p.scan-feedback', { 'data-testid': 'scan-feedback', role: 'status' });
  const goodsBox = h('div.goods');
  const hint = h('p.hint', { 'data-testid': 'deliver-hint' });
  const totalPieces = stop.goods.reduce((n, g) => n + g.qty, 0);
  const origMethod = stop.collect.method === 'card' ? 'card' : 'cash';
  let method = origMethod;

  const amount = h('input#amount', { inputmode: 'decimal', autocomplete: 'off', 'data-testid': 'amount' });
  const slip = h('input#slip', { inputmode: 'numeric', autocomplete: 'off', 'data-testid': 'slip' });
  const slipRow = h('label.field', { for: 'slip' }, t('slip_number'), slip);
  const recipient = h('input#recipient', { autocomplete: 'off', 'data-testid': 'recipient', placeholder: stop.customer?.name || '' });
  const dueLine = h('p.due', { 'data-testid': 'due' });
  const methodButtons = ['cash', 'card'].map((m) => h('button.seg', { type: 'button', 'data-testid': 'method-' + m, on: { click: () => { method = m; refresh(); } } }, t('pay_' + m)));
  const moneyBox = h('div.money', dueLine, h('div.segmented', methodButtons), h('label.field', { for: 'amount' }, t('amount_collected'), amount), slipRow);

  const sign = signaturePad();
  const photo = photoInput();
  const scan = scanner((code) => onScan(code));
  widgets.push(sign, photo, scan);
  sign.onChange = () => refresh();

  const due = () => amountDue(stop, refused);
  amount.value = ctx.fmt.amountInput(due());
  let amountTouched = false;
  amount.addEventListener('input', () => { amountTouched = true; refresh(); });
  slip.addEventListener('input', () => refresh());

  const onScan = (raw) => {
    const code = raw.trim();
    const want = expectedScans(stop, refused);
    const have = scanned.filter((c) => c === code).length;
    if (!want[code]) {
      feedback.className = 'scan-feedback bad';
      feedback.textContent = t('scan_unknown', { code });
      navigator.vibrate?.([80, 60, 80]);
    } else if (have >= want[code]) {
      feedback.className = 'scan-feedback bad';
      feedback.textContent = t('scan_already', { code, n: want[code] });
    } else {
      scanned.push(code);
      feedback.className = 'scan-feedback ok';
      feedback.textContent = t('scan_ok', { code });
      navigator.vibrate?.(40);
    }
    refresh();
  };

  const setRefused = (g, n) => {
    refused[g.item] = Math.max(0, Math.min(g.qty, n));
    if (!refused[g.item]) delete refused[g.item];
    // Scans beyond what is now handed over are dropped, last first.
    const want = expectedScans(stop, refused);
    for (const code of new Set(scanned)) {
      while (scanned.filter((c) => c === code).length > (want[code] || 0)) scanned.splice(scanned.lastIndexOf(code), 1);
    }
    if (!amountTouched) amount.value = ctx.fmt.amountInput(due());
    refresh();
  };

  const problems = () => {
    const out = [];
    const refusedN = Object.values(refused).reduce((a, b) => a + b, 0);
    if (totalPieces > 0 && refusedN >= totalPieces) return [t('all_refused')];
    const { missing } = compareScans(expectedScans(stop, refused), scanned);
    if (missing.length) out.push(tn('scan_missing', missing.length));
    if (due() > 0) {
      const v = ctx.fmt.parseMoney(amount.value);
      if (v == null || v < 0) out.push(t('amount_needed'));
      else if (v > due()) out.push(t('amount_too_much', { due: ctx.fmt.money(due()) }));
      if (method === 'card' && !slip.value.trim()) out.push(t('slip_needed'));
    }
    return out;
  };

  const submit = h('button.big.primary', { type: 'button', 'data-testid': 'confirm-deliver', on: { click: () => perform(confirmDeliver, submit) } }, icon('check'), t('delivered_button'));

  const refresh = () => {
    fill(goodsBox, stop.goods.map((g) => {
      const got = scanned.filter((c) => c === g.barcode).length;
      const need = g.qty - (refused[g.item] || 0);
      const ok = !g.barcode || got >= need;
      return h('div.good', { class: ok ? 'scanned' : '', 'data-testid': 'good', 'data-item': String(g.item) },
        h('div.good-name', h('strong', g.name), ` × ${g.qty}`, g.price ? h('span.muted', ' · ' + ctx.fmt.money(g.price)) : null,
          g.barcode ? h('div', h('code', g.barcode)) : null),
        g.barcode ? h('span.count', { 'data-testid': 'scan-count' }, `${Math.min(got, need)}/${need}`) : h('span.count', '—'),
        h('div.stepper', { 'aria-label': t('refused_pieces') },
          h('small', t('refused')),
          h('button.step', { type: 'button', 'aria-label': t('refused_less'), 'data-testid': 'refused-minus', disabled: !refused[g.item], on: { click: () => setRefused(g, (refused[g.item] || 0) - 1) } }, '−'),
          h('span.n', { 'data-testid': 'refused-n' }, String(refused[g.item] || 0)),
          h('button.step', { type: 'button', 'aria-label': t('refused_more'), 'data-testid': 'refused-plus', disabled: (refused[g.item] || 0) >= g.qty, on: { click: () => setRefused(g, (refused[g.item] || 0) + 1) } }, '+')));
    }));
    const d = due();
    moneyBox.hidden = d === 0;
    dueLine.textContent = `${t('to_collect')}: ${ctx.fmt.money(d)}`;
    methodButtons.forEach((b, i) => b.classList.toggle('on', ['cash', 'card'][i] === method));
    methodButtons.forEach((b, i) => b.setAttribute('aria-pressed', String(['cash', 'card'][i] === method)));
    slipRow.hidden = method !== 'card';
    const p = problems();
    hint.textContent = p.join(' · ');
    submit.disabled = p.length > 0;
  };

  const confirmDeliver = async () => {
    if (problems().length) return;
    const d = due();
    const event = { action: 'deliver', order_id: stop.order_id, scanned_barcodes: [...scanned] };
    const ref = Object.entries(refused).map(([item, qty]) => ({ item: Number(item), qty }));
    if (ref.length) event.refused = ref;
    if (recipient.value.trim()) event.recipient_name = recipient.value.trim();
    if (d > 0) {
      const v = ctx.fmt.parseMoney(amount.value);
      if (v < d) {
        const ok = await dialog(t('short_title'), h('p', t('short_text', { got: ctx.fmt.money(v), due: ctx.fmt.money(d) })), [
          { label: t('cancel'), value: false, testid: 'short-cancel' }, { label: t('deliver_anyway'), value: true, kind: 'primary', testid: 'short-ok' }]);
        if (!ok) return;
      }
      event.collected = { amount: v, method };
      if (method === 'card') event.collected.payment_ref = slip.value.trim();
    }
    submit.disabled = true;
    event.at = new Date().toISOString(); // the tap, before the pictures are encoded
    const proofs = [];
    if (sign.hasInk()) proofs.push({ id: uuid(), kind: 'signature', blob: await sign.blob() });
    if (photo.blob()) proofs.push({ id: uuid(), kind: 'photo', blob: photo.blob() });
    await ctx.model.act(event, proofs);
    toast(t('delivered_saved'), 'ok', 2500);
    ctx.go('#/');
  };

  fill(form,
    h('h2', t('hand_over')),
    h('div.field-label', t('goods'), h('small.muted', t('scan_help'))),
    goodsBox,
    scan.el,
    feedback,
    moneyBox,
    h('label.field', { for: 'recipient' }, t('recipient'), recipient),
    sign.el,
    photo.el,
    hint,
    h('div.form-buttons', h('button.big', { type: 'button', 'data-testid': 'cancel', on: { click: cancel } }, t('cancel')), submit));
  refresh();
  return form;
}

function failForm(ctx, sheet, stop, widgets, cancel) {
  let reason = '';
  const form = h('section.form.fail-form', { 'data-testid': 'fail-form' });
  const base = new Date((sheet.date || ctx.model.view().date) + 'T12:00:00Z');
  const iso = (k) => new Date(base.getTime() + k * 86400000).toISOString().slice(0, 10);
  const date = h('input#wished', { type: 'date', min: iso(1), max: iso(90), value: iso(1), 'data-testid': 'wished-date' });
  const dateRow = h('label.field', { for: 'wished', hidden: true }, t('wished_date'), date);
  const comment = h('textarea#comment', { rows: 2, 'data-testid': 'comment' });
  const photo = photoInput();
  widgets.push(photo);
  const submit = h('button.big.danger', { type: 'button', disabled: true, 'data-testid': 'confirm-fail', on: { click: () => perform(confirmFail, submit) } }, t('fail_button'));
  const reasons = FAIL_REASONS.map((r) => h('label.reason', { 'data-testid': 'reason-' + r },
    h('input', { type: 'radio', name: 'reason', value: r, on: { change: () => { reason = r; dateRow.hidden = r !== 'reschedule'; submit.disabled = false; } } }),
    h('span', t('reason_' + r))));
  const confirmFail = async () => {
    if (!reason) return;
    const event = { action: 'fail', order_id: stop.order_id, reason };
    if (reason === 'reschedule') {
      if (!date.value || date.value < date.min || date.value > date.max) {
        toast(t('wished_date_bad'), 'error');
        return;
      }
      event.wished_date = date.value;
    }
    if (comment.value.trim()) event.comment = comment.value.trim();
    submit.disabled = true;
    const proofs = photo.blob() ? [{ id: uuid(), kind: 'photo', blob: photo.blob() }] : [];
    await ctx.model.act(event, proofs);
    toast(t('failed_saved'), 'ok', 2500);
    ctx.go('#/');
  };
  fill(form,
    h('h2', t('not_delivered')),
    h('div.reasons', { role: 'radiogroup' }, reasons),
    dateRow,
    h('label.field', { for: 'comment' }, t('comment'), comment),
    photo.el,
    h('div.form-buttons', h('button.big', { type: 'button', 'data-testid': 'cancel', on: { click: cancel } }, t('cancel')), submit));
  return form;
}
