import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNext, waiting, backoff, withoutProof, retryable, uuid, MAX_BATCH } from '../src/courier/queue.js';
import { applyEvent, applyResult, overlay, summary, nextStop, amountDue, expectedScans, compareScans, distanceM } from '../src/courier/day.js';

const ev = (seq, action = 'deliver', extra = {}) => ({ seq, login: 'c', type: 'event', event: { client_event_id: `e${seq}`, action, order_id: 1, at: 't', ...extra } });
const proof = (seq, id) => ({ seq, login: 'c', type: 'proof', order_id: 1, proof_id: id, kind: 'signature' });
const pings = (seq, n) => ({ seq, login: 'c', type: 'pings', key: 'k' + seq, pings: Array.from({ length: n }, () => ({ lat: 1, lng: 2 })) });

test('queue: proofs go before the events after them, events in order, pings last', () => {
  assert.equal(planNext([]), null);
  const items = [pings(1, 3), ev(2), ev(3), proof(4, 'p'), ev(5, 'deliver', { proof_ids: ['p'] }), pings(6, 2)];
  let next = planNext(items);
  assert.equal(next.kind, 'events');
  assert.deepEqual(next.items.map((i) => i.seq), [2, 3], 'up to the proof');
  next = planNext(items.filter((i) => i.seq > 3));
  assert.deepEqual([next.kind, next.item.seq], ['proof', 4]);
  next = planNext(items.filter((i) => i.seq > 4));
  assert.deepEqual(next.items.map((i) => i.seq), [5]);
  next = planNext([pings(1, 3), pings(6, 2)]);
  assert.deepEqual([next.kind, next.items.map((i) => i.seq)], ['pings', [1, 6]]);
  // Given out of order (as read back), the order is the seq.
  assert.deepEqual(planNext([ev(9), ev(7), ev(8)]).items.map((i) => i.seq), [7, 8, 9]);
});

test('queue: batches of at most MAX_BATCH events and 500 pings', () => {
  const many = Array.from({ length: MAX_BATCH + 30 }, (_, i) => ev(i + 1));
  assert.equal(planNext(many).items.length, MAX_BATCH);
  const p = [pings(1, 300), pings(2, 300), pings(3, 10)];
  assert.deepEqual(planNext(p).items.map((i) => i.seq), [1]);
  assert.deepEqual(planNext([pings(1, 900)]).items.map((i) => i.seq), [1], 'one large batch still goes');
});

test('queue: waiting counts actions, not proofs or pings', () => {
  assert.equal(waiting([ev(1), proof(2, 'p'), ev(3), pings(4, 9)]), 2);
});

test('queue: backoff doubles to a minute, with jitter', () => {
  const mid = () => 0.5;
  assert.equal(backoff(1, mid), 750);
  assert.equal(backoff(2, mid), 1500);
  assert.equal(backoff(3, mid), 3000);
  assert.equal(backoff(30, mid), 45000);
  assert.equal(backoff(30, () => 1), 60000);
  assert.equal(backoff(1, () => 0), 500);
});

test('queue: a refused proof leaves the events that named it', () => {
  const items = [ev(1, 'deliver', { proof_ids: ['a', 'b'] }), ev(2, 'fail', { proof_ids: ['a'] }), ev(3)];
  const changed = withoutProof(items, 'a');
  assert.deepEqual(changed.map((i) => [i.seq, i.event.proof_ids]), [[1, ['b']], [2, undefined]]);
  assert.deepEqual(items[0].event.proof_ids, ['a', 'b'], 'the items are not changed in place');
});

test('queue: retryable answers and ids', () => {
  for (const s of [0, 401, 408, 429, 500, 502, 503]) assert.ok(retryable(s), String(s));
  for (const s of [400, 404, 409, 413, 422]) assert.ok(!retryable(s), String(s));
  assert.match(uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

function day() {
  const stop = (id, seq, collect, goods) => ({ order_id: id, seq, status: 'planned', actions: [], collect, goods, report: null, location: { lat: 55.75, lng: 37.62 } });
  return {
    date: '2026-12-04', shift: null, cash_on_hand: { amount: 0, currency: 'RUB' },
    sheets: [{ id: 7, number: 'S7', barcode: 'S7', status: 'published', date: '2026-12-04', progress: {},
      stops: [
        stop(1, 1, { amount: 100000, currency: 'RUB', method: 'cash' }, [{ item: 0, qty: 2, barcode: 'A', price: 20000 }, { item: 1, qty: 1, barcode: 'B', price: 60000 }]),
        stop(2, 2, { amount: 50000, currency: 'RUB', method: 'card' }, [{ item: 0, qty: 1, barcode: 'C', price: 50000 }]),
        stop(3, 3, { amount: 0, currency: 'RUB', method: 'prepaid' }, [{ item: 0, qty: 1, barcode: '', price: 0 }]),
      ] }],
  };
}

test('day: the shift starts the sheet, events finish stops, cash on hand follows cash', () => {
  const d0 = day();
  let d = applyEvent(d0, { action: 'shift_start', at: 'T1', date: '2026-12-04' });
  assert.equal(d0.sheets[0].status, 'published', 'not changed in place');
  assert.equal(d.shift.status, 'open');
  assert.equal(d.sheets[0].status, 'active');
  assert.deepEqual(d.sheets[0].stops.map((s) => s.status), ['out_for_delivery', 'out_for_delivery', 'out_for_delivery']);
  assert.equal(nextStop(d).stop.order_id, 1);
  d = applyEvent(d, { action: 'arrive', order_id: 1, at: 'T2' });
  assert.deepEqual(d.sheets[0].stops[0].actions, ['deliver', 'fail']);
  d = applyEvent(d, { action: 'deliver', order_id: 1, at: 'T3', refused: [{ item: 0, qty: 1 }], collected: { amount: 70000, method: 'cash' } });
  assert.equal(d.sheets[0].stops[0].status, 'delivered');
  assert.equal(d.sheets[0].stops[0].report.amount_due, 80000);
  assert.equal(d.sheets[0].stops[0].report.short_at_door, 10000);
  assert.equal(d.cash_on_hand.amount, 70000);
  d = applyEvent(d, { action: 'deliver', order_id: 2, at: 'T4', collected: { amount: 50000, method: 'card', payment_ref: '77' } });
  assert.equal(d.cash_on_hand.amount, 70000, 'card is not cash on hand');
  assert.equal(nextStop(d).stop.order_id, 3);
  d = applyEvent(d, { action: 'fail', order_id: 3, at: 'T5', reason: 'reschedule', wished_date: '2026-12-06' });
  assert.equal(d.sheets[0].status, 'completed');
  assert.equal(nextStop(d), null);
  const s = summary(d);
  assert.deepEqual([s.delivered, s.failed, s.open, s.cash, s.card, s.short], [2, 1, 0, 70000, 50000, 10000]);
});

test('day: a sheet published after the shift began starts at the first action on one of its stops', () => {
  let d = applyEvent({ ...day(), sheets: [] }, { action: 'shift_start', at: 'T1', date: '2026-12-04' });
  d = { ...d, sheets: day().sheets }; // the sheet arrives with the next refresh, still published
  d = applyEvent(d, { action: 'arrive', order_id: 2, at: 'T2' });
  assert.equal(d.sheets[0].status, 'active');
  assert.equal(d.sheets[0].started_at, 'T2');
  assert.deepEqual(d.sheets[0].stops.map((s) => s.status), ['out_for_delivery', 'out_for_delivery', 'out_for_delivery']);
  assert.deepEqual(d.sheets[0].stops[1].actions, ['deliver', 'fail']);
  // Without an open shift nothing starts.
  const idle = applyEvent(day(), { action: 'arrive', order_id: 2, at: 'T2' });
  assert.equal(idle.sheets[0].status, 'published');
});

test('day: the end of the shift hands back the open stops', () => {
  let d = applyEvent(day(), { action: 'shift_start', at: 'T1' });
  d = applyEvent(d, { action: 'shift_end', at: 'T9', hand_back: [2, 3] });
  assert.equal(d.shift.status, 'ended');
  assert.deepEqual(d.sheets[0].stops.map((s) => s.status), ['out_for_delivery', 'failed_attempt', 'failed_attempt']);
  assert.deepEqual(summary(d).openIds, [1]);
});

test('day: the outbox on top of the server\'s day, marked pending; the answer wins', () => {
  const base = applyEvent(day(), { action: 'shift_start', at: 'T1' });
  const e = { client_event_id: 'x', action: 'deliver', order_id: 2, at: 'T2', collected: { amount: 50000, method: 'card', payment_ref: '1' } };
  const shown = overlay(base, [e]);
  assert.equal(shown.sheets[0].stops[1].status, 'delivered');
  assert.equal(shown.sheets[0].stops[1].pending, true);
  assert.equal(base.sheets[0].stops[1].status, 'out_for_delivery');
  // Applied: the stored day takes it.
  let d = applyResult(base, e, { status: 'applied', stop: { order_id: 2, status: 'delivered', actions: [], amount_due: 50000, collected: 50000 } });
  assert.equal(d.sheets[0].stops[1].status, 'delivered');
  assert.equal(d.sheets[0].stops[1].pending, false);
  // A conflict: the server's state of the stop, not the phone's guess.
  d = applyResult(base, { ...e, order_id: 1, action: 'fail', reason: 'no_answer' },
    { status: 'conflict', stop: { order_id: 1, status: 'delivered', actions: [], amount_due: 100000, collected: 100000 } });
  assert.equal(d.sheets[0].stops[0].status, 'delivered');
  // A duplicate of an applied event counts as applied.
  d = applyResult(base, e, { status: 'duplicate', original_status: 'applied', stop: null });
  assert.equal(d.sheets[0].stops[1].status, 'delivered');
});

test('day: what is due, what to scan, what is missing', () => {
  const st = day().sheets[0].stops[0];
  assert.equal(amountDue(st), 100000);
  assert.equal(amountDue(st, { 1: 1 }), 40000);
  assert.equal(amountDue(day().sheets[0].stops[2]), 0, 'prepaid');
  assert.deepEqual(expectedScans(st, { 0: 1 }), { A: 1, B: 1 });
  assert.deepEqual(compareScans({ A: 2, B: 1 }, ['A', 'Z']), { missing: ['A', 'B'], unexpected: ['Z'] });
  assert.ok(Math.abs(distanceM({ lat: 55.75, lng: 37.62 }, { lat: 55.76, lng: 37.62 }) - 1112) < 5);
});
