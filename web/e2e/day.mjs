// Sets up a day under way on the demo city through the API, as phones and
// a dispatcher would: plan and publish; one courier starts, delivers a
// stop with cash, fails one, and sends a position near the next; another
// starts and is heard from far away, so that its stops run late.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, eventually, artifacts } from './harness.mjs';

/** The three screens the console must work on. */
export const sizes = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'tablet', width: 1024, height: 768 },
  { name: 'phone', width: 390, height: 844 },
];

/** A page of the given size (Russian locale) whose script errors are collected. */
export async function pageAt(browser, size) {
  const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, locale: 'ru-RU', hasTouch: false });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text()); });
  return page;
}

/** A screenshot in test-artifacts/e2e/, named by the point and the size. */
export async function snap(page, name, size) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}-${size.name}.png`) });
}

// A 60x20 PNG with a line on it: a courier's signature.
export const SIGNATURE_PNG = 'iVBORw0KGgoAAAANSUhEUgAAADwAAAAUCAAAAAD0aAH1AAAAJklEQVR4nGJioACMah7VTFjzfxBJJkG2xiGvm9zQHoGaAQEAAP//LTU74y5a/XsAAAAASUVORK5CYII=';

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

export async function deliver(phone, stop, extra = {}) {
  const o = stop.order;
  const ev = { client_event_id: crypto.randomUUID(), at: new Date().toISOString(), scanned_barcodes: barcodes(o), ...extra };
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
  // The first delivery is signed for.
  const sig = crypto.randomUUID();
  await phoneA.upload(`/api/v1/courier/stops/${a.stops[0].order_id}/proofs`, { kind: 'signature', proof_id: sig }, Buffer.from(SIGNATURE_PNG, 'base64'), 'image/png');
  await deliver(phoneA, a.stops[0], { proof_ids: [sig], recipient_name: 'Анна' });
  await fail(phoneA, a.stops[1]);
  const next = a.stops[2].order.location;
  await ping(phoneA, next.lat + 0.002, next.lng + 0.002);
  const phoneB = await new Client(base).login(day.loginOf(b.courier_id));
  await phoneB.post(`/api/v1/route-sheets/${b.id}/start`, {});
  await ping(phoneB, 59.94, 30.31); // St Petersburg: hours away from every stop
  return { ...day, a, b, phoneA, phoneB };
}

/**
 * Finishes a started sheet: every open stop delivered, the cash ones
 * collected in full except the first, which is collected short by `short`
 * (the courier reports less than due). Returns {sheet, due, reported}.
 */
export async function finishSheet(api, phone, sheetId, short = 50000) {
  const sheet = await api.get(`/api/v1/route-sheets/${sheetId}`);
  let shorted = false;
  for (const s of sheet.stops) {
    const o = await api.get(`/api/v1/orders/${s.order_id}`);
    if (o.status !== 'out_for_delivery' || o.route_sheet_id !== sheetId) continue; // finished, or taken off the sheet
    const ev = { client_event_id: crypto.randomUUID(), at: new Date().toISOString(), scanned_barcodes: barcodes(o) };
    if (o.cod.method !== 'prepaid' && o.cod.amount > 0) {
      let amount = o.cod.amount;
      if (o.cod.method === 'cash' && !shorted && amount > short) { amount -= short; shorted = true; }
      ev.collected = { amount, method: o.cod.method, ...(o.cod.method === 'card' ? { payment_ref: 'E2E-' + o.id } : {}) };
    }
    await phone.post(`/api/v1/courier/stops/${s.order_id}/deliver`, ev);
  }
  return api.get(`/api/v1/route-sheets/${sheetId}`);
}
