import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stopState, currentStop, counts, leftOut, lateStops, applyProgress, applySignal } from '../src/day.js';

const stop = (id, extra = {}) => ({ order_id: id, seq: id, eta: '2026-11-23T08:00:00Z', eta_to: '2026-11-23T10:00:00Z', done: false, ...extra });
const orders = (pairs) => new Map(pairs.map(([id, status]) => [id, { id, status, location: { lat: 0, lng: 0 } }]));

test('each stop says what happened there', () => {
  const os = orders([[1, 'delivered'], [2, 'failed_attempt'], [3, 'out_for_delivery'], [4, 'out_for_delivery'], [5, 'cancelled']]);
  const sh = { id: 9, status: 'active', stops: [1, 2, 3, 4, 5].map((i) => stop(i)), progress: { late_orders: [4], late_stops: [{ order_id: 4, eta: '2026-11-23T11:00:00Z', window_to: '2026-11-23T10:00:00Z' }] } };
  const cur = currentStop(sh, os);
  assert.equal(cur, 3);
  assert.deepEqual(sh.stops.map((s) => stopState(sh, s, os.get(s.order_id), cur)), ['delivered', 'failed', 'current', 'late', 'cancelled']);
  const late = lateStops([sh], os);
  assert.equal(late.length, 1);
  assert.equal(late[0].eta, '2026-11-23T11:00:00Z');
  // A sheet not started: late by its planned ETA, no stop under way.
  const draft = { id: 10, status: 'published', stops: [stop(6, { eta: '2026-11-23T11:00:00Z' })] };
  assert.equal(stopState(draft, draft.stops[0], { status: 'planned' }, currentStop(draft, os)), 'late');
});

test('counts from the server or from the orders', () => {
  const os = orders([[1, 'delivered'], [2, 'refused'], [3, 'planned']]);
  const sh = { stops: [stop(1), stop(2), stop(3)] };
  assert.deepEqual(counts(sh, os), { total: 3, delivered: 1, failed: 1, cancelled: 0, remaining: 1, late: 0 });
  assert.equal(counts({ ...sh, progress: { total: 27, delivered: 18, failed: 0, cancelled: 0, remaining: 9, late: 2 } }, os).delivered, 18);
});

test('orders on no route, with the reason of the latest plan', () => {
  const os = orders([[1, 'ready'], [2, 'ready'], [3, 'ready'], [4, 'planned']]);
  const sheets = [{ stops: [stop(1)] }];
  const out = leftOut(os, sheets, { unassigned: [{ order_id: 3, reason: 'no_capacity' }] });
  assert.deepEqual(out.map((x) => [x.order.id, x.reason]), [[3, 'no_capacity'], [2, '']]);
});

test('a sheet_progress event updates the order and the counts; a position the last signal', () => {
  const os = orders([[1, 'out_for_delivery'], [2, 'out_for_delivery']]);
  const sheets = [{ id: 7, courier_id: 5, status: 'active', stops: [stop(1), stop(2)], progress: { total: 2, delivered: 0, failed: 0, cancelled: 0, remaining: 2, late: 1, late_orders: [1], late_stops: [{ order_id: 1 }], last_signal_at: null } }];
  assert.ok(applyProgress({ sheet_id: 7, stop_id: 1, status: 'delivered', progress: { total: 2, delivered: 1, failed: 0, remaining: 1, late: 1 } }, sheets, os));
  assert.equal(os.get(1).status, 'delivered');
  assert.equal(sheets[0].progress.delivered, 1);
  assert.deepEqual(sheets[0].progress.late_orders, [], 'a delivered stop is no longer late');
  assert.equal(sheets[0].progress.late, 0);
  assert.ok(sheets[0].stops[0].done);
  assert.ok(applySignal(5, '2026-11-23T09:00:00Z', sheets));
  assert.equal(sheets[0].progress.last_signal_at, '2026-11-23T09:00:00Z');
  assert.ok(!applySignal(5, '2026-11-23T08:00:00Z', sheets), 'an older position changes nothing');
});
