// The courier's day as the phone shows it: the server's last answer to
// GET /api/v1/courier/today with the actions not yet sent applied on top,
// so the screen follows every tap at once, online or not. Pure: no DOM, no
// storage (test/day.test.mjs).

/** Statuses after which there is nothing more to report at a stop. */
export const FINISHED = ['delivered', 'failed_attempt', 'refused', 'returned_to_depot', 'cancelled'];
export const FAILED = ['failed_attempt', 'refused', 'returned_to_depot'];

/** The reasons a courier may give for a failed delivery (the API's list). */
export const FAIL_REASONS = ['no_answer', 'customer_absent', 'refused', 'wrong_address', 'damaged', 'reschedule'];

/** An empty day (before the first answer from the server). */
export function emptyDay(date = '') {
  return { date, courier: null, shift: null, cash_on_hand: { amount: 0, currency: '' }, sheets: [] };
}

/** Every stop of the day in route order: [{sheet, stop}]. */
export function allStops(day) {
  const out = [];
  for (const sheet of day?.sheets || []) for (const stop of sheet.stops) out.push({ sheet, stop });
  return out;
}

export function findStop(day, orderId) {
  return allStops(day).find((s) => s.stop.order_id === orderId) || null;
}

export const isFinished = (stop) => FINISHED.includes(stop.status);

/** The next stop to work: the first one still open, in route order. */
export function nextStop(day) {
  return allStops(day).find((s) => !isFinished(s.stop)) || null;
}

/** Whether the shift is open on the phone (sent or not). */
export const shiftOpen = (day) => day?.shift?.status === 'open';

/**
 * What the customer pays at the door: nothing when prepaid, else the
 * order's amount less the price of the refused pieces (never below zero).
 * refused: {lineIndex: qty}.
 */
export function amountDue(stop, refused = {}) {
  if (stop.collect.method === 'prepaid') return 0;
  let due = stop.collect.amount;
  for (const g of stop.goods) due -= (refused[g.item] || 0) * (g.price || 0);
  return Math.max(due, 0);
}

/** The barcodes to scan, one per piece handed over: {barcode: count}. */
export function expectedScans(stop, refused = {}) {
  const want = {};
  for (const g of stop.goods) {
    if (!g.barcode) continue;
    const n = g.qty - (refused[g.item] || 0);
    if (n > 0) want[g.barcode] = (want[g.barcode] || 0) + n;
  }
  return want;
}

/** Compares the scanned codes with the expected ones: {missing: [], unexpected: []}, one entry per piece. */
export function compareScans(want, scanned) {
  const got = {};
  for (const b of scanned) got[b] = (got[b] || 0) + 1;
  const missing = [];
  const unexpected = [];
  for (const [code, n] of Object.entries(want)) for (let i = got[code] || 0; i < n; i++) missing.push(code);
  for (const [code, n] of Object.entries(got)) for (let i = want[code] || 0; i < n; i++) unexpected.push(code);
  return { missing, unexpected };
}

/** The refused goods of a deliver event as {line: qty}. */
function refusedMap(ev) {
  const m = {};
  for (const r of ev.refused || []) m[r.item] = (m[r.item] || 0) + r.qty;
  return m;
}

/** Starts a published sheet at at: its planned stops go out for delivery. */
function startSheet(sheet, at) {
  sheet.status = 'active';
  sheet.started_at = at;
  for (const s of sheet.stops) {
    if (s.status === 'planned') {
      s.status = 'out_for_delivery';
      s.actions = ['arrive', 'deliver', 'fail'];
      s.report = null;
    }
  }
  recount(sheet);
}

function recount(sheet) {
  const p = { total: 0, delivered: 0, failed: 0, cancelled: 0, remaining: 0 };
  for (const s of sheet.stops) {
    p.total++;
    if (s.status === 'delivered') p.delivered++;
    else if (FAILED.includes(s.status)) p.failed++;
    else if (s.status === 'cancelled') p.cancelled++;
    else p.remaining++;
  }
  sheet.progress = p;
  if (sheet.status === 'active' && p.remaining === 0) {
    sheet.status = 'completed';
  }
}

/**
 * Applies one courier event to the day as the server would, and returns the
 * new day (the argument is not changed). pending marks what it touched as
 * not yet sent.
 */
export function applyEvent(day, ev, { pending = false } = {}) {
  const d = structuredClone(day);
  const at = ev.at;
  switch (ev.action) {
    case 'shift_start': {
      const date = ev.date || d.date;
      d.shift = { id: 0, date, status: 'open', started_at: at, ended_at: null, start_position: ev.position || null, end_position: null, pending };
      for (const sheet of d.sheets) {
        if (sheet.status === 'published' && sheet.date === date) startSheet(sheet, at);
      }
      return d;
    }
    case 'shift_end': {
      for (const id of ev.hand_back || []) {
        const f = findStop(d, id);
        if (!f || isFinished(f.stop)) continue;
        f.stop.status = 'failed_attempt';
        f.stop.actions = [];
        f.stop.report = { ...(f.stop.report || {}), finished_at: at, fail_reason: 'handed_back', amount_due: 0, collected: null };
        f.stop.pending = pending;
      }
      for (const sheet of d.sheets) recount(sheet);
      if (d.shift) d.shift = { ...d.shift, status: 'ended', ended_at: at, end_position: ev.position || null, pending };
      for (const s of allStops(d)) s.stop.actions = [];
      return d;
    }
  }
  const f = findStop(d, ev.order_id);
  if (!f) return d;
  const { sheet, stop } = f;
  // A sheet published after the shift began starts at the first action on one of its stops, as on the server.
  if (sheet.status === 'published' && d.shift?.status === 'open' && d.shift.date === sheet.date) startSheet(sheet, at);
  stop.pending = pending || stop.pending || false;
  if (ev.action === 'arrive') {
    stop.report = { ...(stop.report || {}), arrived_at: at };
    stop.actions = ['deliver', 'fail'];
  } else if (ev.action === 'deliver') {
    const refused = refusedMap(ev);
    const due = amountDue(stop, refused);
    stop.status = 'delivered';
    stop.actions = [];
    stop.report = {
      ...(stop.report || {}), finished_at: at, recipient_name: ev.recipient_name || '', amount_due: due,
      collected: ev.collected ? { amount: ev.collected.amount, method: ev.collected.method, payment_ref: ev.collected.payment_ref || '' } : null,
      short_at_door: Math.max(due - (ev.collected?.amount || 0), 0), refused: ev.refused || [], proof_ids: ev.proof_ids || [],
      fail_reason: '', fail_comment: '', wished_date: '',
    };
    stop.collect = { ...stop.collect, amount: due };
    if (ev.collected?.method === 'cash') d.cash_on_hand = { ...d.cash_on_hand, amount: d.cash_on_hand.amount + ev.collected.amount };
  } else if (ev.action === 'fail') {
    stop.status = ev.reason === 'refused' ? 'refused' : 'failed_attempt';
    stop.actions = [];
    stop.report = {
      ...(stop.report || {}), finished_at: at, fail_reason: ev.reason, fail_comment: ev.comment || '', wished_date: ev.wished_date || '',
      amount_due: 0, collected: null, proof_ids: ev.proof_ids || [],
    };
  }
  recount(sheet);
  return d;
}

/** The day with the queued events on top: what the screen shows. */
export function overlay(day, events) {
  let d = day;
  for (const ev of events) d = applyEvent(d, ev, { pending: true });
  return d;
}

/**
 * Takes the server's answer to a sent event into the stored day: an
 * applied event (or the duplicate of one) is applied; the stop's state
 * from the answer (applied or not) wins over the phone's guess.
 */
export function applyResult(day, ev, res) {
  const ok = res.status === 'applied' || (res.status === 'duplicate' && res.original_status === 'applied');
  let d = ok ? applyEvent(day, ev) : structuredClone(day);
  if (res.stop) {
    const f = findStop(d, res.stop.order_id);
    if (f) {
      f.stop.status = res.stop.status;
      f.stop.actions = res.stop.actions || [];
      f.stop.pending = false;
      if (!FINISHED.includes(res.stop.status) || res.stop.status === 'cancelled') f.stop.collect = { ...f.stop.collect, amount: res.stop.amount_due };
      recount(f.sheet);
    }
  }
  if (ok && res.shift) {
    d.shift = { ...(d.shift || {}), ...res.shift, pending: false };
    if (!res.shift.status) d.shift.status = res.shift.ended_at ? 'ended' : 'open';
  }
  for (const id of res.completed_sheets || []) {
    const sheet = d.sheets.find((s) => s.id === id);
    if (sheet) sheet.status = 'completed';
  }
  return d;
}

/** The day's figures for the end of the shift. */
export function summary(day) {
  const s = { stops: 0, delivered: 0, failed: 0, open: 0, cash: day?.cash_on_hand?.amount || 0, card: 0, collectedCash: 0, short: 0, openIds: [] };
  for (const { stop } of allStops(day)) {
    s.stops++;
    if (stop.status === 'delivered') {
      s.delivered++;
      const c = stop.report?.collected;
      if (c?.method === 'card') s.card += c.amount;
      if (c?.method === 'cash') s.collectedCash += c.amount;
      s.short += stop.report?.short_at_door || 0;
    } else if (FAILED.includes(stop.status)) {
      s.failed++;
    } else if (stop.status !== 'cancelled') {
      s.open++;
      s.openIds.push(stop.order_id);
    }
  }
  return s;
}

/** Metres between two {lat, lng} (haversine). */
export function distanceM(a, b) {
  if (!a || !b) return null;
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}
