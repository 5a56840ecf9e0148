// The app's header (company, network and outbox state, menu) and the
// banners under it: the actions waiting to send, each conflict the server
// reported in plain words, and a missing location permission.
import { h, dialog } from '../dom.js';
import { t, tn, statusName } from '../i18n.js';

/** The small state at the right of the header: online, offline, sending. */
export function netStatus(ctx) {
  const m = ctx.model;
  const n = m.waiting();
  let state = m.online ? 'online' : 'offline';
  if (m.sending && n) state = 'sending';
  return h('span.net', { class: 'net-' + state, 'data-testid': 'net', 'data-state': state, 'data-waiting': String(n) },
    h('span.dot'), t('net_' + state));
}

export function header(ctx) {
  const menu = h('div.menu', { hidden: true },
    h('button', { type: 'button', 'data-testid': 'menu-refresh', on: { click: () => { menu.hidden = true; ctx.model.kick({ refresh: true }); } } }, t('refresh')),
    h('button', { type: 'button', 'data-testid': 'logout', on: { click: () => { menu.hidden = true; logout(ctx); } } }, t('logout')));
  return h('header.top',
    h('a.brand', { href: '#/' }, ctx.cfg.company || t('app_name')),
    netStatus(ctx),
    h('button.menu-button', { type: 'button', 'aria-label': t('menu'), 'data-testid': 'menu', on: { click: () => { menu.hidden = !menu.hidden; } } }, '☰'),
    menu);
}

async function logout(ctx) {
  const n = ctx.model.waiting();
  if (n > 0) {
    const v = await dialog(t('logout'), h('p', tn('logout_waiting', n)), [
      { label: t('cancel'), value: null, testid: 'logout-cancel' },
      { label: t('logout_discard'), value: 'discard', kind: 'danger', testid: 'logout-discard' }]);
    if (v !== 'discard') return;
    await ctx.model.forget();
  }
  ctx.api.logout();
}

export function banners(ctx) {
  const m = ctx.model;
  const out = [];
  const n = m.waiting();
  if (n > 0) {
    let line = tn('waiting', n);
    if (!m.online) line += ' · ' + t('offline_hint');
    else if (m.sending) line += ' · ' + t('sending');
    else if (m.retryAt) line += ' · ' + t('retry_at', { time: ctx.fmt.time(new Date(m.retryAt)) });
    out.push(h('div.banner.banner-wait', { 'data-testid': 'waiting', 'data-count': String(n), role: 'status' },
      h('span', line),
      m.sending ? null : h('button.small', { type: 'button', 'data-testid': 'retry', on: { click: () => m.kick() } }, t('send_now'))));
  } else if (!m.online) {
    out.push(h('div.banner.banner-wait', { role: 'status', 'data-testid': 'offline' }, t('offline_all_saved')));
  }
  if (m.lastError && m.online && n > 0) out.push(h('div.banner.banner-warn', t('server_trouble', { error: m.lastError })));
  const loc = ctx.tracker?.problem;
  if (loc) out.push(h('div.banner.banner-warn', { 'data-testid': 'location-problem', 'data-problem': loc, role: 'alert' }, t('location_' + loc)));
  for (const p of m.problems) {
    out.push(h('div.banner.banner-problem', { 'data-testid': 'problem', 'data-order': String(p.order_id || ''), role: 'alert' },
      h('div.problem-text', h('strong', problemTitle(p)), h('div', problemReason(p, ctx)), p.message ? h('small.muted', p.message) : null),
      h('button.small', { type: 'button', 'aria-label': t('dismiss'), 'data-testid': 'dismiss', on: { click: () => m.dismiss(p.id) } }, '✕')));
  }
  return out;
}

/** "Stop 3 · Иван Петров: the delivery was not accepted". */
export function problemTitle(p) {
  const what = t('what_' + p.action);
  return p.label ? t('problem_at_stop', { stop: p.label, what }) : t('problem_plain', { what });
}

/** Why, in the courier's words. */
export function problemReason(p, ctx) {
  const d = p.details || {};
  if (p.action === 'proof') return t('why_proof');
  if (p.code === 'not_found') return t('why_not_yours');
  if (d.field === 'scanned_barcodes') {
    return t('why_scans', { missing: (d.missing || []).join(', ') || '—', unexpected: (d.unexpected || []).join(', ') || '—' });
  }
  if (d.field === 'at') return t('why_time');
  if (typeof d.field === 'string' && d.field.startsWith('collected')) return t('why_money');
  if (d.field === 'wished_date') return t('why_date');
  if (d.open_stops) return tn('why_open_stops', d.open_stops.length);
  if (p.code === 'conflict' && p.stop?.status && p.stop.status !== 'out_for_delivery') return t('why_finished', { status: statusName(p.stop.status) });
  if (p.code === 'conflict' && p.action === 'shift_start') return t('why_shift_open');
  if (p.code === 'conflict' && /has not started/.test(p.message)) return t('why_not_started');
  if (p.code === 'conflict' && p.action === 'shift_end') return t('why_no_shift');
  if (d.field) return t('why_field', { field: d.field });
  void ctx;
  return t('why_call');
}
