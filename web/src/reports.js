// The reports screen: workload per courier and day, deliveries with the fee
// of each and the courier's pay, and the on-time rate; a date range and one
// courier or all; tables with totals, CSV download, and charts drawn with
// uPlot (loaded only on this screen).
import { h, fill, toast } from './dom.js';
import { t, errorText, word, statusName, feeRuleText } from './i18n.js';
import { icon } from './icons.js';
import { routePalette } from './colors.js';

const kinds = [
  { key: 'workload', label: 'report_workload', path: '/api/v1/reports/workload' },
  { key: 'deliveries', label: 'report_deliveries', path: '/api/v1/reports/deliveries' },
  { key: 'on-time', label: 'report_ontime', path: '/api/v1/reports/on-time' },
];
const MAX_LINES = 300;

let uplotLoading = null;
/** uPlot's module and stylesheet, served from node_modules like Leaflet. */
function loadUPlot() {
  if (!uplotLoading) {
    if (!document.querySelector('link[data-uplot]')) {
      document.head.append(h('link', { rel: 'stylesheet', href: 'vendor/uplot/uPlot.min.css', 'data-uplot': 'true' }));
    }
    uplotLoading = import('../vendor/uplot/uPlot.esm.js').then((m) => m.default);
  }
  return uplotLoading;
}

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const last = [cfg.date, fmt.isoDate()].filter(Boolean).sort().pop();
  const first = fmt.isoDate(new Date(Date.parse(last + 'T12:00:00Z') - 13 * 86400000));
  const couriers = (await api.get('/api/v1/couriers')).items || [];
  const state = { kind: 'workload', data: null };
  const from = h('input', { type: 'date', value: first, 'data-testid': 'report-from', 'aria-label': t('from') });
  const to = h('input', { type: 'date', value: last, 'data-testid': 'report-to', 'aria-label': t('to') });
  const who = h('select', { 'data-testid': 'report-courier', 'aria-label': t('courier') },
    h('option', { value: '' }, t('all_couriers')), couriers.map((c) => h('option', { value: c.id }, c.name)));
  const tabs = h('div.tabs', { role: 'tablist' }, kinds.map((k) => h('button', {
    type: 'button', role: 'tab', 'data-testid': 'report-tab-' + k.key, 'aria-selected': String(k.key === state.kind),
    on: { click: () => { state.kind = k.key; for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.testid === 'report-tab-' + k.key)); load(); } },
  }, t(k.label))));
  const csvBtn = h('button', { type: 'button', 'data-testid': 'report-csv', on: { click: () => downloadCSV() } }, icon('download', 14), ' ', t('download_csv'));
  const charts = h('div.charts', { 'data-testid': 'report-charts' });
  const tables = h('div.report-tables', { 'data-testid': 'report-tables' });
  const status = h('p.muted', { 'data-testid': 'report-status' });
  fill(root, h('div.page.reports',
    tabs,
    h('form.filters', { on: { submit: (e) => { e.preventDefault(); load(); } } },
      h('label.inline', t('from'), ' ', from), h('label.inline', t('to'), ' ', to), who,
      h('button.primary', { type: 'submit', 'data-testid': 'report-show' }, t('show')), csvBtn),
    status, charts, tables));

  const plots = [];
  const resize = new ResizeObserver(() => { for (const p of plots) p.setSize({ width: chartWidth(p.root.parentElement), height: 220 }); });
  resize.observe(charts);
  function chartWidth(el) {
    return Math.max(260, Math.min((el?.clientWidth || charts.clientWidth || 600) - 4, 900));
  }

  function query(format) {
    const p = new URLSearchParams({ from: from.value, to: to.value });
    if (who.value) p.set('courier_id', who.value);
    if (format) p.set('format', format);
    return p;
  }

  let seq = 0;
  async function load() {
    const my = ++seq;
    const kind = kinds.find((k) => k.key === state.kind);
    fill(status, t('loading'));
    try {
      const data = await api.get(`${kind.path}?${query()}`);
      if (my !== seq) return;
      state.data = data;
      fill(status);
      await render(kind.key, data);
    } catch (err) {
      if (my !== seq) return;
      for (const p of plots.splice(0)) p.destroy();
      fill(charts);
      fill(tables);
      fill(status, h('span.error', { role: 'alert' }, err.status === 404 || err.status === 503 ? t('report_unavailable') : errorText(err)));
    }
  }

  async function downloadCSV() {
    const kind = kinds.find((k) => k.key === state.kind);
    try {
      const blob = await api.blob(`${kind.path}?${query('csv')}`);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${kind.key}-${from.value}-${to.value}.csv`, 'data-testid': 'csv-link' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  // --- rendering ------------------------------------------------------------
  const money = (m, cur) => fmt.money(m, cur);
  const num = (v) => (v == null ? '—' : fmt.number(Number(v)));
  const pct = (r) => (r == null ? '—' : `${fmt.number(Math.round(r * 1000) / 10)} %`);
  const hours = (min) => fmt.number(Math.round((min / 60) * 10) / 10);
  /** The currency as the locale writes it (₽ for RUB in Russian), not its ISO code. */
  const currencySign = (cur) => {
    try {
      return new Intl.NumberFormat(fmt.locale, { style: 'currency', currency: cur }).formatToParts(0).find((p) => p.type === 'currency')?.value || cur;
    } catch {
      return cur || '';
    }
  };
  const courierName = (id, name) => name || couriers.find((c) => c.id === id)?.name || `#${id}`;

  function table(testid, head, rows, foot) {
    return h('div.table-wrap', h('table.grid', { 'data-testid': testid },
      h('thead', h('tr', head.map(([label, cls]) => h('th', { class: cls || '' }, label)))),
      h('tbody', rows.length ? rows : h('tr', h('td', { colspan: head.length }, h('span.muted', t('no_rows'))))),
      foot?.length ? h('tfoot', foot) : null));
  }

  function section(title, ...body) {
    return h('section.report-section', h('h3', title), ...body);
  }

  async function chart(title, testid, opts, data) {
    const holder = h('figure.chart', { 'data-testid': testid }, h('figcaption', title));
    charts.append(holder);
    if (!data[0].length) {
      holder.append(h('p.muted', t('no_rows')));
      return;
    }
    const uPlot = await loadUPlot();
    const o = opts(uPlot);
    // The x range drawn, for the browser tests (categories: one unit each).
    const noteX = (u, key) => {
      if (key !== 'x') return;
      holder.dataset.xMin = String(u.scales.x.min);
      holder.dataset.xMax = String(u.scales.x.max);
    };
    o.hooks = { ...(o.hooks || {}), setScale: [...(o.hooks?.setScale || []), noteX] };
    const plot = new uPlot({ width: chartWidth(charts), height: 220, ...o }, data, holder);
    plots.push(plot);
    holder.dataset.points = String(data[0].length);
  }

  /**
   * The x axis of categories (couriers, days): one tick per category,
   * labelled with its name, every k-th when they would crowd; the legend's
   * x entry named in the page's language (uPlot's own is "Value"/"Time").
   */
  function categories(names, xLabel) {
    const every = () => Math.max(1, Math.ceil(names.length / Math.max(1, Math.floor(chartWidth(charts) / 70))));
    return {
      scale: { time: false, range: [-0.6, Math.max(0, names.length - 1) + 0.6] },
      axis: { values: (u, splits) => splits.map((i) => (Number.isInteger(i) && names[i] != null ? names[i] : '')), splits: () => names.map((_, i) => i).filter((i) => i % every() === 0), gap: 4, size: 40 },
      series: { label: xLabel, value: (u, i) => (i == null || names[i] == null ? '—' : names[i]) },
    };
  }

  /** Grouped bars of two series over categories (couriers). */
  function bars(names, labels, colors) {
    const x = categories(names, t('chart_x_courier'));
    return (uPlot) => ({
      scales: { x: x.scale },
      axes: [x.axis, { size: 60 }],
      series: [x.series, ...labels.map((label, i) => ({
        label, fill: colors[i], stroke: colors[i], width: 0, value: (u, v) => (v == null ? '—' : fmt.number(v)),
        paths: uPlot.paths.bars({ size: [0.36, 60], align: i === 0 ? -1 : 1 }), points: { show: false },
      }))],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    });
  }

  async function render(kind, d) {
    for (const p of plots.splice(0)) p.destroy();
    fill(charts);
    fill(tables);
    const palette = routePalette();
    if (kind === 'workload') {
      // The chart: stops delivered and failed per courier over the range.
      const by = new Map();
      for (const r of d.rows) {
        const k = r.courier_id;
        const x = by.get(k) || { name: courierName(r.courier_id, r.courier_name), delivered: 0, failed: 0 };
        x.delivered += r.delivered;
        x.failed += r.failed;
        by.set(k, x);
      }
      const list = [...by.values()];
      await chart(t('chart_stops'), 'chart-workload', bars(list.map((x) => x.name.split(' ')[0]), [t('col_delivered'), t('col_failed')], ['#43a047', '#e53935']),
        [list.map((_, i) => i), list.map((x) => x.delivered), list.map((x) => x.failed)]);
      const head = [[t('col_date')], [t('col_courier')], [t('col_planned'), 'num'], [t('col_delivered'), 'num'], [t('col_failed'), 'num'],
        [t('col_planned_km'), 'num'], [t('col_driven_km'), 'num'], [t('col_hours'), 'num'], [t('col_shift_hours'), 'num'], [t('col_weight'), 'num'],
        [t('col_cash_collected'), 'num'], [t('col_cash_handed'), 'num']];
      const cells = (r, first, second, tag = 'td') => [h(tag, first), h(tag, second), h(tag + '.num', String(r.stops_planned)), h(tag + '.num', String(r.delivered)),
        h(tag + '.num', String(r.failed)), h(tag + '.num', num(r.planned_km)), h(tag + '.num', num(r.driven_km)), h(tag + '.num', hours(r.shift_minutes)),
        h(tag + '.num', hours(r.scheduled_minutes)), h(tag + '.num', num(r.carried_kg)), h(tag + '.num', money(r.cash_collected, r.currency)),
        h(tag + '.num', money(r.cash_handed_in, r.currency))];
      tables.append(section(t('report_workload'), table('workload-table', head,
        d.rows.map((r) => h('tr', cells(r, fmt.date(r.date + 'T12:00:00Z'), courierName(r.courier_id, r.courier_name)))),
        d.totals.map((r) => h('tr', cells(r, t('total'), currencySign(r.currency), 'th'))))));
    } else if (kind === 'deliveries') {
      const cs = d.couriers || [];
      await chart(t('chart_pay'), 'chart-deliveries', bars(cs.map((c) => courierName(c.courier_id, c.courier_name).split(' ')[0]), [t('col_fee'), t('col_pay')], [palette[0], palette[2]]),
        [cs.map((_, i) => i), cs.map((c) => c.fees / 100), cs.map((c) => c.pay.total / 100)]);
      const headC = [[t('col_courier')], [t('col_delivered'), 'num'], [t('col_failed'), 'num'], [t('col_fee'), 'num'], [t('col_cash_collected'), 'num'],
        [t('col_card'), 'num'], [t('col_driven_km'), 'num'], [t('col_pay'), 'num']];
      const cellsC = (c, name, tag = 'td') => [h(tag, name), h(tag + '.num', String(c.delivered)), h(tag + '.num', String(c.failed)), h(tag + '.num', money(c.fees, c.currency)),
        h(tag + '.num', money(c.cash_collected, c.currency)), h(tag + '.num', money(c.card_collected, c.currency)), h(tag + '.num', num(c.distance_km)),
        h(tag + '.num', h('b', money(c.pay.total, c.currency)))];
      tables.append(section(t('col_pay'), table('deliveries-couriers', headC,
        cs.map((c) => h('tr', cellsC(c, courierName(c.courier_id, c.courier_name)))),
        (d.totals || []).map((c) => h('tr', cellsC(c, `${t('total')}, ${currencySign(c.currency)}`, 'th'))))));
      const lines = (d.lines || []).filter((l) => l.kind === 'stop');
      const headL = [[t('col_date')], [t('col_courier')], [t('col_order')], [t('col_status')], [t('col_fee'), 'num'], [t('col_rule')],
        [t('col_paid'), 'num'], [t('col_method')], [t('col_pay'), 'num']];
      tables.append(section(`${t('report_deliveries')} (${lines.length})`, table('deliveries-lines', headL,
        lines.slice(0, MAX_LINES).map((l) => h('tr', { 'data-order-id': l.order_id },
          h('td', fmt.date(l.date + 'T12:00:00Z')), h('td', courierName(l.courier_id, l.courier_name)), h('td', l.external_id || '#' + l.order_id),
          h('td', outcome(l)), h('td.num', money(l.fee, l.currency)), h('td', { 'data-testid': 'fee-rule-' + l.order_id }, feeRuleText(l, (m) => money(m, l.currency)) || '—'),
          h('td.num', l.collected ? money(l.collected, l.currency) : '—'), h('td', l.collected_by ? word('pay_', l.collected_by) : word('pay_', l.paid_by)),
          h('td.num', money(l.pay.total, l.currency)))))),
      ...(lines.length > MAX_LINES ? [h('p.muted', `${MAX_LINES} / ${lines.length} · ${t('download_csv')}`)] : []));
    } else {
      const days = d.days || [];
      // Days as categories: one tick per day in the company's date format (a
      // time scale would stretch one day over years, in English month names).
      const dayFmt = new Intl.DateTimeFormat(fmt.locale, { day: '2-digit', month: '2-digit', timeZone: 'UTC' });
      const x = categories(days.map((r) => dayFmt.format(new Date(r.key + 'T12:00:00Z'))), t('chart_x_day'));
      await chart(t('chart_ontime'), 'chart-ontime', () => ({
        scales: { x: x.scale, y: { range: [0, 100] } },
        axes: [x.axis, { values: (u, v) => v.map((p) => p + '\u00a0%'), size: 64 }],
        series: [x.series, { label: t('col_rate'), stroke: palette[0], width: 2, points: { size: 6 }, value: (u, v) => (v == null ? '—' : fmt.number(v) + '\u00a0%') },
          { label: t('col_first_attempt'), stroke: palette[3], width: 2, dash: [6, 4], points: { size: 5 }, value: (u, v) => (v == null ? '—' : fmt.number(v) + '\u00a0%') }],
        cursor: { drag: { x: false, y: false } },
      }), [days.map((_, i) => i), days.map((r) => Math.round(r.on_time_rate * 1000) / 10), days.map((r) => Math.round(r.first_attempt_rate * 1000) / 10)]);
      const head = [[''], [t('col_delivered'), 'num'], [t('col_on_time'), 'num'], [t('col_early'), 'num'], [t('col_late'), 'num'], [t('col_late_by'), 'num'],
        [t('col_rate'), 'num'], [t('col_first_attempt'), 'num'], [t('col_failed'), 'num'], [t('col_reasons')]];
      const cells = (r, name, tag = 'td') => [h(tag, name), h(tag + '.num', String(r.delivered)), h(tag + '.num', String(r.on_time)), h(tag + '.num', String(r.early)),
        h(tag + '.num', String(r.late)), h(tag + '.num', r.late ? `${Math.round(r.late_minutes / r.late)} / ${r.max_late_minutes}` : '—'),
        h(tag + '.num', pct(r.on_time_rate)), h(tag + '.num', pct(r.first_attempt_rate)), h(tag + '.num', String(r.failed)),
        h(tag, Object.entries(r.reasons || {}).map(([k, n]) => `${word('fail_', k)}: ${n}`).join(', '))];
      const group = (title, rows, label, testid) => section(title, table(testid, head, rows.map((r) => h('tr', cells(r, label(r)))),
        d.total ? [h('tr', cells(d.total, t('total'), 'th'))] : []));
      tables.append(
        group(t('col_courier'), d.couriers || [], (r) => r.name || courierName(Number(r.key)), 'ontime-couriers'),
        group(t('col_zone'), d.zones || [], (r) => r.name || (r.key === '0' ? t('none') : '#' + r.key), 'ontime-zones'),
        group(t('col_date'), days, (r) => fmt.date(r.key + 'T12:00:00Z'), 'ontime-days'));
    }
    root.dataset.report = kind;
  }

  function outcome(l) {
    if (l.outcome === 'delivered' || l.outcome === 'partial') return statusName('delivered');
    if (l.fail_reason) return word('fail_', l.fail_reason);
    if (l.outcome === 'handed_back') return word('fail_', 'handed_back');
    if (l.outcome === 'refused') return statusName('refused');
    return l.outcome ? statusName('failed_attempt') : '—';
  }

  await load();
  root.dataset.ready = 'true';
  return () => {
    resize.disconnect();
    for (const p of plots.splice(0)) p.destroy();
  };
}
