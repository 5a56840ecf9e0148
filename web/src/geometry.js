// Plane geometry for the map's drag and drop, in screen pixels. Pure
// (test/geometry.test.mjs).

/** Distance from p to the segment a-b; all {x, y}. */
export function distToSegment(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 === 0 ? 0 : ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/**
 * Where a stop dropped at point p goes. routes: [{id, depot: {x,y}, stops:
 * [{orderId, x, y}]}] in pixels (the stop being dragged left out of the list
 * of its own route). A drop on a stop (within stopRadius) takes that stop's
 * place; a drop on a line (within lineRadius) goes between its two ends.
 * Returns {routeId, position} with position 1-based, or null when p is near
 * nothing.
 */
export function dropTarget(p, routes, stopRadius = 22, lineRadius = 14) {
  let best = null;
  for (const r of routes) {
    r.stops.forEach((s, i) => {
      const d = Math.hypot(p.x - s.x, p.y - s.y);
      if (d <= stopRadius && (!best || best.kind !== 'stop' || d < best.d)) {
        best = { kind: 'stop', d, routeId: r.id, position: i + 1 };
      }
    });
  }
  if (best) return { routeId: best.routeId, position: best.position };
  for (const r of routes) {
    const pts = [r.depot, ...r.stops, r.depot].filter(Boolean);
    for (let i = 0; i + 1 < pts.length; i++) {
      const d = distToSegment(p, pts[i], pts[i + 1]);
      if (d <= lineRadius && (!best || d < best.d)) {
        // The segment after stop i (0 is the depot) inserts at i+1.
        const depotFirst = r.depot ? 1 : 0;
        best = { d, routeId: r.id, position: Math.min(i + 1 - depotFirst + 1, r.stops.length + 1) };
      }
    }
  }
  return best ? { routeId: best.routeId, position: Math.max(1, best.position) } : null;
}

/** A closed GeoJSON ring ([lng, lat] pairs) from Leaflet-style {lat, lng} vertices. */
export function closedRing(vertices) {
  const ring = vertices.map((v) => [round6(v.lng), round6(v.lat)]);
  if (ring.length > 0) {
    const [f, l] = [ring[0], ring[ring.length - 1]];
    if (f[0] !== l[0] || f[1] !== l[1]) ring.push([...f]);
  }
  return ring;
}

function round6(x) {
  return Math.round(x * 1e6) / 1e6;
}

/** A sheet's load against a courier's vehicle: {kg, l, stops, over: [...]}. */
export function sheetLoad(orders, vehicle) {
  const kg = orders.reduce((s, o) => s + (o?.weight_kg || 0), 0);
  const l = orders.reduce((s, o) => s + (o?.volume_l || 0), 0);
  const over = [];
  if (vehicle) {
    if (vehicle.capacity_kg > 0 && kg > vehicle.capacity_kg + 1e-9) over.push('kg');
    if (vehicle.capacity_l > 0 && l > vehicle.capacity_l + 1e-9) over.push('l');
    if (vehicle.max_stops > 0 && orders.length > vehicle.max_stops) over.push('stops');
  }
  return { kg, l, stops: orders.length, over };
}

/** Whether a stop's planned arrival misses its window (eta after eta_to). */
export function lateStop(stop) {
  if (!stop?.eta || !stop?.eta_to) return false;
  return new Date(stop.eta).getTime() > new Date(stop.eta_to).getTime() + 1000;
}
