// The cashier's screen, made for a barcode scanner and the keyboard alone:
// the scanner input keeps focus (a scanner types the code and Enter); the
// sheet's expected cash per order; the counted amount with the shortage or
// surplus shown before confirming; courier balances; the shift and its
// closing report.
//
//   scan + Enter -> counted amount; Enter -> (note when it differs; Enter) ->
//   Confirm; Enter settles and returns to the scanner. Esc: back to the scanner.
import { h, fill, toast, dialog } from './dom.js';
import { t, tn, errorText, word } from './i18n.js';
import { ApiError, newKey } from './api.js';
import { icon } from './icons.js';

export async function mount(root, ctx) {
  const { api, fmt } = ctx;
  const shiftKey = `courier.console.shift.${api.session.user_id}`;
  const st = { view: null, key: null, shift: null, depot: null };

  const scan = h('input#scan', { autocomplete: 'off', spellcheck: false, 'data-testid': 'scan', 'aria-describedby': 'scan-hint', placeholder: '000000000' });
  const sheetBox = h('div.sheet-view', { 'data-testid': 'cash-sheet' }, h('p.muted', t('scan_hint')));
  const shiftBox = h('div', { 'data-testid': 'shift' });
  const balancesBox = h('div', { 'data-testid': 'balances' });
  const reportBox = h('div', { 'data-testid': 'shift-report' });
  fill(root, h('div.desk',
    h('div.main-col',
      h('form.scan-box', { on: { submit: (e) => { e.preventDefault(); doScan(); } } },
        h('label', { for: 'scan' }, t('scan')), scan,
        h('div#scan-hint.hint', `${t('scan_hint')} · ${t('keyboard_hint')}`)),
      sheetBox),
    h('div.side-col',
      h('section.panel', h('h2', t('shift')), shiftBox, reportBox),
      h('section.panel', h('h2', t('balances')), balancesBox))));

  // --- focus: the scanner input keeps it --------------------------------------
  const busyInputs = () => document.activeElement && document.activeElement !== document.body && document.activeElement.closest?.('.desk, .dialog');
  function focusScan() {
    scan.focus();
    scan.select();
  }
  const onFocusOut = () => setTimeout(() => {
    if (!root.isConnected) return;
    if (!busyInputs() && !document.querySelector('.overlay')) focusScan();
  }, 0);
  const onKey = (e) => {
    if (e.key === 'Escape' && !document.querySelector('.overlay')) {
      e.preventDefault();
      focusScan();
      return;
    }
    // Typing with nothing focused (the scanner after a click elsewhere) goes to the scanner.
    if ((document.activeElement === document.body || !document.activeElement) && e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      scan.value = '';
      scan.focus();
    }
  };
  document.addEventListener('focusout', onFocusOut);
  document.addEventListener('keydown', onKey);

  // --- scan ------------------------------------------------------------------
  async function doScan(code = scan.value.trim()) {
    if (!code) return;
    try {
      const v = await api.get(`/api/v1/cashdesk/sheets/${encodeURIComponent(code)}`);
      st.view = v;
      st.key = newKey(); // one Idempotency-Key per confirmation
      renderSheet();
      loadCourierBalance(v.sheet.courier_id);
    } catch (err) {
      fill(sheetBox, h('p.error', { role: 'alert', 'data-testid': 'scan-error' }, errorText(err)));
      focusScan();
    }
  }

  function renderSheet(result) {
    const v = st.view;
    const cur = v.currency;
    const money = (m) => fmt.money(m, cur);
    const expected = v.totals.outstanding;
    const counted = h('input', { inputmode: 'decimal', autocomplete: 'off', 'data-testid': 'counted', 'aria-label': t('counted'), value: expected > 0 ? '' : '' });
    const diffEl = h('div.figure', { 'data-testid': 'difference', 'aria-live': 'polite' }, '—');
    const diffLabel = h('div.muted', t('difference'));
    const note = h('input', { autocomplete: 'off', 'data-testid': 'note', 'aria-label': t('note') });
    const confirm = h('button.primary', { type: 'button', 'data-testid': 'confirm', disabled: true }, t('confirm'), h('kbd', '↵'));
    const update = () => {
      const c = fmt.parseMoney(counted.value);
      if (c == null || c < 0) {
        diffEl.textContent = '—';
        diffEl.className = 'figure';
        diffLabel.textContent = t('difference');
        confirm.disabled = true;
        return null;
      }
      const d = c - expected;
      diffEl.textContent = fmt.signedMoney(d);
      diffEl.className = 'figure ' + (d < 0 ? 'short' : d > 0 ? 'surplus' : 'exact');
      diffLabel.textContent = d < 0 ? t('shortage') : d > 0 ? t('surplus') : t('exact');
      confirm.disabled = expected <= 0;
      return c;
    };
    counted.addEventListener('input', update);
    counted.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const c = update();
      if (c == null) return;
      if (c !== expected) note.focus();
      else confirm.focus();
    });
    note.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); if (!confirm.disabled) confirm.focus(); } });
    confirm.addEventListener('click', async () => {
      const c = update();
      if (c == null) return;
      confirm.disabled = true;
      try {
        const res = await api.post('/api/v1/cashdesk/settlements', { barcode: v.sheet.number, counted: { amount: c, currency: cur }, note: note.value.trim() }, { key: st.key });
        const d = res.discrepancy?.amount ?? (c - expected);
        toast(`${t('settled')}: ${money(res.counted.amount)}${d ? ' · ' + (d < 0 ? t('short_recorded', { amount: money(-d) }) : t('surplus_recorded', { amount: money(d) })) : ''}`, d ? 'error' : 'ok');
        st.key = null;
        const again = await api.get(`/api/v1/cashdesk/sheets/${encodeURIComponent(v.sheet.number)}`);
        st.view = again;
        st.key = newKey();
        renderSheet(res);
        await Promise.all([loadCourierBalance(v.sheet.courier_id), loadBalances(), refreshShift()]);
        scan.value = '';
        focusScan();
      } catch (err) {
        toast(errorText(err), 'error');
        // A network failure keeps the key: confirming again is the same settlement.
        if (err instanceof ApiError) st.key = newKey();
        confirm.disabled = false;
        confirm.focus();
      }
    });

    // Due at the door: for orders delivered or still to deliver (not for failed or returned ones).
    const dueShown = (o) => (['pending', 'to_settle', 'settled'].includes(o.state) ? o.expected_cash : 0);
    const rows = v.orders.map((o) => h('tr', { class: 'state-' + o.state, 'data-order-id': o.order_id },
      h('td', h('b', o.external_id || '#' + o.order_id)),
      h('td', o.customer_name), h('td.addr', o.address),
      h('td', t('state_' + o.state)),
      h('td.num', dueShown(o) ? money(dueShown(o)) : '—'),
      h('td.num', o.reported_collected ? money(o.reported_collected) : '—',
        o.short_at_door ? h('div.bad.small', t('short_door_line', { amount: money(o.short_at_door) })) : null),
      h('td.num', o.card ? money(o.card) : '—'),
      h('td.num', o.settled ? money(o.settled) : '—'),
      h('td.num', { class: o.outstanding ? 'bad' : '' }, o.outstanding ? money(o.outstanding) : '—')));
    const tot = v.totals;
    // The footer sums the columns above it, so every line adds up.
    const sum = (k) => v.orders.reduce((a, o) => a + (o[k] || 0), 0);
    const sheetDone = expected <= 0;
    fill(sheetBox,
      h('div.sheet-title',
        h('h2', `${t('sheet')} ${v.sheet.number} · ${v.sheet.courier_name}`),
        h('div.muted', `${fmt.date(v.sheet.date + 'T12:00:00Z')} · ${t('status_' + v.sheet.status)}`)),
      h('div.settle-box',
        h('div', h('div.muted', t('to_hand_in')), h('div.figure', { 'data-testid': 'expected' }, money(expected)),
          h('div.small', { 'data-testid': 'reported' }, `${t('reported')}: ${money(tot.expected)}`),
          tot.short_at_door ? h('div.bad.small', { 'data-testid': 'short-at-door' }, t('short_door_line', { amount: money(tot.short_at_door) })) : null,
          // What was taken in on the sheet: the orders closed, the cash counted and the difference,
          // so "closed 86 400" never stands alone over a desk that counted 86 300.
          tot.settled ? h('div.small.muted', { 'data-testid': 'settled-line' }, tot.counted || tot.discrepancy
            ? t('settled_line', { settled: money(tot.settled), counted: money(tot.counted), diff: fmt.signedMoney(tot.discrepancy) })
            : `${t('state_settled')}: ${money(tot.settled)}`) : null),
        h('label', h('div.muted', t('counted')), counted),
        h('div', diffLabel, diffEl),
        h('div', h('label', h('div.muted', t('note')), note), h('div.confirm-row', confirm))),
      h('p.sheet-msg', { 'data-testid': 'nothing-to-settle', hidden: !sheetDone, class: 'ok' }, tot.settled > 0 ? t('sheet_settled') : t('nothing_to_settle')),
      result ? h('p', { 'data-testid': 'settle-result' }, `${t('counted')}: ${money(result.counted.amount)} · ${t('to_hand_in')}: ${money(result.expected.amount)} · ${t('difference')}: ${fmt.signedMoney(result.discrepancy.amount)}`) : null,
      h('div.balance-slot'),
      h('div.table-wrap.cash-table', h('table.grid', { 'data-testid': 'cash-orders' },
        h('thead', h('tr', [t('order'), t('customer'), t('address'), t('status')].map((c) => h('th', c)),
          [t('expected'), t('reported'), t('col_card'), t('state_settled'), t('outstanding')].map((c) => h('th.num', c)))),
        h('tbody', rows),
        h('tfoot', h('tr', h('th', { colspan: 4 }, t('total')), h('th.num', { 'data-testid': 'sum-due' }, money(v.orders.reduce((a, o) => a + dueShown(o), 0))),
          h('th.num', { 'data-testid': 'sum-reported' }, money(sum('reported_collected'))), h('th.num', { 'data-testid': 'sum-card' }, money(sum('card'))),
          h('th.num', money(sum('settled'))), h('th.num', { 'data-testid': 'outstanding' }, money(tot.outstanding)))))));
    if (expected > 0) counted.focus();
    else focusScan();
  }

  // --- balances -----------------------------------------------------------------
  async function loadCourierBalance(courierId) {
    try {
      const b = await api.get(`/api/v1/cashdesk/couriers/${courierId}/balance?limit=1`);
      const money = (m) => fmt.money(m, b.currency);
      // One line that says what the balance says: the debt left (and how
      // much of it is shortages), or that nothing is owed.
      const line = h('p.courier-balance', { 'data-testid': 'courier-balance', 'data-owed': String(b.owed), class: b.owed > 0 ? 'bad' : 'ok' },
        b.owed > 0 ? t('debt_of', { name: b.courier_name, amount: money(b.owed) }) : t('debt_none', { name: b.courier_name }),
        b.owed > 0 && b.discrepancy ? ` (${t('of_it_discrepancy', { amount: money(Math.abs(b.discrepancy)) })})` : '',
        b.goods ? ` · ${tn('goods_n', b.goods)}` : '');
      const slot = sheetBox.querySelector('.balance-slot');
      if (slot) fill(slot, line);
    } catch (err) {
      console.warn(err);
    }
  }

  async function loadBalances() {
    try {
      const res = await api.get('/api/v1/cashdesk/debtors' + (st.depot ? `?depot_id=${st.depot.id}` : ''));
      const items = res.items || [];
      fill(balancesBox, items.length === 0 ? h('p.ok', t('balance_zero')) : h('table.grid', h('tbody', items.map((d) => h('tr', { 'data-courier-id': d.courier_id },
        h('td', d.name), h('td.num', { class: d.owed > 0 ? 'bad' : '' }, fmt.money(d.owed, res.currency)), h('td.num', d.goods ? tn('goods_n', d.goods) : ''))))));
    } catch (err) {
      fill(balancesBox, h('p.error', errorText(err)));
    }
  }

  // --- shift -------------------------------------------------------------------------
  async function refreshShift() {
    // The server knows the cashier's open shift; the browser only remembers it.
    st.shift = null;
    try {
      st.shift = await api.get('/api/v1/cashdesk/shifts/current');
      localStorage.setItem(shiftKey, String(st.shift.shift.id));
    } catch {
      localStorage.removeItem(shiftKey);
    }
    renderShift();
  }

  function renderShift() {
    const s = st.shift;
    if (!s) {
      fill(shiftBox, h('p.muted', { 'data-testid': 'shift-state', 'data-open': 'false' }, t('no_shift')),
        h('button.primary', { type: 'button', 'data-testid': 'shift-open', on: { click: openShift } }, t('shift_open')));
      return;
    }
    fill(shiftBox,
      h('p', { 'data-testid': 'shift-state', 'data-open': 'true' }, `#${s.shift.id} · ${fmt.dateTime(s.shift.opened_at)}`),
      h('div.kv', `${t('settlements')}: ${s.settlements} · ${t('cash_in')}: `, h('b', fmt.money(s.cash_in, s.currency))),
      h('button', { type: 'button', 'data-testid': 'shift-close', on: { click: closeShift } }, t('shift_close')));
  }

  async function openShift() {
    try {
      const sh = await api.post('/api/v1/cashdesk/shifts', { depot_id: st.depot?.id });
      localStorage.setItem(shiftKey, String(sh.id));
      fill(reportBox);
      toast(t('shift_opened'), 'ok');
    } catch (err) {
      toast(errorText(err), 'error');
    }
    await refreshShift();
    focusScan();
  }

  async function closeShift() {
    const ok = await dialog(t('shift_close') + '?', '', [{ label: t('shift_close'), value: true, kind: 'primary', testid: 'shift-close-confirm' }, { label: t('cancel'), value: false }]);
    if (!ok) return focusScan();
    try {
      const r = await api.post(`/api/v1/cashdesk/shifts/${st.shift.shift.id}/close`);
      localStorage.removeItem(shiftKey);
      renderReport(r);
    } catch (err) {
      toast(errorText(err), 'error');
    }
    await refreshShift();
    focusScan();
  }

  function renderReport(r) {
    const money = (m) => fmt.money(m, r.currency);
    const cash = r.by_method.find((m) => m.method === 'cash') || { orders: 0, expected: 0, amount: 0 };
    const card = r.by_method.find((m) => m.method === 'card') || { orders: 0, expected: 0, amount: 0 };
    const repaid = r.cash_in - cash.amount; // debts repaid at the desk during the shift
    fill(reportBox, h('div.report', { 'data-testid': 'report' },
      h('h3', `${t('shift_report')} #${r.shift.id}`),
      h('div.muted', `${fmt.dateTime(r.shift.opened_at)} – ${fmt.dateTime(r.shift.closed_at)}`),
      h('div', `${t('settlements')}: ${r.settlements}`),
      h('h4', t('by_method')),
      h('ul.report-lines',
        h('li', { 'data-testid': 'report-cash' }, t('method_line', { method: word('pay_', 'cash'), n: cash.orders, amount: money(cash.amount), expected: money(cash.expected) })),
        h('li', { 'data-testid': 'report-card' }, t('method_card_line', { n: card.orders, amount: money(card.amount) })),
        h('li', { 'data-testid': 'report-sum' }, h('b', t('report_total')), ': ', t('report_check', { cash: money(cash.amount), card: money(card.amount), total: money(cash.amount + card.amount) }))),
      h('div', `${t('cash_in')}: `, h('b', { 'data-testid': 'report-cash-in' }, money(r.cash_in)),
        repaid ? h('span.muted', ` (${t('settlements')} ${money(cash.amount)} + ${money(repaid)})`) : null),
      h('div', `${t('discrepancy_total')}: `, h('b', { class: r.discrepancy_total ? 'bad' : '', 'data-testid': 'report-discrepancy' }, fmt.signedMoney(r.discrepancy_total))),
      r.discrepancies.length ? h('ul', { 'data-testid': 'report-discrepancies' }, r.discrepancies.map((d) => h('li', `${d.sheet_number}: `,
        h('span', { class: d.amount < 0 ? 'bad' : '' }, fmt.signedMoney(d.amount)), ` ${d.amount < 0 ? t('shortage') : t('surplus')}`, d.note ? ` · ${d.note}` : ''))) : null,
      r.owing.length ? h('div', h('b', t('owing_after')), h('ul', { 'data-testid': 'report-owing' }, r.owing.map((d) => h('li', t('debt_of', { name: d.name, amount: money(d.owed) }))))) : null,
      h('button.small', { type: 'button', 'data-testid': 'report-print', on: { click: () => window.print() } }, icon('print', 14), ' ', t('print'))));
  }

  const depots = await api.get('/api/v1/depots');
  st.depot = (depots.items || [])[0] || null;
  await Promise.all([refreshShift(), loadBalances()]);
  focusScan();
  root.dataset.ready = 'true';

  return () => {
    document.removeEventListener('focusout', onFocusOut);
    document.removeEventListener('keydown', onKey);
  };
}
