import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distToSegment, dropTarget, closedRing, sheetLoad, lateStop } from '../src/geometry.js';

test('distance to a segment', () => {
  assert.equal(distToSegment({ x: 5, y: 5 }, { x: 0, y: 0 }, { x: 10, y: 0 }), 5);
  assert.equal(distToSegment({ x: -3, y: 4 }, { x: 0, y: 0 }, { x: 10, y: 0 }), 5);
  assert.equal(distToSegment({ x: 1, y: 1 }, { x: 1, y: 1 }, { x: 1, y: 1 }), 0);
});

test('where a dropped stop goes', () => {
  const routes = [
    { id: 1, depot: { x: 0, y: 0 }, stops: [{ x: 100, y: 0 }, { x: 200, y: 0 }] },
    { id: 2, depot: { x: 0, y: 0 }, stops: [{ x: 0, y: 100 }, { x: 0, y: 200 }, { x: 0, y: 300 }] },
  ];
  for (const [p, want] of [
    [{ x: 102, y: 3 }, { routeId: 1, position: 1 }], // on stop 1 of route 1: takes its place
    [{ x: 0, y: 305 }, { routeId: 2, position: 3 }], // on stop 3 of route 2
    [{ x: 150, y: 5 }, { routeId: 1, position: 2 }], // on the line between stops 1 and 2
    [{ x: 50, y: 2 }, { routeId: 1, position: 1 }], // between the depot and stop 1
    [{ x: 4, y: 250 }, { routeId: 2, position: 3 }], // between stops 2 and 3 of route 2
    [{ x: 100, y: 100 }, null], // near nothing
  ]) {
    assert.deepEqual(dropTarget(p, routes), want, JSON.stringify(p));
  }
  // The segment from the last stop back to the depot appends.
  assert.deepEqual(dropTarget({ x: 50, y: 52 }, [{ id: 3, depot: { x: 0, y: 0 }, stops: [{ x: 100, y: 0 }, { x: 100, y: 100 }] }]), { routeId: 3, position: 3 });
  // A route without stops: the drop near its depot line is position 1.
  assert.deepEqual(dropTarget({ x: 0, y: 0 }, [{ id: 4, depot: { x: 0, y: 0 }, stops: [] }]), { routeId: 4, position: 1 });
});

test('rings close and loads check capacity', () => {
  assert.deepEqual(closedRing([{ lat: 1, lng: 2 }, { lat: 3, lng: 4 }, { lat: 5, lng: 6.1234567 }]), [[2, 1], [4, 3], [6.123457, 5], [2, 1]]);
  const load = sheetLoad([{ weight_kg: 10, volume_l: 5 }, { weight_kg: 20, volume_l: 5 }], { capacity_kg: 25, capacity_l: 0, max_stops: 1 });
  assert.deepEqual(load, { kg: 30, l: 10, stops: 2, over: ['kg', 'stops'] });
  assert.equal(lateStop({ eta: '2026-01-01T10:00:00Z', eta_to: '2026-01-01T09:00:00Z' }), true);
  assert.equal(lateStop({ eta: '2026-01-01T09:00:00Z', eta_to: '2026-01-01T09:00:00Z' }), false);
});
