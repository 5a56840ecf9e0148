// The dispatcher's map: orders coloured by status, zones (draw and edit),
// couriers as labelled markers in their route's colour, planning with
// progress, route sheets as coloured lines with numbered stops that show the
// day under way (delivered, failed, under way, late), the orders on no route
// with the reason, the late stops, and live updates from the tracking
// stream. Stops move by drag or from the list; an order on no route joins a
// courier's route by drag or by picking the courier.
import { h, fill, toast, dialog, esc, hashQuery } from './dom.js';
import { t, tn, statusName, statusColors, errorText, reasonText, violationText } from './i18n.js';
import { ApiError } from './api.js';
import { dropTarget, closedRing, sheetLoad } from './geometry.js';
import { routePalette, routeColors, textOn, initials } from './colors.js';
import { stopState, currentStop, counts, leftOut, lateStops, applyProgress, applySignal, finished } from './day.js';
import { icon, iconHTML } from './icons.js';
import { showOrder } from './order-detail.js';

const L = window.L;
const editable = new Set(['draft', 'published', 'active']);

export async function mount(root, ctx) {
  const { api, fmt, cfg } = ctx;
  const st = {
    date: cfg.date || fmt.isoDate(), depots: [], depot: null, couriers: new Map(), orders: new Map(), zones: [], sheets: [],
    positions: new Map(), violations: new Map(), expanded: new Set(), planId: null, plan: null, alive: true, live: false,
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
  const liveEl = h('span.live', { 'data-testid': 'live', 'data-live': 'false' });
  const alertsBox = h('details.alerts', { 'data-testid': 'alerts' });
  const leftBox = h('details.left-out', { 'data-testid': 'unassigned', open: true });
  const zoneList = h('ul.zone-list', { 'data-testid': 'zone-list' });
  const drawBar = h('div.draw-bar', { hidden: true, 'data-testid': 'draw-bar' });
  const newZoneBtn = h('button', { type: 'button', 'data-testid': 'new-zone' }, t('new_zone'));
  const alertBtn = h('button.map-alert', { type: 'button', hidden: true, 'data-testid': 'alert-button', on: { click: () => openAlerts() } });
  const side = h('aside.side', { 'data-testid': 'side' },
    h('section.planning',
      h('h2', t('planning')),
      h('div.row', h('label', t('date'), dateIn), h('label', t('time_limit'), limitIn)),
      h('div.row', planBtn, publishBtn),
      progress, planStatus),
    alertsBox,
    leftBox,
    h('section.sheets', h('h2', t('sheets'), ' ', liveEl), sheetList),
    h('section.zones', h('h2', t('zones')), zoneList, newZoneBtn));
  const panelBtn = h('button.panel-toggle', {
    type: 'button', 'data-testid': 'panel-toggle', 'aria-expanded': 'false', title: t('panel'),
    on: { click: () => togglePanel() },
  }, icon('panel', 18), h('span', t('panel')));
  fill(root, h('div.map-wrap', mapEl, drawBar, alertBtn, panelBtn), side);
  const narrow = () => window.matchMedia('(max-width: 700px)').matches;
  function togglePanel(open = !root.classList.contains('panel-open')) {
    root.classList.toggle('panel-open', open);
    panelBtn.setAttribute('aria-expanded', String(open));
    setTimeout(() => { if (st.alive) map.invalidateSize(); }, 0);
  }

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
    left: L.featureGroup().addTo(map),
    depot: L.featureGroup().addTo(map),
    couriers: L.featureGroup().addTo(map),
    draw: L.featureGroup().addTo(map),
  };
  addLegend();
  let zooming = false;
  map.on('zoomanim', () => { zooming = true; });
  map.on('zoomend', () => { zooming = false; });
  const resize = new ResizeObserver(() => { if (st.alive) map.invalidateSize(); });
  resize.observe(mapEl);

  // --- data ---------------------------------------------------------------
  async function loadStatic() {
    const [depots, couriers] = await Promise.all([api.get('/api/v1/depots'), api.get('/api/v1/couriers')]);
    st.depots = depots.items || [];
    st.depot = st.depots[0] || null;
    st.couriers = new Map((couriers.items || []).map((c) => [c.id, c]));
    layers.depot.clearLayers();
    for (const d of st.depots) {
      L.marker([d.location.lat, d.location.lng], {
        icon: L.divIcon({ className: 'depot-icon', html: `<span>${iconHTML('home', 16)}</span>`, iconSize: [26, 26], iconAnchor: [13, 13] }),
        keyboard: false, title: d.name,
      }).bindTooltip(`${esc(t('depot_marker'))}: ${esc(d.name)}`).addTo(layers.depot);
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

  async function loadPlan() {
    // The latest plan of the day: the orders it left out, and why, survive a reload.
    try {
      const res = await api.get(`/api/v1/plans?date=${st.date}${st.depot ? '&depot_id=' + st.depot.id : ''}&limit=5`);
      st.plan = (res.items || []).find((p) => p.status === 'done' || p.status === 'published') || null;
    } catch (err) {
      console.warn('plans', err);
      st.plan = null;
    }
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
    redrawDay();
  }

  async function reloadAll() {
    await Promise.all([loadOrders(), loadZones(), loadPlan()]);
    await loadSheets();
  }

  /** Everything the day's state shows: stops, routes, orders on no route, lists. */
  function redrawDay() {
    drawSheets();
    drawLeftOut();
    renderSheets();
    renderAlerts();
    renderLeftOut();
    for (const id of courierMarkers.keys()) styleCourier(id);
  }

  // Sheets again (late stops by the live ETA, last signals) a moment after
  // a stop event, and every minute while a sheet is on the road.
  let refreshTimer = null;
  function scheduleRefresh(ms = 1500) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      if (!st.alive) return;
      try { await loadSheets(); } catch (err) { console.warn('refresh', err); }
    }, ms);
  }
  timers.push(setInterval(() => { if (st.sheets.some((s) => s.status === 'active')) scheduleRefresh(0); }, 60000));

  // --- colours ------------------------------------------------------------
  function courierColor(courierId) {
    const palette = routePalette(st.zones.map((z) => z.properties.color));
    const ids = [...st.couriers.keys()].sort((a, b) => a - b);
    const i = ids.indexOf(courierId);
    return palette[(i < 0 ? courierId : i) % palette.length];
  }
  const sheetColor = (sh) => courierColor(sh.courier_id);

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

  function openOrder(id) {
    showOrder(ctx, id, { onChange: () => reloadAll() }).catch((e) => toast(errorText(e), 'error'));
  }

  function drawOrders() {
    layers.orders.clearLayers();
    for (const o of st.orders.values()) {
      const m = L.circleMarker([o.location.lat, o.location.lng], {
        radius: 5, weight: 1, color: '#fff', fillColor: statusColors[o.status] || '#888', fillOpacity: 0.95,
        className: `order-marker order-${o.id} status-${o.status}`,
      });
      m.bindTooltip(`${esc(o.external_id || '#' + o.id)} · ${esc(statusName(o.status))}`);
      m.on('click', () => openOrder(o.id));
      m.addTo(layers.orders);
    }
    const pts = [...st.orders.values()].map((o) => [o.location.lat, o.location.lng]);
    if (st.depot) pts.push([st.depot.location.lat, st.depot.location.lng]);
    if (!st.fitted && pts.length > 0) {
      map.fitBounds(L.latLngBounds(pts).pad(0.05), { animate: false });
      st.fitted = true;
    }
  }

  function depotOf(sh) {
    return st.depots.find((d) => d.id === sh.depot_id) || st.depot;
  }

  const stateIcon = { delivered: 'check', failed: 'cross', cancelled: 'ban' };

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
      pl.on('click', () => showSheet(sh.id));
      pl.addTo(layers.routes);
      st.routeLines.set(sh.id, pl);
      const cur = currentStop(sh, st.orders);
      for (const s of sh.stops) {
        const o = st.orders.get(s.order_id);
        if (!o) continue;
        const state = stopState(sh, s, o, cur);
        const canDrag = editable.has(sh.status) && !s.done && !finished(o) && !s.locked;
        const inner = stateIcon[state] ? iconHTML(stateIcon[state], 12) : String(s.seq);
        const marker = L.marker([o.location.lat, o.location.lng], {
          draggable: canDrag, autoPan: true, keyboard: false, riseOnHover: true, zIndexOffset: state === 'late' || state === 'current' ? 500 : 0,
          icon: L.divIcon({
            className: 'stop-icon',
            html: `<span class="stop-num st-${state}${s.locked ? ' locked' : ''}" style="background:${color};color:${textOn(color)}" data-sheet="${sh.id}" data-order="${s.order_id}" data-seq="${s.seq}" data-state="${state}">${inner}</span>`,
            iconSize: [22, 22], iconAnchor: [11, 11],
          }),
        });
        marker.bindTooltip(`${esc(o.external_id)} · ${esc(t('stop_' + state))} · ${esc(fmt.time(s.eta))} (${esc(fmt.window(o.time_window))})`);
        marker.on('click', () => openOrder(o.id));
        if (canDrag) wireDrag(marker, (target) => {
          const to = st.sheets.find((x) => x.id === target.routeId);
          return moveStop(sh, s.order_id, to, target.position);
        }, s.order_id);
        marker.addTo(layers.stops);
      }
    }
  }

  /** The orders on no route, over their dots: a ring to drag onto a route. */
  function drawLeftOut() {
    layers.left.clearLayers();
    st.leftOut = leftOut(st.orders, st.sheets, st.plan);
    const targets = st.sheets.filter((s) => editable.has(s.status));
    for (const { order: o, reason } of st.leftOut) {
      const marker = L.marker([o.location.lat, o.location.lng], {
        draggable: targets.length > 0, autoPan: true, keyboard: false, riseOnHover: true, zIndexOffset: 800,
        icon: L.divIcon({
          className: 'left-icon',
          html: `<span class="left-pin" data-order="${o.id}" data-testid="left-pin-${o.id}">${iconHTML('alert', 12)}</span>`,
          iconSize: [24, 24], iconAnchor: [12, 12],
        }),
      });
      marker.bindTooltip(`${esc(o.external_id || '#' + o.id)} · ${esc(t('unassigned_title'))}: ${esc(reasonText(reason))}`);
      marker.on('click', () => openOrder(o.id));
      if (targets.length) wireDrag(marker, (target) => assign(o.id, st.sheets.find((x) => x.id === target.routeId), target.position), o.id);
      marker.addTo(layers.left);
    }
  }

  // --- drag a stop (or an order on no route) onto a route -------------------
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

  function wireDrag(marker, onDrop, orderId) {
    let routes = null;
    let hi = null;
    const highlight = (id) => {
      if (hi === id) return;
      if (hi != null) st.routeLines.get(hi)?.setStyle({ weight: 4 });
      hi = id;
      if (hi != null) st.routeLines.get(hi)?.setStyle({ weight: 9 });
    };
    marker.on('dragstart', () => { routes = pixelRoutes(orderId); });
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
        drawLeftOut();
        return;
      }
      await onDrop(target);
    });
  }

  /** An order on no route joins a sheet (a move naming it); the rules are checked as for any move. */
  function assign(orderId, to, position = 0) {
    return moveStop(to, orderId, to, position, false, true);
  }

  /** POSTs a move; a 422 shows the violations and offers to force it. */
  async function moveStop(from, orderId, to, position, force = false, joining = false) {
    const body = { order_id: orderId, to_sheet_id: to.id, position, version: from.version };
    if (to.id !== from.id) body.to_version = to.version;
    if (force) body.force = true;
    try {
      const res = await api.post(`/api/v1/route-sheets/${from.id}/moves`, body);
      for (const s of res.sheets) {
        const i = st.sheets.findIndex((x) => x.id === s.id);
        if (i >= 0) st.sheets[i] = { ...s, progress: s.progress || st.sheets[i].progress };
      }
      for (const s of res.sheets) st.violations.delete(s.id);
      for (const v of res.violations || []) {
        const id = v.sheet_id ?? to.id;
        st.violations.set(id, [...(st.violations.get(id) || []), v]);
      }
      const n = res.violations?.length || 0;
      toast(joining ? t('assigned', { courier: courierName(to.courier_id) }) + (n ? ' · ' + t('moved_forced', { n }) : '')
        : n ? t('moved_forced', { n }) : t('moved'), n ? 'error' : 'ok');
      // Orders carry their courier and sheet: read them again.
      const moved = await api.get(`/api/v1/orders/${orderId}`);
      st.orders.set(moved.id, moved);
      drawOrders();
      redrawDay();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && Array.isArray(err.details.violations)) {
        const list = violationList(err.details.violations);
        const choice = await dialog(joining ? t('assign_refused') : t('move_refused'), list, [
          { label: t('cancel'), value: false, testid: 'move-cancel' },
          { label: joining ? t('force_assign') : t('force_move'), value: true, kind: 'danger', testid: 'move-force' },
        ]);
        if (choice) return moveStop(from, orderId, to, position, true, joining);
      } else if (err instanceof ApiError && err.status === 409) {
        toast(`${t('stale_version')} · ${errorText(err)}`, 'error');
        await reloadAll();
        return;
      } else {
        toast(errorText(err), 'error');
      }
      drawSheets();
      drawLeftOut();
    }
  }

  function violationList(vs) {
    return h('ul.violations', { 'data-testid': 'violations' }, vs.map((v) => h('li', { class: 'kind-' + v.kind },
      violationText(v, {
        order: v.order_id ? st.orders.get(v.order_id)?.external_id || '#' + v.order_id : '',
        courier: v.sheet_id ? courierName(st.sheets.find((x) => x.id === v.sheet_id)?.courier_id) : '',
      }))));
  }

  // --- sheet list -----------------------------------------------------------
  function courierName(id) {
    return st.couriers.get(id)?.name || `#${id}`;
  }

  function showSheet(id, scroll = true) {
    st.expanded.add(id);
    renderSheets();
    const el = sheetList.querySelector(`[data-sheet-id="${id}"]`);
    if (el) {
      el.classList.add('flash');
      setTimeout(() => el.classList.remove('flash'), 1500);
      if (scroll) el.scrollIntoView({ block: 'nearest' });
    }
    const line = st.routeLines?.get(id);
    if (line) {
      line.setStyle({ weight: 9 });
      setTimeout(() => line.setStyle({ weight: 4 }), 1500);
    }
  }

  /** "signal 12:03 (5 min ago)", or that none came yet; stale after stale_after_s. */
  function signalText(sh) {
    const at = sh.progress?.last_signal_at;
    if (!at) return { text: t('no_signal'), stale: true };
    const age = Date.now() - new Date(at).getTime();
    const stale = age > (cfg.stale_after_s || 300) * 1000;
    const ago = fmt.ago(at);
    return { text: `${t('last_signal', { time: fmt.time(at) })} · ${stale ? t('signal_stale', { ago }) : t('signal_ago', { ago })}`, stale };
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
      const c = counts(sh, st.orders);
      const lates = sh.status === 'active' ? c.late : lateStops([sh], st.orders).length;
      const done = c.delivered + c.failed + c.cancelled;
      const open = st.expanded.has(sh.id);
      const viol = st.violations.get(sh.id) || [];
      const capText = cr?.vehicle?.capacity_kg ? `${fmt.number(load.kg)}/${fmt.kg(cr.vehicle.capacity_kg)}` : fmt.kg(load.kg);
      const underWay = sh.status === 'active' || sh.status === 'completed';
      const head = h('div.sheet-head',
        h('span.swatch', { style: { background: color } }),
        h('button.link.sheet-toggle', { type: 'button', 'aria-expanded': String(open), 'data-testid': 'sheet-toggle-' + sh.id, on: { click: () => { if (open) st.expanded.delete(sh.id); else st.expanded.add(sh.id); renderSheets(); } } },
          h('b', courierName(sh.courier_id))),
        h('span.sheet-status', { class: 'st-' + sh.status }, t('status_' + sh.status)),
        h('button.small.icon-btn', { type: 'button', title: t('print_pdf'), 'aria-label': `${t('print_pdf')} ${sh.number}`, 'data-testid': 'pdf-' + sh.id, on: { click: () => printSheet(sh) } }, icon('print', 14), ' ', t('print_pdf')));
      const sig = signalText(sh);
      const day = underWay ? h('div.sheet-day',
        h('span.day-count', { 'data-testid': 'progress-' + sh.id, title: t('day_progress', { done, total: c.total, delivered: c.delivered, failed: c.failed, remaining: c.remaining }) },
          t('progress_of', { done, total: c.total }), lates ? h('span.bad', ' · ' + tn('late_n', lates)) : null),
        sh.status === 'active' ? h('span.signal', { class: sig.stale ? 'stale' : '', 'data-testid': 'signal-' + sh.id }, icon('signal', 12), ' ', sig.text) : null,
        h('div.day-bar', { 'aria-hidden': 'true' },
          h('span.ok', { style: { width: pct(c.delivered, c.total) } }), h('span.fail', { style: { width: pct(c.failed + c.cancelled, c.total) } }))) : null;
      const facts = h('div.sheet-facts',
        h('span.sheet-number', { title: t('sheet_number', { n: sh.number }) }, sh.number),
        h('span', { 'data-testid': 'stops-count-' + sh.id }, tn('stops_n', sh.stops.length)),
        h('span', fmt.km(sh.distance_m)), h('span', fmt.duration(sh.duration_s)),
        h('span', { class: load.over.length ? 'bad' : '' }, capText),
        sh.stops.length ? h('span', `${fmt.time(sh.start)}–${fmt.time(sh.end)}`) : null,
        load.over.length ? h('span.badge.bad', t('over_capacity')) : null,
        !underWay && lates ? h('span.badge.bad', tn('late_n', lates)) : null);
      const violations = viol.length ? violationList(viol) : null;
      const stops = open ? stopList(sh) : null;
      return h('div.sheet', { 'data-sheet-id': sh.id, 'data-testid': 'sheet-' + sh.id, style: { borderLeftColor: color } }, head, day, facts, violations, stops);
    }));
  }

  function pct(n, total) {
    return total ? `${(100 * n) / total}%` : '0';
  }

  function stopList(sh) {
    const can = editable.has(sh.status);
    const others = st.sheets.filter((x) => x.id !== sh.id && editable.has(x.status));
    const cur = currentStop(sh, st.orders);
    return h('ol.stops', { 'aria-label': `${t('sheets')} ${sh.number}` }, sh.stops.map((s, i) => {
      const o = st.orders.get(s.order_id);
      const state = stopState(sh, s, o, cur);
      const fixed = !can || s.done || finished(o) || s.locked;
      const move = (pos) => moveStop(sh, s.order_id, sh, pos);
      const sel = others.length && !fixed ? h('select.small', {
        'aria-label': t('move_to'), 'data-testid': `move-to-${s.order_id}`,
        on: { change: (e) => { const to = st.sheets.find((x) => x.id === Number(e.target.value)); if (to) moveStop(sh, s.order_id, to, 0); } },
      }, h('option', { value: '' }, t('move_to')), others.map((x) => h('option', { value: x.id }, `${courierName(x.courier_id)} (${x.number})`))) : null;
      return h('li', { class: 'st-' + state, 'data-order': s.order_id, 'data-state': state },
        h('span.seq', String(s.seq)),
        h('span.what', h('button.link', { type: 'button', on: { click: () => { focusOrder(s.order_id); openOrder(s.order_id); } } }, h('b', o?.external_id || '#' + s.order_id)), ' ', h('span.muted', o?.address || '')),
        h('span.eta', { title: t('window') + ' ' + fmt.window(o?.time_window) }, fmt.time(s.eta),
          state !== 'planned' ? h('span.badge', { class: 'state-' + state }, t('stop_' + state)) : null,
          s.locked ? h('span.badge', t('locked')) : null),
        h('span.actions',
          h('button.small.icon-btn', { type: 'button', 'aria-label': `${t('move_up')} ${o?.external_id || ''}`, title: t('move_up'), 'data-testid': `up-${s.order_id}`, disabled: fixed || i === 0, on: { click: () => move(i) } }, icon('up', 14)),
          h('button.small.icon-btn', { type: 'button', 'aria-label': `${t('move_down')} ${o?.external_id || ''}`, title: t('move_down'), 'data-testid': `down-${s.order_id}`, disabled: fixed || i === sh.stops.length - 1, on: { click: () => move(i + 2) } }, icon('down', 14)),
          can && !s.done && !finished(o) ? h('button.small.icon-btn', { type: 'button', 'aria-pressed': String(s.locked), 'aria-label': s.locked ? t('unlock') : t('lock'), title: s.locked ? t('unlock') : t('lock'), 'data-testid': `lock-${s.order_id}`, on: { click: () => lockStop(sh, s) } }, icon(s.locked ? 'lock' : 'unlock', 14)) : null,
          sel));
    }));
  }

  // --- late stops and orders on no route --------------------------------------
  function renderAlerts() {
    const late = lateStops(st.sheets.filter((s) => s.status === 'active'), st.orders);
    const wasOpen = alertsBox.open;
    fill(alertsBox,
      h('summary', { 'data-testid': 'alerts-summary' }, icon('clock', 14), ' ', t('alerts'), ' ', h('span.count', { class: late.length ? 'bad' : '' }, String(late.length))),
      late.length === 0 ? h('p.muted', t('alerts_none')) : h('ul.alert-list', late.map(({ sheet, stop, eta, windowTo }) => {
        const o = st.orders.get(stop.order_id);
        const by = new Date(eta).getTime() - new Date(windowTo).getTime();
        const when = fmt.isoDate(eta) === fmt.isoDate(windowTo) ? fmt.time(eta) : `${fmt.date(eta)} ${fmt.time(eta)}`;
        return h('li', { 'data-order': stop.order_id, 'data-testid': 'late-' + stop.order_id },
          h('button.link', { type: 'button', on: { click: () => { focusOrder(stop.order_id); showSheet(sheet.id, false); } } },
            h('b', o?.external_id || '#' + stop.order_id)), ' ',
          h('span', courierName(sheet.courier_id)), ' · ',
          h('span.muted', t('alert_line', { to: fmt.time(windowTo), eta: when })),
          by > 0 ? h('span.bad', ' · ' + t('late_by', { d: fmt.duration(by / 1000) })) : null);
      })));
    alertsBox.open = wasOpen;
    alertBtn.hidden = late.length === 0;
    fill(alertBtn, icon('alert', 16), ' ', tn('late_n', late.length));
  }

  function openAlerts() {
    if (narrow()) togglePanel(true);
    alertsBox.open = true;
    alertsBox.scrollIntoView({ block: 'start' });
  }

  function renderLeftOut() {
    const items = st.leftOut || [];
    const targets = st.sheets.filter((s) => editable.has(s.status));
    fill(leftBox,
      h('summary', { 'data-testid': 'unassigned-summary' }, icon('alert', 14), ' ', t('unassigned_title'), ' ', h('span.count', { class: items.length ? 'bad' : '' }, String(items.length))),
      items.length === 0 ? h('p.muted', t('unassigned_none')) : [
        targets.length ? h('p.hint', t('unassigned_hint')) : null,
        h('ul.left-list', items.map(({ order: o, reason }) => h('li', { 'data-order': o.id, 'data-testid': 'left-' + o.id },
          h('div',
            h('button.link', { type: 'button', on: { click: () => { focusOrder(o.id); openOrder(o.id); } } }, h('b', o.external_id || '#' + o.id)), ' ',
            h('span.muted', fmt.window(o.time_window)), ' ', h('span.muted', o.weight_kg ? fmt.kg(o.weight_kg) : '')),
          h('div.reason', { 'data-testid': 'reason-' + o.id, 'data-reason': reason || 'not_planned' }, reasonText(reason)),
          h('div.row',
            h('button.small.icon-btn', { type: 'button', title: t('show_on_map'), 'aria-label': t('show_on_map'), 'data-testid': 'locate-' + o.id, on: { click: () => focusOrder(o.id) } }, icon('pin', 14)),
            targets.length ? h('select.small', {
              'aria-label': t('assign_to'), 'data-testid': 'assign-' + o.id,
              on: { change: (e) => { const to = st.sheets.find((x) => x.id === Number(e.target.value)); if (to) assign(o.id, to); } },
            }, h('option', { value: '' }, t('assign_to')), targets.map((x) => h('option', { value: x.id }, `${courierName(x.courier_id)} (${t('status_' + x.status)})`))) : null))))]);
  }

  /** Pans to an order and makes its marker pulse. */
  function focusOrder(id) {
    const o = st.orders.get(id);
    if (!o) return;
    if (narrow()) togglePanel(false);
    map.setView([o.location.lat, o.location.lng], Math.max(map.getZoom(), 14), { animate: false });
    const el = mapEl.querySelector(`[data-order="${id}"]`) || mapEl.querySelector(`.order-${id}`);
    el?.classList.add('pulse');
    setTimeout(() => el?.classList.remove('pulse'), 2500);
  }

  async function lockStop(sh, s) {
    try {
      const res = await api.post(`/api/v1/route-sheets/${sh.id}/locks`, { order_id: s.order_id, locked: !s.locked, version: sh.version });
      const i = st.sheets.findIndex((x) => x.id === res.id);
      if (i >= 0) st.sheets[i] = { ...res, progress: res.progress || st.sheets[i].progress };
      redrawDay();
    } catch (err) {
      toast(errorText(err), 'error');
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
      toast(errorText(err), 'error');
    }
  }

  // --- planning -------------------------------------------------------------
  function setProgress(pctv, state) {
    const v = Math.max(0, Math.min(100, Math.round(pctv)));
    bar.style.width = v + '%';
    progress.setAttribute('aria-valuenow', String(v));
    if (state) progress.dataset.state = state;
    bar.textContent = v ? v + '%' : '';
  }

  async function plan() {
    if (!st.depot) return toast(t('no_depot'), 'error');
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
          fill(planStatus, `${t('planning_running')} ${t('plan_progress', { time: fmt.duration(pl.progress.best_cost), n: pl.progress.unassigned })}`);
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
      st.plan = full;
      setProgress(100, 'done');
      await loadOrders();
      await loadSheets();
      fill(planStatus, t('plan_done', { sheets: full.sheets.length, unassigned: (full.unassigned || []).length }));
      if ((full.unassigned || []).length) leftBox.open = true;
    } catch (err) {
      if (!ctl.signal.aborted) {
        setProgress(0, 'failed');
        fill(planStatus, h('span.error', errorText(err)));
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
      toast(errorText(err), 'error');
      publishBtn.disabled = false;
    }
  }

  // --- live couriers ----------------------------------------------------------
  const courierMarkers = new Map();
  function isStale(p) {
    const at = new Date(p.recorded_at).getTime();
    return p.stale || Date.now() - at > (cfg.stale_after_s || 300) * 1000;
  }

  function courierSheet(id) {
    return st.sheets.find((s) => s.courier_id === id && s.status === 'active') || st.sheets.find((s) => s.courier_id === id);
  }

  function courierIcon(id, stale) {
    const color = courierColor(id);
    const name = courierName(id);
    return L.divIcon({
      className: 'courier-icon',
      html: `<span class="courier-pos courier-${id}${stale ? ' stale' : ''}" data-courier="${id}" data-stale="${stale}" style="background:${stale ? '#9e9e9e' : color};color:${stale ? '#fff' : textOn(color)}">${esc(initials(name))}</span>`,
      iconSize: [30, 30], iconAnchor: [15, 15],
    });
  }

  function placeCourier(p) {
    const prev = st.positions.get(p.courier_id);
    if (prev && new Date(prev.recorded_at) > new Date(p.recorded_at)) return;
    st.positions.set(p.courier_id, p);
    let m = courierMarkers.get(p.courier_id);
    const ll = [p.location.lat, p.location.lng];
    if (!m) {
      m = L.marker(ll, { keyboard: false, zIndexOffset: 1000, icon: courierIcon(p.courier_id, isStale(p)) });
      m.on('click', () => {
        const sh = courierSheet(p.courier_id);
        if (narrow()) togglePanel(true);
        if (sh) showSheet(sh.id);
      });
      m.addTo(layers.couriers);
      courierMarkers.set(p.courier_id, m);
    } else {
      m.setLatLng(ll);
    }
    styleCourier(p.courier_id);
  }

  function styleCourier(id) {
    const p = st.positions.get(id);
    const m = courierMarkers.get(id);
    if (!p || !m) return;
    const stale = isStale(p);
    const el = m.getElement()?.querySelector('.courier-pos');
    if (!el || el.dataset.stale !== String(stale) || el.dataset.color !== courierColor(id)) {
      m.setIcon(courierIcon(id, stale));
      m.getElement()?.querySelector('.courier-pos')?.setAttribute('data-color', courierColor(id));
    }
    const sh = courierSheet(id);
    m.unbindTooltip();
    m.bindTooltip(`${esc(courierName(id))}${sh ? ' · ' + esc(sh.number) : ''} · ${esc(t('last_seen'))} ${esc(fmt.time(p.recorded_at))}${stale ? ' · ' + esc(t('stale')) : ''}`);
  }

  function setLive(on) {
    st.live = on;
    liveEl.dataset.live = String(on);
    fill(liveEl, on ? h('span.ok', '● ', t('live')) : h('span.muted', t('live_lost')));
  }

  async function loadPositions() {
    try {
      const res = await api.get('/api/v1/tracking/positions');
      for (const p of res.items || []) placeCourier(p);
    } catch (err) {
      console.warn('positions', err);
    }
  }

  async function followTracking() {
    while (st.alive) {
      const ctl = new AbortController();
      aborts.add(ctl);
      try {
        setLive(true);
        await api.stream('/api/v1/tracking/stream', (ev) => {
          const d = ev.json;
          if (!d) return;
          const type = ev.event !== 'message' ? ev.event : d.type;
          if (type === 'position' && d.location) {
            placeCourier({ courier_id: d.courier_id, location: d.location, recorded_at: d.at, stale: false });
            if (applySignal(d.courier_id, d.at, st.sheets)) renderSheets();
          } else if (type === 'sheet_progress') {
            if (applyProgress(d, st.sheets, st.orders)) {
              drawOrders();
              redrawDay();
            }
            scheduleRefresh();
          } else if (type === 'shift_started' || type === 'shift_ended') {
            scheduleRefresh();
          }
        }, ctl.signal);
      } catch (err) {
        if (!st.alive) return;
        console.warn('tracking stream', err);
      } finally {
        aborts.delete(ctl);
      }
      if (!st.alive) return;
      setLive(false);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  timers.push(setInterval(() => {
    for (const id of courierMarkers.keys()) styleCourier(id);
    if (st.sheets.some((s) => s.status === 'active')) renderSheets();
  }, 15000));

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
    if (narrow()) togglePanel(false);
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
      redrawDay();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function editZone(z) {
    stopDrawing();
    if (narrow()) togglePanel(false);
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
      toast(errorText(err), 'error');
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
      redrawDay();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  // --- legend -------------------------------------------------------------------
  function addLegend() {
    const legend = L.control({ position: 'bottomleft' });
    legend.onAdd = () => {
      const shown = ['new', 'ready', 'planned', 'out_for_delivery', 'delivered', 'failed_attempt', 'cancelled'];
      const stop = (state, inner) => h('span.stop-num.legend-stop', { class: 'st-' + state, style: { background: routeColors[0], color: textOn(routeColors[0]) } }, inner);
      const el = h('details.legend', { 'data-testid': 'legend', open: !narrow() && window.innerHeight >= 900 },
        h('summary', t('legend')),
        h('div.legend-cols',
          h('div', shown.map((s) => h('div', h('span.dot', { style: { background: statusColors[s] } }), statusName(s)))),
          h('div',
            h('div', stop('planned', '3'), t('stop_planned')),
            h('div', stop('current', '4'), t('stop_current')),
            h('div', stop('late', '5'), t('stop_late')),
            h('div', stop('delivered', icon('check', 10)), t('stop_delivered')),
            h('div', stop('failed', icon('cross', 10)), t('stop_failed')),
            h('div', h('span.left-pin.legend-left', icon('alert', 10)), t('legend_unassigned')),
            h('div', h('span.courier-pos.legend-courier', t('legend_initials')), t('couriers_live')),
            h('div', h('span.dot.sq', icon('home', 9)), t('depot_marker')))));
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
    st.fitted = false;
    await reloadAll();
  });

  await loadStatic();
  await reloadAll();
  requestAnimationFrame(() => { if (st.alive) map.invalidateSize(); });
  await loadPositions();
  followTracking();
  // #/map?courier=3 (from the couriers table) or #/map?order=12.
  const q = hashQuery();
  if (q.get('courier')) {
    const id = Number(q.get('courier'));
    const sh = courierSheet(id);
    const p = st.positions.get(id);
    if (p) map.setView([p.location.lat, p.location.lng], Math.max(map.getZoom(), 14), { animate: false });
    else if (sh && st.routeLines.get(sh.id)) map.fitBounds(st.routeLines.get(sh.id).getBounds().pad(0.1), { animate: false });
    if (sh) showSheet(sh.id);
    if (narrow() && sh) togglePanel(true);
  } else if (q.get('order')) {
    focusOrder(Number(q.get('order')));
  }
  root.dataset.ready = 'true';

  return () => {
    st.alive = false;
    clearTimeout(refreshTimer);
    resize.disconnect();
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
