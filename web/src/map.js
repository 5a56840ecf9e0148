// The dispatcher's map: orders coloured by status, zones (draw and edit),
// couriers' live positions, planning with progress, route sheets as coloured
// lines with numbered stops that can be dragged to another route or reordered
// in the list, publishing and printing.
import { h, fill, toast, dialog, esc } from './dom.js';
import { t, statusName, statusColors } from './i18n.js';
import { ApiError } from './api.js';
import { dropTarget, closedRing, sheetLoad, lateStop } from './geometry.js';
import { showOrder } from './order-detail.js';

const L = window.L;

const sheetPalette = ['#d81b60', '#1e88e5', '#43a047', '#f4511e', '#8e24aa', '#00897b', '#fdd835', '#6d4c41', '#3949ab', '#c0ca33', '#00acc1', '#e53935'];
const editable = new Set(['draft', 'published', 'active']);

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const st = {
    date: cfg.date || fmt.isoDate(), depots: [], depot: null, couriers: new Map(), orders: new Map(), zones: [], sheets: [],
    positions: new Map(), violations: new Map(), expanded: new Set(), planId: null, unassigned: [], alive: true,
  };
  const aborts = new Set();
  const timers = [];

  // --- layout -------------------------------------------------------------
  const mapEl = h('div#map', { 'data-testid': 'map' });
  const dateIn = h('input', { type: 'date', value: st.date, 'data-testid': 'date', 'aria-label': t('date') });
  const limitIn = h('input', { type: 'number', min: 1, max: 600, value: 30, 'data-testid': 'time-limit', 'aria-label': t('time_limit'), style: { width: '5em' } });
  const planBtn = h('button.primary', { type: 'button', 'data-testid': 'plan' }, t('plan_day'));
  const publishBtn = h('button', { type: 'button', 'data-testid': 'publish', disabled: true }, t('publish'));
  const bar = h('div.bar');
  const progress = h('div.progress', { role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0, 'data-testid': 'plan-progress', 'data-state': 'idle' }, bar);
  const planStatus = h('div.plan-status', { 'data-testid': 'plan-status' });
  const sheetList = h('div.sheet-list', { 'data-testid': 'sheet-list' });
  const zoneList = h('ul.zone-list', { 'data-testid': 'zone-list' });
  const drawBar = h('div.draw-bar', { hidden: true, 'data-testid': 'draw-bar' });
  const newZoneBtn = h('button', { type: 'button', 'data-testid': 'new-zone' }, t('new_zone'));
  const side = h('aside.side',
    h('section.planning',
      h('h2', t('planning')),
      h('div.row', h('label', t('date'), dateIn), h('label', t('time_limit'), limitIn)),
      h('div.row', planBtn, publishBtn),
      progress, planStatus),
    h('section.sheets', h('h2', t('sheets')), sheetList),
    h('section.zones', h('h2', t('zones')), zoneList, newZoneBtn));
  fill(root, h('div.map-wrap', mapEl, drawBar), side);

  // --- map ----------------------------------------------------------------
  const map = L.map(mapEl, { zoomControl: true, preferCanvas: false }).setView([55.75, 37.62], 11);
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, {
      maxZoom: 19,
      attribution: /openstreetmap/i.test(cfg.tile_url) ? '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors' : '',
    }).addTo(map);
  }
  const layers = {
    zones: L.featureGroup().addTo(map),
    orders: L.featureGroup().addTo(map),
    routes: L.featureGroup().addTo(map),
    stops: L.featureGroup().addTo(map),
    depot: L.featureGroup().addTo(map),
    couriers: L.featureGroup().addTo(map),
    draw: L.featureGroup().addTo(map),
  };
  addLegend();
  let zooming = false;
  map.on('zoomanim', () => { zooming = true; });
  map.on('zoomend', () => { zooming = false; });

  // --- data ---------------------------------------------------------------
  async function loadStatic() {
    const [depots, couriers] = await Promise.all([api.get('/api/v1/depots'), api.get('/api/v1/couriers')]);
    st.depots = depots.items || [];
    st.depot = st.depots[0] || null;
    st.couriers = new Map((couriers.items || []).map((c) => [c.id, c]));
    layers.depot.clearLayers();
    for (const d of st.depots) {
      L.marker([d.location.lat, d.location.lng], {
        icon: L.divIcon({ className: 'depot-icon', html: '<span>⌂</span>', iconSize: [26, 26], iconAnchor: [13, 13] }),
        keyboard: false, title: d.name,
      }).bindTooltip(`${t('depot_marker')}: ${esc(d.name)}`).addTo(layers.depot);
    }
  }

  async function loadZones() {
    const fc = await api.get('/api/v1/zones');
    st.zones = fc.features || [];
    drawZones();
  }

  async function loadOrders() {
    const items = await api.all(`/api/v1/orders?date=${st.date}&limit=500`);
    st.orders = new Map(items.map((o) => [o.id, o]));
    drawOrders();
  }

  async function loadSheets() {
    const res = await api.get(`/api/v1/route-sheets?date=${st.date}`);
    let sheets = res.items || [];
    // Drafts of older plans are superseded by the latest plan's.
    const drafts = sheets.filter((s) => s.status === 'draft' && s.plan_id != null);
    const latest = drafts.reduce((m, s) => Math.max(m, s.plan_id), 0);
    sheets = sheets.filter((s) => s.status !== 'draft' || s.plan_id === latest || s.plan_id == null);
    sheets.sort((a, b) => a.id - b.id);
    st.sheets = sheets;
    st.planId = latest || null;
    // Orders that are on sheets but not in the day's list (another date) are fetched once.
    const missing = [...new Set(sheets.flatMap((s) => s.stops.map((x) => x.order_id)))].filter((id) => !st.orders.has(id));
    await Promise.all(missing.slice(0, 100).map(async (id) => { st.orders.set(id, await api.get(`/api/v1/orders/${id}`)); }));
    drawSheets();
    renderSheets();
  }

  async function reloadAll() {
    await Promise.all([loadOrders(), loadZones()]);
    await loadSheets();
  }

  // --- drawing ------------------------------------------------------------
  function drawZones() {
    layers.zones.clearLayers();
    for (const z of st.zones) {
      if (st.editing?.id === z.id) continue;
      const layer = L.geoJSON(z, {
        style: { color: z.properties.color, weight: 2, fillOpacity: 0.08, className: 'zone zone-' + z.id },
      });
      layer.bindTooltip(esc(z.properties.name), { sticky: true });
      layer.addTo(layers.zones);
    }
    renderZones();
  }

  function drawOrders() {
    layers.orders.clearLayers();
    for (const o of st.orders.values()) {
      const m = L.circleMarker([o.location.lat, o.location.lng], {
        radius: 5, weight: 1, color: '#fff', fillColor: statusColors[o.status] || '#888', fillOpacity: 0.95,
        className: `order-marker order-${o.id} status-${o.status}`,
      });
      m.bindTooltip(`${esc(o.external_id || '#' + o.id)} · ${esc(statusName(o.status))}`);
      m.on('click', () => showOrder(ctx, o.id).catch((e) => toast(e.message, 'error')));
      m.addTo(layers.orders);
    }
    const pts = [...st.orders.values()].map((o) => [o.location.lat, o.location.lng]);
    if (st.depot) pts.push([st.depot.location.lat, st.depot.location.lng]);
    if (!st.fitted && pts.length > 0) {
      map.fitBounds(L.latLngBounds(pts).pad(0.05), { animate: false });
      st.fitted = true;
    }
  }

  function sheetColor(sh) {
    const ids = [...st.couriers.keys()].sort((a, b) => a - b);
    const i = ids.indexOf(sh.courier_id);
    return sheetPalette[(i < 0 ? sh.id : i) % sheetPalette.length];
  }

  function depotOf(sh) {
    return st.depots.find((d) => d.id === sh.depot_id) || st.depot;
  }

  function drawSheets() {
    layers.routes.clearLayers();
    layers.stops.clearLayers();
    st.routeLines = new Map();
    for (const sh of st.sheets) {
      const color = sheetColor(sh);
      const depot = depotOf(sh);
      const pts = sh.stops.map((s) => st.orders.get(s.order_id)).filter(Boolean).map((o) => [o.location.lat, o.location.lng]);
      const line = depot ? [[depot.location.lat, depot.location.lng], ...pts, [depot.location.lat, depot.location.lng]] : pts;
      const pl = L.polyline(line, { color, weight: 4, opacity: sh.status === 'draft' ? 0.65 : 0.85, dashArray: sh.status === 'draft' ? '8 6' : null, className: 'route route-' + sh.id });
      pl.bindTooltip(`${esc(courierName(sh.courier_id))} · ${esc(sh.number)}`, { sticky: true });
      pl.addTo(layers.routes);
      st.routeLines.set(sh.id, pl);
      for (const s of sh.stops) {
        const o = st.orders.get(s.order_id);
        if (!o) continue;
        const canDrag = editable.has(sh.status) && !s.done && !s.locked;
        const late = lateStop(s);
        const marker = L.marker([o.location.lat, o.location.lng], {
          draggable: canDrag, autoPan: true, keyboard: false, riseOnHover: true,
          icon: L.divIcon({
            className: 'stop-icon',
            html: `<span class="stop-num${late ? ' late' : ''}${s.locked ? ' locked' : ''}" style="background:${color}" data-sheet="${sh.id}" data-order="${s.order_id}" data-seq="${s.seq}">${s.seq}</span>`,
            iconSize: [22, 22], iconAnchor: [11, 11],
          }),
        });
        marker.bindTooltip(`${esc(o.external_id)} · ${esc(fmt.time(s.eta))} (${esc(fmt.window(o.time_window))})${late ? ' · ' + esc(t('late')) : ''}`);
        marker.on('click', () => showOrder(ctx, o.id).catch((e) => toast(e.message, 'error')));
        if (canDrag) wireDrag(marker, sh, s);
        marker.addTo(layers.stops);
      }
    }
  }

  // --- drag a stop onto another route ---------------------------------------
  function pixelRoutes(exceptOrder) {
    return st.sheets.filter((sh) => editable.has(sh.status)).map((sh) => {
      const depot = depotOf(sh);
      return {
        id: sh.id,
        depot: depot ? map.latLngToContainerPoint([depot.location.lat, depot.location.lng]) : null,
        stops: sh.stops.filter((s) => s.order_id !== exceptOrder && st.orders.has(s.order_id)).map((s) => {
          const o = st.orders.get(s.order_id);
          const p = map.latLngToContainerPoint([o.location.lat, o.location.lng]);
          return { orderId: s.order_id, x: p.x, y: p.y };
        }),
      };
    });
  }

  function wireDrag(marker, sh, stop) {
    let routes = null;
    let hi = null;
    const highlight = (id) => {
      if (hi === id) return;
      if (hi != null) st.routeLines.get(hi)?.setStyle({ weight: 4 });
      hi = id;
      if (hi != null) st.routeLines.get(hi)?.setStyle({ weight: 9 });
    };
    marker.on('dragstart', () => { routes = pixelRoutes(stop.order_id); });
    marker.on('drag', () => {
      const target = dropTarget(map.latLngToContainerPoint(marker.getLatLng()), routes);
      highlight(target?.routeId ?? null);
    });
    marker.on('dragend', async () => {
      const target = dropTarget(map.latLngToContainerPoint(marker.getLatLng()), routes);
      highlight(null);
      if (!target) {
        toast(t('drop_nowhere'));
        drawSheets();
        return;
      }
      const to = st.sheets.find((s) => s.id === target.routeId);
      await moveStop(sh, stop.order_id, to, target.position);
    });
  }

  /** POSTs a move; a 422 shows the violations and offers to force it. */
  async function moveStop(from, orderId, to, position, force = false) {
    const body = { order_id: orderId, to_sheet_id: to.id, position, version: from.version };
    if (to.id !== from.id) body.to_version = to.version;
    if (force) body.force = true;
    try {
      const res = await api.post(`/api/v1/route-sheets/${from.id}/moves`, body);
      for (const s of res.sheets) {
        const i = st.sheets.findIndex((x) => x.id === s.id);
        if (i >= 0) st.sheets[i] = s;
      }
      for (const s of res.sheets) st.violations.delete(s.id);
      for (const v of res.violations || []) {
        const id = v.sheet_id ?? to.id;
        st.violations.set(id, [...(st.violations.get(id) || []), v]);
      }
      toast(res.violations?.length ? t('moved_forced', { n: res.violations.length }) : t('moved'), res.violations?.length ? 'error' : 'ok');
      // Orders carry their courier and sheet: read them again.
      const moved = await api.get(`/api/v1/orders/${orderId}`);
      st.orders.set(moved.id, moved);
      drawOrders();
      drawSheets();
      renderSheets();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.details.violations)) {
        const list = h('ul.violations', { 'data-testid': 'violations' }, err.details.violations.map((v) => h('li', { class: 'kind-' + v.kind },
          h('b', v.kind), v.order_id ? ` ${st.orders.get(v.order_id)?.external_id || '#' + v.order_id}` : '',
          v.sheet_id ? ` (${courierName(st.sheets.find((x) => x.id === v.sheet_id)?.courier_id)})` : '', ': ', v.message)));
        const choice = await dialog(t('move_refused'), list, [
          { label: t('cancel'), value: false, testid: 'move-cancel' },
          { label: t('force_move'), value: true, kind: 'danger', testid: 'move-force' },
        ]);
        if (choice) return moveStop(from, orderId, to, position, true);
      } else if (err instanceof ApiError && err.status === 409) {
        toast(t('stale_version'), 'error');
        await loadSheets();
        return;
      } else {
        toast(err.message, 'error');
      }
      drawSheets();
    }
  }

  // --- sheet list -----------------------------------------------------------
  function courierName(id) {
    return st.couriers.get(id)?.name || `#${id}`;
  }

  function renderSheets() {
    publishBtn.disabled = !st.sheets.some((s) => s.status === 'draft');
    if (st.sheets.length === 0) {
      fill(sheetList, h('p.muted', t('no_sheets')));
      return;
    }
    fill(sheetList, st.sheets.map((sh) => {
      const color = sheetColor(sh);
      const cr = st.couriers.get(sh.courier_id);
      const orders = sh.stops.map((s) => st.orders.get(s.order_id));
      const load = sheetLoad(orders, cr?.vehicle);
      const lates = sh.stops.filter(lateStop).length;
      const open = st.expanded.has(sh.id);
      const viol = st.violations.get(sh.id) || [];
      const capText = cr?.vehicle?.capacity_kg ? `${fmt.number(load.kg)}/${fmt.number(cr.vehicle.capacity_kg)} kg` : `${fmt.number(load.kg)} kg`;
      const head = h('div.sheet-head',
        h('span.swatch', { style: { background: color } }),
        h('button.link.sheet-toggle', { type: 'button', 'aria-expanded': String(open), 'data-testid': 'sheet-toggle-' + sh.id, on: { click: () => { if (open) st.expanded.delete(sh.id); else st.expanded.add(sh.id); renderSheets(); } } },
          h('b', courierName(sh.courier_id)), ' ', h('span.muted', sh.number)),
        h('span.sheet-status', { class: 'st-' + sh.status }, t('status_' + sh.status)),
        h('button.small', { type: 'button', title: t('print_pdf'), 'data-testid': 'pdf-' + sh.id, on: { click: () => printSheet(sh) } }, t('print_pdf')));
      const facts = h('div.sheet-facts',
        h('span', { 'data-testid': 'stops-count-' + sh.id }, `${sh.stops.length} ${t('stops')}`),
        h('span', fmt.km(sh.distance_m)), h('span', fmt.duration(sh.duration_s)),
        h('span', { class: load.over.length ? 'bad' : '' }, capText),
        sh.stops.length ? h('span', `${fmt.time(sh.start)}–${fmt.time(sh.end)}`) : null,
        load.over.length ? h('span.badge.bad', t('over_capacity')) : null,
        lates ? h('span.badge.bad', `${lates} ${t('late')}`) : null);
      const violations = viol.length ? h('ul.violations', viol.map((v) => h('li', h('b', v.kind), ' ', v.message))) : null;
      const stops = open ? stopList(sh) : null;
      return h('div.sheet', { 'data-sheet-id': sh.id, 'data-testid': 'sheet-' + sh.id, style: { borderLeftColor: color } }, head, facts, violations, stops);
    }));
  }

  function stopList(sh) {
    const can = editable.has(sh.status);
    const others = st.sheets.filter((x) => x.id !== sh.id && editable.has(x.status));
    return h('ol.stops', { 'aria-label': `${t('sheets')} ${sh.number}` }, sh.stops.map((s, i) => {
      const o = st.orders.get(s.order_id);
      const late = lateStop(s);
      const fixed = !can || s.done || s.locked;
      const move = (pos) => moveStop(sh, s.order_id, sh, pos);
      const sel = others.length && !fixed ? h('select.small', {
        'aria-label': t('move_to'), 'data-testid': `move-to-${s.order_id}`,
        on: { change: (e) => { const to = st.sheets.find((x) => x.id === Number(e.target.value)); if (to) moveStop(sh, s.order_id, to, 0); } },
      }, h('option', { value: '' }, t('move_to')), others.map((x) => h('option', { value: x.id }, `${courierName(x.courier_id)} (${x.number})`))) : null;
      return h('li', { class: late ? 'late' : '', 'data-order': s.order_id },
        h('span.seq', String(s.seq)),
        h('span.what', h('b', o?.external_id || '#' + s.order_id), ' ', h('span.muted', o?.address || '')),
        h('span.eta', { title: t('window') + ' ' + fmt.window(o?.time_window) }, fmt.time(s.eta), late ? h('span.badge.bad', t('late')) : null, s.locked ? h('span.badge', t('locked')) : null),
        h('span.actions',
          h('button.small', { type: 'button', 'aria-label': `${t('move_up')} ${o?.external_id || ''}`, 'data-testid': `up-${s.order_id}`, disabled: fixed || i === 0, on: { click: () => move(i) } }, '↑'),
          h('button.small', { type: 'button', 'aria-label': `${t('move_down')} ${o?.external_id || ''}`, 'data-testid': `down-${s.order_id}`, disabled: fixed || i === sh.stops.length - 1, on: { click: () => move(i + 2) } }, '↓'),
          can && !s.done ? h('button.small', { type: 'button', 'aria-pressed': String(s.locked), title: s.locked ? t('unlock') : t('lock'), on: { click: () => lockStop(sh, s) } }, s.locked ? '🔒' : '🔓') : null,
          sel));
    }));
  }

  async function lockStop(sh, s) {
    try {
      const res = await api.post(`/api/v1/route-sheets/${sh.id}/locks`, { order_id: s.order_id, locked: !s.locked, version: sh.version });
      const i = st.sheets.findIndex((x) => x.id === res.id);
      if (i >= 0) st.sheets[i] = res;
      drawSheets();
      renderSheets();
    } catch (err) {
      toast(err.message, 'error');
      if (err.status === 409) await loadSheets();
    }
  }

  async function printSheet(sh) {
    // Open the window now (a click may open one), fill it when the PDF arrives.
    const w = window.open('', '_blank');
    try {
      const blob = await api.blob(`/api/v1/route-sheets/${sh.id}/pdf`);
      const url = URL.createObjectURL(blob);
      if (w) w.location.href = url;
      else {
        const a = h('a', { href: url, download: `route-sheet-${sh.number}.pdf` });
        document.body.append(a);
        a.click();
        a.remove();
      }
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      w?.close();
      toast(err.message, 'error');
    }
  }

  // --- planning -------------------------------------------------------------
  function setProgress(pct, state) {
    const v = Math.max(0, Math.min(100, Math.round(pct)));
    bar.style.width = v + '%';
    progress.setAttribute('aria-valuenow', String(v));
    if (state) progress.dataset.state = state;
    bar.textContent = v ? v + '%' : '';
  }

  async function plan() {
    if (!st.depot) return toast('No depot', 'error');
    const limit = Math.max(1, Math.min(600, Number(limitIn.value) || 30));
    planBtn.disabled = true;
    fill(planStatus, t('planning_running'));
    setProgress(0, 'running');
    const started = Date.now();
    let done = false;
    // Between events the bar follows the clock, up to 99% until "done".
    const tick = setInterval(() => {
      if (!done) setProgress(Math.min(99, ((Date.now() - started) / (limit * 1000)) * 100));
    }, 250);
    const ctl = new AbortController();
    aborts.add(ctl);
    try {
      const p = await api.post('/api/v1/plans', { date: st.date, depot_id: st.depot.id, time_limit_s: limit });
      let final = null;
      await api.stream(`/api/v1/plans/${p.id}/events`, (ev) => {
        const pl = ev.json;
        if (!pl) return;
        if (ev.event === 'progress') {
          setProgress(Math.max(Number(progress.getAttribute('aria-valuenow')), Math.min(99, (pl.progress.elapsed_ms / (limit * 1000)) * 100)));
          fill(planStatus, `${t('planning_running')} ${fmt.duration(pl.progress.best_cost)} · ${t('unassigned')}: ${pl.progress.unassigned}`);
        } else {
          final = { event: ev.event, plan: pl };
        }
      }, ctl.signal);
      done = true;
      if (!final) {
        final = { event: 'done', plan: await api.get(`/api/v1/plans/${p.id}`) };
        if (final.plan.status === 'failed') final.event = 'failed';
      }
      if (final.event === 'failed') {
        setProgress(100, 'failed');
        fill(planStatus, h('span.error', t('plan_failed', { error: final.plan.error })));
        return;
      }
      const full = await api.get(`/api/v1/plans/${p.id}`);
      st.unassigned = full.unassigned || [];
      setProgress(100, 'done');
      await loadOrders();
      await loadSheets();
      fill(planStatus, t('plan_done', { sheets: full.sheets.length, unassigned: st.unassigned.length }),
        st.unassigned.length ? h('details', h('summary', t('unassigned')), h('ul', st.unassigned.map((u) => {
          const o = st.orders.get(u.order_id);
          return h('li', `${o?.external_id || '#' + u.order_id}: ${u.reason}`);
        }))) : null);
    } catch (err) {
      if (!ctl.signal.aborted) {
        setProgress(0, 'failed');
        fill(planStatus, h('span.error', err.message));
      }
    } finally {
      clearInterval(tick);
      aborts.delete(ctl);
      planBtn.disabled = false;
    }
  }

  async function publish() {
    const planId = st.planId;
    if (!planId) return;
    publishBtn.disabled = true;
    try {
      const res = await api.post(`/api/v1/plans/${planId}/publish`);
      toast(t('published', { n: res.sheets.length }), 'ok');
      await loadOrders();
      await loadSheets();
    } catch (err) {
      toast(err.message, 'error');
      publishBtn.disabled = false;
    }
  }

  // --- live couriers ----------------------------------------------------------
  const courierMarkers = new Map();
  function isStale(p) {
    const at = new Date(p.recorded_at).getTime();
    return p.stale || Date.now() - at > (cfg.stale_after_s || 300) * 1000;
  }

  function placeCourier(p) {
    const prev = st.positions.get(p.courier_id);
    if (prev && new Date(prev.recorded_at) > new Date(p.recorded_at)) return;
    st.positions.set(p.courier_id, p);
    let m = courierMarkers.get(p.courier_id);
    const ll = [p.location.lat, p.location.lng];
    if (!m) {
      m = L.circleMarker(ll, { radius: 9, weight: 3, color: '#fff', fillColor: '#0d47a1', fillOpacity: 1, className: `courier-pos courier-${p.courier_id}` });
      m.addTo(layers.couriers);
      courierMarkers.set(p.courier_id, m);
    } else {
      m.setLatLng(ll);
    }
    m.bindTooltip(`${esc(courierName(p.courier_id))} · ${esc(t('last_seen'))} ${esc(fmt.time(p.recorded_at))}`);
    styleCourier(p.courier_id);
  }

  function styleCourier(id) {
    const p = st.positions.get(id);
    const m = courierMarkers.get(id);
    if (!p || !m) return;
    const stale = isStale(p);
    m.setStyle({ fillColor: stale ? '#9e9e9e' : '#0d47a1', fillOpacity: stale ? 0.6 : 1 });
    m.getElement()?.classList.toggle('stale', stale);
    m.getElement()?.setAttribute('data-stale', String(stale));
  }

  async function followTracking() {
    try {
      const res = await api.get('/api/v1/tracking/positions');
      for (const p of res.items || []) placeCourier(p);
    } catch (err) {
      console.warn('positions', err);
    }
    while (st.alive) {
      const ctl = new AbortController();
      aborts.add(ctl);
      try {
        await api.stream('/api/v1/tracking/stream', (ev) => {
          const d = ev.json;
          if (!d || !d.location) return;
          if (ev.event === 'position' || d.type === 'position') {
            placeCourier({ courier_id: d.courier_id, location: d.location, recorded_at: d.at, stale: false });
          }
        }, ctl.signal);
      } catch (err) {
        if (!st.alive) return;
        console.warn('tracking stream', err);
      } finally {
        aborts.delete(ctl);
      }
      if (!st.alive) return;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  timers.push(setInterval(() => { for (const id of courierMarkers.keys()) styleCourier(id); }, 10000));

  // --- zones: draw and edit -----------------------------------------------------
  function renderZones() {
    fill(zoneList, st.zones.map((z) => h('li', { 'data-zone-id': z.id },
      h('span.swatch', { style: { background: z.properties.color } }),
      h('span.name', z.properties.name),
      h('span.actions',
        z.geometry.type === 'Polygon' ? h('button.small', { type: 'button', 'data-testid': 'edit-zone-' + z.id, on: { click: () => editZone(z) } }, t('edit')) : null,
        h('button.small', { type: 'button', 'data-testid': 'delete-zone-' + z.id, on: { click: () => deleteZone(z) } }, t('delete'))))));
  }

  function stopDrawing() {
    map.off('click', onDrawClick);
    document.removeEventListener('keydown', onDrawKey);
    layers.draw.clearLayers();
    drawBar.hidden = true;
    mapEl.classList.remove('drawing');
    st.drawing = null;
    if (st.editing) {
      st.editing = null;
      drawZones();
    }
  }

  function onDrawClick(e) {
    st.drawing.vertices.push(e.latlng);
    redrawSketch();
  }

  function onDrawKey(e) {
    if (e.target.closest?.('.dialog')) return;
    if (e.key === 'Escape') stopDrawing();
    else if (e.key === 'Enter' && st.drawing) { e.preventDefault(); finishDrawing(); }
  }

  function redrawSketch() {
    layers.draw.clearLayers();
    const vs = st.drawing.vertices;
    if (vs.length > 1) L.polygon(vs, { color: '#ff6f00', weight: 2, dashArray: '4 4', fillOpacity: 0.1 }).addTo(layers.draw);
    vs.forEach((v, i) => L.circleMarker(v, { radius: 5, color: '#ff6f00', fillColor: '#fff', fillOpacity: 1, className: 'draw-vertex v-' + i }).addTo(layers.draw));
  }

  function startDrawing() {
    stopDrawing();
    st.drawing = { vertices: [] };
    mapEl.classList.add('drawing');
    fill(drawBar, h('span', t('draw_hint')),
      h('button.primary', { type: 'button', 'data-testid': 'draw-finish', on: { click: finishDrawing } }, t('finish')),
      h('button', { type: 'button', 'data-testid': 'draw-cancel', on: { click: stopDrawing } }, t('cancel')));
    drawBar.hidden = false;
    map.on('click', onDrawClick);
    document.addEventListener('keydown', onDrawKey);
  }

  async function finishDrawing() {
    const vs = st.drawing?.vertices || [];
    if (vs.length < 3) return toast(t('need_3'), 'error');
    const name = h('input', { value: '', required: true, 'data-testid': 'zone-name' });
    const color = h('input', { type: 'color', value: '#ff6f00', 'data-testid': 'zone-color' });
    const form = h('div.form', h('label', t('zone_name'), name), h('label', t('zone_color'), color));
    setTimeout(() => name.focus(), 0);
    const ok = await dialog(t('new_zone'), form, [
      { label: t('save'), value: true, kind: 'primary', testid: 'zone-save' },
      { label: t('cancel'), value: false },
    ]);
    if (!ok) return;
    try {
      await api.post('/api/v1/zones', {
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [closedRing(vs)] },
        properties: { name: name.value.trim() || t('new_zone'), color: color.value },
      });
      toast(t('zone_saved'), 'ok');
      stopDrawing();
      await loadZones();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function editZone(z) {
    stopDrawing();
    st.editing = z;
    drawZones();
    const ring = z.geometry.coordinates[0].slice(0, -1).map(([lng, lat]) => L.latLng(lat, lng));
    const poly = L.polygon(ring, { color: z.properties.color, weight: 2, fillOpacity: 0.15 }).addTo(layers.draw);
    ring.forEach((ll, i) => {
      const m = L.marker(ll, { draggable: true, icon: L.divIcon({ className: 'vertex-icon', html: `<span data-vertex="${i}"></span>`, iconSize: [14, 14], iconAnchor: [7, 7] }) });
      m.on('drag', () => { ring[i] = m.getLatLng(); poly.setLatLngs(ring); });
      m.addTo(layers.draw);
    });
    fill(drawBar, h('span', `${z.properties.name}: ${t('edit_hint')}`),
      h('button.primary', { type: 'button', 'data-testid': 'zone-edit-save', on: { click: () => saveZone(z, ring) } }, t('save')),
      h('button', { type: 'button', on: { click: stopDrawing } }, t('cancel')));
    drawBar.hidden = false;
    document.addEventListener('keydown', onDrawKey);
  }

  async function saveZone(z, ring) {
    try {
      await api.patch(`/api/v1/zones/${z.id}`, {
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [closedRing(ring)] },
        properties: { version: z.properties.version },
      });
      toast(t('zone_saved'), 'ok');
      stopDrawing();
      await loadZones();
    } catch (err) {
      toast(err.message, 'error');
      if (err.status === 409) { stopDrawing(); await loadZones(); }
    }
  }

  async function deleteZone(z) {
    const ok = await dialog(`${t('delete')}: ${z.properties.name}?`, '', [
      { label: t('cancel'), value: false }, { label: t('delete'), value: true, kind: 'danger', testid: 'zone-delete-confirm' }]);
    if (!ok) return;
    try {
      await api.del(`/api/v1/zones/${z.id}`);
      toast(t('zone_deleted'), 'ok');
      await loadZones();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  // --- legend -------------------------------------------------------------------
  function addLegend() {
    const legend = L.control({ position: 'bottomleft' });
    legend.onAdd = () => {
      const shown = ['new', 'awaiting_stock', 'ready', 'planned', 'out_for_delivery', 'delivered', 'failed_attempt', 'refused', 'cancelled'];
      const el = h('div.legend', { 'data-testid': 'legend' },
        h('b', t('legend')),
        shown.map((s) => h('div', h('span.dot', { style: { background: statusColors[s] } }), statusName(s))),
        h('div', h('span.dot.ring', { style: { background: '#0d47a1' } }), t('couriers_live')),
        h('div', h('span.dot.ring', { style: { background: '#9e9e9e' } }), t('stale')),
        h('div', h('span.dot.sq'), t('depot_marker')));
      L.DomEvent.disableClickPropagation(el);
      return el;
    };
    legend.addTo(map);
  }

  // --- wiring -------------------------------------------------------------------
  planBtn.addEventListener('click', plan);
  publishBtn.addEventListener('click', publish);
  newZoneBtn.addEventListener('click', startDrawing);
  dateIn.addEventListener('change', async () => {
    st.date = dateIn.value || fmt.isoDate();
    st.violations.clear();
    await reloadAll();
  });

  await loadStatic();
  await reloadAll();
  requestAnimationFrame(() => { if (st.alive) map.invalidateSize(); });
  followTracking();
  root.dataset.ready = 'true';

  return () => {
    st.alive = false;
    for (const c of aborts) c.abort();
    for (const id of timers) clearInterval(id);
    document.removeEventListener('keydown', onDrawKey);
    // Leaflet finishes a zoom animation from a timer that remove() does not
    // cancel; removing the map mid-animation makes that timer throw. Wait for
    // the animation's zoomend first.
    if (zooming) map.once('zoomend', () => map.remove());
    else map.remove();
  };
}
