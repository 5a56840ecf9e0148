// Sets up a day under way on the demo city through the API, as phones and
// a dispatcher would: plan and publish; one courier starts, delivers a
// stop with cash, fails one, and sends a position near the next; another
// starts and is heard from far away, so that its stops run late.
import { Client, eventually } from './harness.mjs';

export async function planAndPublish(base, { limit = 3 } = {}) {
  const api = await new Client(base).login('dispatcher');
  const orders = (await api.get('/api/v1/orders?limit=500')).items;
  const date = orders[0].delivery_date;
  const depot = (await api.get('/api/v1/depots')).items[0];
  const plan = await api.post('/api/v1/plans', { date, depot_id: depot.id, time_limit_s: limit });
  const done = await eventually(async () => {
    const p = await api.get(`/api/v1/plans/${plan.id}`);
    return p.status === 'done' || p.status === 'failed' ? p : null;
  }, 120000, 'the plan');
  if (done.status !== 'done') throw new Error('plan failed: ' + done.error);
  await api.post(`/api/v1/plans/${plan.id}/publish`);
  const couriers = (await api.get('/api/v1/couriers')).items;
  const sheets = [];
  for (const s of done.sheets) sheets.push(await api.get(`/api/v1/route-sheets/${s.id}`));
  sheets.sort((a, b) => b.stops.length - a.stops.length);
  return { api, date, depot, plan: done, sheets, couriers, loginOf: (courierId) => couriers.find((c) => c.id === courierId).login };
}

/** The goods' barcodes of an order, each piece once. */
export function barcodes(o) {
  return o.items.flatMap((it) => (it.barcode ? Array(it.qty).fill(it.barcode) : []));
}

export async function deliver(phone, stop) {
  const o = stop.order;
  const ev = { client_event_id: crypto.randomUUID(), at: new Date().toISOString(), scanned_barcodes: barcodes(o) };
  if (o.cod.method !== 'prepaid' && o.cod.amount > 0) {
    ev.collected = { amount: o.cod.amount, method: o.cod.method, ...(o.cod.method === 'card' ? { payment_ref: 'E2E-1' } : {}) };
  }
  return phone.post(`/api/v1/courier/stops/${stop.order_id}/deliver`, ev);
}

export async function fail(phone, stop, reason = 'no_answer') {
  return phone.post(`/api/v1/courier/stops/${stop.order_id}/fail`, { client_event_id: crypto.randomUUID(), at: new Date().toISOString(), reason, comment: 'E2E' });
}

export async function ping(phone, lat, lng, agoS = 0) {
  return phone.post('/api/v1/courier/locations', { pings: [{ lat, lng, accuracy_m: 5, recorded_at: new Date(Date.now() - agoS * 1000).toISOString() }] });
}

/**
 * The day under way: sheet A (the longest) started, its first stop
 * delivered, its second failed, a position at its third; sheet B started
 * with a position 600 km away, so its stops are late by the live ETA.
 */
export async function dayUnderWay(base) {
  const day = await planAndPublish(base);
  const [a, b] = day.sheets;
  const phoneA = await new Client(base).login(day.loginOf(a.courier_id));
  await phoneA.post(`/api/v1/route-sheets/${a.id}/start`, {});
  await deliver(phoneA, a.stops[0]);
  await fail(phoneA, a.stops[1]);
  const next = a.stops[2].order.location;
  await ping(phoneA, next.lat + 0.002, next.lng + 0.002);
  const phoneB = await new Client(base).login(day.loginOf(b.courier_id));
  await phoneB.post(`/api/v1/route-sheets/${b.id}/start`, {});
  await ping(phoneB, 59.94, 30.31); // St Petersburg: hours away from every stop
  return { ...day, a, b, phoneA, phoneB };
}
