// The day under way, as the map shows it: each stop's state, the orders on
// no route, the late stops, and the tracking stream's sheet_progress events
// applied to the sheets. Pure (test/day.test.mjs).

const finishedOk = new Set(['delivered']);
const finishedBad = new Set(['failed_attempt', 'refused', 'returned_to_depot']);

/** Whether an order's stop is finished (delivered, failed or cancelled). */
export function finished(order) {
  return !!order && (finishedOk.has(order.status) || finishedBad.has(order.status) || order.status === 'cancelled');
}

/** The order the courier of an active sheet is heading to: its first open stop. */
export function currentStop(sheet, orders) {
  if (sheet.status !== 'active') return null;
  const s = sheet.stops.find((x) => !finished(orders.get(x.order_id)) && !x.done);
  return s ? s.order_id : null;
}

/**
 * A stop's state: delivered, failed, cancelled (finished), late (its ETA is
 * past the window: live from the server on an active sheet, else planned),
 * current (the courier is heading there), or planned.
 */
export function stopState(sheet, stop, order, current = null) {
  if (order && finishedOk.has(order.status)) return 'delivered';
  if (order && finishedBad.has(order.status)) return 'failed';
  if (order && order.status === 'cancelled') return 'cancelled';
  const lateIds = sheet.progress?.late_orders || [];
  if (lateIds.includes(stop.order_id)) return 'late';
  if (sheet.status !== 'active' && stop.eta && stop.eta_to && new Date(stop.eta).getTime() > new Date(stop.eta_to).getTime() + 1000) return 'late';
  if (current === stop.order_id) return 'current';
  return 'planned';
}

/**
 * A sheet's counts: the server's progress when it has one, else counted
 * from the orders ({total, delivered, failed, cancelled, remaining, late}).
 */
export function counts(sheet, orders) {
  const p = sheet.progress;
  if (p) return { total: p.total, delivered: p.delivered, failed: p.failed, cancelled: p.cancelled || 0, remaining: p.remaining, late: p.late || 0 };
  const c = { total: 0, delivered: 0, failed: 0, cancelled: 0, remaining: 0, late: 0 };
  for (const s of sheet.stops) {
    const o = orders.get(s.order_id);
    c.total++;
    if (o && finishedOk.has(o.status)) c.delivered++;
    else if (o && finishedBad.has(o.status)) c.failed++;
    else if (o && o.status === 'cancelled') c.cancelled++;
    else c.remaining++;
  }
  return c;
}

/**
 * The orders on no route: ready orders of the day that no shown sheet
 * holds, with the reason the latest plan left each out ('' when it was
 * not in that plan).
 */
export function leftOut(orders, sheets, plan) {
  const onSheets = new Set(sheets.flatMap((s) => s.stops.map((x) => x.order_id)));
  const why = new Map((plan?.unassigned || []).map((u) => [u.order_id, u.reason]));
  return [...orders.values()]
    .filter((o) => o.status === 'ready' && !onSheets.has(o.id))
    .map((o) => ({ order: o, reason: why.get(o.id) || '' }))
    .sort((a, b) => (a.reason === '') - (b.reason === '') || a.order.id - b.order.id);
}

/**
 * The late stops of all sheets: [{sheet, stop, eta, windowTo}] in sheet and
 * stop order; eta is the arrival the server expects (live from the
 * courier's position) when it said, else the planned one.
 */
export function lateStops(sheets, orders) {
  const out = [];
  for (const sh of sheets) {
    const cur = currentStop(sh, orders);
    const live = new Map((sh.progress?.late_stops || []).map((l) => [l.order_id, l]));
    for (const s of sh.stops) {
      if (stopState(sh, s, orders.get(s.order_id), cur) !== 'late') continue;
      const l = live.get(s.order_id);
      out.push({ sheet: sh, stop: s, eta: l?.eta || s.eta, windowTo: l?.window_to || orders.get(s.order_id)?.time_window?.to || s.eta_to });
    }
  }
  return out;
}

/**
 * Applies a tracking stream sheet_progress event ({sheet_id, stop_id, status,
 * progress}) to the sheets and orders in place. Returns whether it changed
 * anything the page shows.
 */
export function applyProgress(ev, sheets, orders) {
  const sh = sheets.find((s) => s.id === ev.sheet_id);
  const o = orders.get(ev.stop_id);
  let changed = false;
  if (o && ev.status && o.status !== ev.status) {
    o.status = ev.status;
    changed = true;
  }
  if (sh && ev.progress) {
    const prev = sh.progress || { late_orders: [], last_signal_at: null, cancelled: 0 };
    const late = (prev.late_orders || []).filter((id) => !finished(orders.get(id)));
    const lateStops = (prev.late_stops || []).filter((l) => late.includes(l.order_id));
    sh.progress = { ...prev, ...ev.progress, late_orders: late, late_stops: lateStops, late: Math.min(ev.progress.late ?? late.length, late.length) };
    if (sh.status === 'published') sh.status = 'active';
    const stop = sh.stops.find((s) => s.order_id === ev.stop_id);
    if (stop && finished(o)) stop.done = true;
    changed = true;
  }
  return changed;
}

/** Notes a courier's position as the last signal of their active sheets. */
export function applySignal(courierId, at, sheets) {
  let changed = false;
  for (const sh of sheets) {
    if (sh.courier_id !== courierId || sh.status !== 'active') continue;
    const prev = sh.progress?.last_signal_at;
    if (!prev || new Date(at) > new Date(prev)) {
      sh.progress = { ...(sh.progress || { total: sh.stops.length, delivered: 0, failed: 0, cancelled: 0, remaining: sh.stops.length, late: 0, late_orders: [] }), last_signal_at: at };
      changed = true;
    }
  }
  return changed;
}
