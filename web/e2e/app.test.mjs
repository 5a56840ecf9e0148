// End-to-end: the courier app (/app/) in Debian's chromium with a phone
// profile (390x844, touch, a geolocation override) against a courierd
// started here with the demo city. Screenshots go to test-artifacts/e2e/.
//
//   setup (API, as the dispatcher): plan the demo day and publish it.
//   the courier: logs in, starts the shift, delivers two stops online
//   (goods scanned by typed entry, a signature drawn with the pointer, the
//   amount typed), goes offline (the browser context), delivers and fails
//   the other stops (card with a slip, a refused piece, a photo, a
//   reschedule with its date), closes the page and opens it again offline
//   and finds the outbox intact, goes online and watches it drain; ends the
//   shift and shows the sheet's barcode.
//   checks (API): every event applied exactly once (the same events sent
//   again are all duplicates of applied ones, each order has one final
//   status), the sheet completed, the cashier's scan of the barcode read off
//   the phone's screen shows the cash collected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startCourierd, launchBrowser, shot, Client, eventually, artifacts } from './harness.mjs';
import { decode } from '../src/courier/code128.js';

let server;
let browser;
const state = {};

before(async () => {
  server = await startCourierd();
  // A fake camera: the browser's own test device, so the app's camera scanner can be driven.
  browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A phone: 390x844, touch, Russian, at the depot (Paveletskaya), location allowed unless told. */
async function phone({ geolocation = true, locale = 'ru-RU', camera = false } = {}) {
  const permissions = [];
  if (geolocation) permissions.push('geolocation');
  if (camera) permissions.push('camera');
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale,
    geolocation: { latitude: 55.7296, longitude: 37.6453, accuracy: 12 }, permissions, serviceWorkers: 'allow',
  });
  return context;
}

async function open(context) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    const text = m.text();
    // Failed loads while offline, and 4xx answers the flow expects, are not page errors.
    if (m.type() === 'error' && !text.startsWith('Failed to load resource') && !text.includes('ERR_INTERNET_DISCONNECTED')) page.errors.push(text);
  });
  return page;
}

async function login(page, base, who) {
  await page.goto(base + '/app/');
  await page.locator('#login').fill(who);
  await page.locator('#password').fill('demo');
  await page.locator('[data-testid=login-submit]').tap();
  await page.locator('main.screen[data-ready=true]').waitFor({ timeout: 30000 });
}

/** The outbox as the app keeps it (IndexedDB), without blobs. */
function outbox(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('courier-app');
    r.onsuccess = () => {
      const q = r.result.transaction('queue').objectStore('queue').getAll();
      q.onsuccess = () => { resolve(q.result.map((i) => ({ seq: i.seq, type: i.type, event: i.event, proof_id: i.proof_id, kind: i.kind, order_id: i.order_id }))); r.result.close(); };
      q.onerror = () => reject(q.error);
    };
    r.onerror = () => reject(r.error);
  }));
}

function shotPath(name) {
  mkdirSync(artifacts, { recursive: true });
  return path.join(artifacts, name + '.png');
}

const waitingCount = async (page) => Number((await page.locator('[data-testid=net]').getAttribute('data-waiting')) || 0);

/** Draws a signature: three strokes with the pointer. */
async function sign(page) {
  const c = page.locator('[data-testid=signature]');
  await c.scrollIntoViewIfNeeded();
  const b = await c.boundingBox();
  const strokes = [[[0.1, 0.6], [0.2, 0.3], [0.3, 0.7], [0.4, 0.35]], [[0.45, 0.5], [0.6, 0.3], [0.7, 0.65]], [[0.75, 0.6], [0.9, 0.4]]];
  for (const s of strokes) {
    await page.mouse.move(b.x + b.width * s[0][0], b.y + b.height * s[0][1]);
    await page.mouse.down();
    for (const [x, y] of s.slice(1)) await page.mouse.move(b.x + b.width * x, b.y + b.height * y, { steps: 6 });
    await page.mouse.up();
  }
}

/** Opens a stop from the day's list. */
async function openStop(page, id) {
  await page.locator('[data-testid=home]').waitFor();
  await page.locator(`[data-testid=stop-row][data-order="${id}"]`).tap();
  await page.locator(`[data-testid=stop][data-order="${id}"]`).waitFor();
}

/** Scans every piece of a stop by typing its barcode and Enter, except `skip` pieces of line 0. */
async function scanAll(page, stop, skip = 0, wedge = false) {
  for (const g of stop.goods) {
    const n = g.qty - (g.item === 0 ? skip : 0);
    for (let i = 0; i < n; i++) {
      if (wedge) {
        // A Bluetooth scanner types fast and presses Enter, wherever the focus is.
        await page.locator('[data-testid=deliver-form] h2').click();
        await page.keyboard.type(g.barcode, { delay: 8 });
        await page.keyboard.press('Enter');
        continue;
      }
      await page.locator('#scan').fill(g.barcode);
      await page.keyboard.press('Enter');
    }
  }
}

/**
 * What the day test does at each stop of a sheet: a, b and c are paid in
 * cash, byCard by card with a photo, refusedPiece has a piece refused at the
 * door; null when the sheet lacks one of them.
 */
function roles(stops) {
  const cash = stops.filter((s) => s.collect.method === 'cash' && s.collect.amount > 0);
  if (cash.length < 3) return null;
  const [a, b, c] = cash;
  const rest = stops.filter((s) => s !== a && s !== b && s !== c);
  const refusedPiece = rest.find((s) => s.goods[0]?.qty > 1 && s.collect.method !== 'prepaid');
  const byCard = rest.find((s) => s !== refusedPiece && s.collect.method !== 'prepaid' && s.collect.amount > 0);
  return refusedPiece && byCard ? { a, b, c, byCard, refusedPiece } : null;
}

/** Delivers a stop through the screens. opts: method, amount (minor units), slip, refuse (pieces of line 0), photo, recipient. */
async function deliver(page, stop, opts = {}) {
  await openStop(page, stop.order_id);
  await page.locator('[data-testid=deliver]').tap();
  await page.locator('[data-testid=deliver-form]').waitFor();
  // A code that is not in the order is refused on the spot.
  await page.locator('#scan').fill('0000000000000');
  await page.keyboard.press('Enter');
  assert.match(await page.locator('[data-testid=scan-feedback]').textContent(), /0000000000000/);
  for (let i = 0; i < (opts.refuse || 0); i++) await page.locator('[data-testid=good][data-item="0"] [data-testid=refused-plus]').tap();
  await scanAll(page, stop, opts.refuse || 0, opts.wedge);
  for (const g of stop.goods.filter((x) => x.barcode)) {
    const need = g.qty - (g.item === 0 ? opts.refuse || 0 : 0);
    assert.equal(await page.locator(`[data-testid=good][data-item="${g.item}"] [data-testid=scan-count]`).textContent(), `${need}/${need}`);
  }
  if (stop.collect.method !== 'prepaid') {
    // The order's own method is chosen already; the courier may switch.
    const method = opts.method || stop.collect.method;
    if (method === 'card') {
      await page.locator('[data-testid=method-card]').tap();
      assert.ok(await page.locator('[data-testid=confirm-deliver]').isDisabled(), 'card needs the slip number');
      await page.locator('[data-testid=slip]').fill(opts.slip || '000777');
    }
    await page.locator('[data-testid=amount]').fill((opts.amount / 100).toFixed(2).replace('.', ','));
  }
  if (opts.recipient) await page.locator('[data-testid=recipient]').fill(opts.recipient);
  if (opts.sign !== false) await sign(page);
  if (opts.photo) {
    const jpeg = await page.evaluate(async () => {
      const c = new OffscreenCanvas(640, 480);
      const g = c.getContext('2d');
      g.fillStyle = '#c8a165';
      g.fillRect(0, 0, 640, 480);
      g.fillStyle = '#333';
      g.fillRect(200, 150, 240, 180);
      const b = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
      return [...new Uint8Array(await b.arrayBuffer())];
    });
    await page.locator('[data-testid=photo-input]').setInputFiles({ name: 'door.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg) });
    await page.locator('[data-testid=photo-preview]').waitFor();
  }
  const confirm = page.locator('[data-testid=confirm-deliver]');
  await confirm.scrollIntoViewIfNeeded();
  if (opts.shot) await page.screenshot({ path: shotPath(opts.shot), fullPage: true });
  assert.equal(await confirm.isDisabled(), false, await page.locator('[data-testid=deliver-hint]').textContent());
  await confirm.tap();
  await page.locator('[data-testid=home]').waitFor();
  await page.locator(`[data-testid=stop-row][data-order="${stop.order_id}"][data-status=delivered]`).waitFor();
}

/** Reports a stop failed through the screens. */
async function fail(page, stop, reason, opts = {}) {
  const { date, comment } = opts;
  await openStop(page, stop.order_id);
  await page.locator('[data-testid=fail]').tap();
  await page.locator(`[data-testid=reason-${reason}]`).tap();
  if (date) await page.locator('[data-testid=wished-date]').fill(date);
  if (comment) await page.locator('[data-testid=comment]').fill(comment);
  if (opts.shot) await page.screenshot({ path: shotPath(opts.shot), fullPage: true });
  await page.locator('[data-testid=confirm-fail]').tap();
  await page.locator('[data-testid=home]').waitFor();
  await page.locator(`[data-testid=stop-row][data-order="${stop.order_id}"]:is([data-status=failed_attempt], [data-status=refused])`).waitFor();
}

test('setup: the dispatcher plans the demo day and publishes it', { timeout: 180000 }, async () => {
  const api = await new Client(server.base).login('dispatcher');
  const cfg = await (await fetch(server.base + '/app/config.json')).json();
  assert.ok(cfg.date, 'the demo day is in config.json');
  const depot = (await api.get('/api/v1/depots')).items[0];
  const plan = await api.call('POST', '/api/v1/plans', { date: cfg.date, depot_id: depot.id, time_limit_s: 5 }, 202);
  const done = await eventually(async () => {
    const p = await api.get(`/api/v1/plans/${plan.id}`);
    if (p.status === 'failed') throw new Error('planning failed: ' + JSON.stringify(p).slice(0, 300));
    return p.status === 'done' ? p : null;
  }, 120000, 'the plan is done');
  await api.post(`/api/v1/plans/${done.id}/publish`, {});
  const sheets = (await api.get(`/api/v1/route-sheets?date=${cfg.date}&status=published`)).items;
  assert.ok(sheets.length >= 2, 'published sheets');
  // The courier of a sheet with at least 6 stops, 3 of them with cash to collect, the smallest such.
  const full = [];
  for (const s of sheets) full.push(await api.get(`/api/v1/route-sheets/${s.id}`));
  const couriers = (await api.get('/api/v1/couriers')).items;
  const phoneApi = {};
  let best = null;
  for (const sh of full) {
    const login = couriers.find((c) => c.id === sh.courier_id).login;
    phoneApi[login] ??= await new Client(server.base).login(login);
    const day = await phoneApi[login].get(`/api/v1/courier/today?date=${cfg.date}`);
    const sheet = day.sheets.find((x) => x.id === sh.id);
    if (sheet.stops.length >= 6 && roles(sheet.stops) && (!best || sheet.stops.length < best.sheet.stops.length)) best = { login, sheet };
  }
  assert.ok(best, 'a sheet with 6 stops: 3 in cash, one to pay by card, one with a piece to refuse');
  Object.assign(state, { cfg, login: best.login, sheet: best.sheet, others: full.filter((s) => s.id !== best.sheet.id), couriers });
});

test('the courier\'s day on the phone: online, offline, reopened offline, drained, exactly once', { timeout: 300000 }, async () => {
  assert.ok(state.sheet, 'the setup published a sheet');
  const { base } = server;
  const { sheet, login: who } = state;
  const stops = sheet.stops;
  const context = await phone();
  let page = await open(context);
  await login(page, base, who);
  await page.locator('[data-testid=start-shift]').waitFor();
  assert.equal(await page.locator('[data-testid=stop-row]').count(), stops.length);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru', 'the phone\'s language');
  await shot(page, 'app-01-day-before-shift');
  // The service worker controls the page: the app's files are kept for offline.
  await eventually(() => page.evaluate(() => !!navigator.serviceWorker.controller), 15000, 'the service worker controls the page');
  // Installable: chromium finds nothing missing (manifest, icons, service
  // worker); a test browser's context is incognito, which is no fault of the app.
  const cdp = await context.newCDPSession(page);
  const manifest = await cdp.send('Page.getAppManifest');
  assert.deepEqual(manifest.errors, [], 'the manifest parses');
  const install = (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
  assert.deepEqual(install, [], 'installable');
  await cdp.detach();

  // Start the shift: the stops go out for delivery, the next one first.
  await page.locator('[data-testid=start-shift]').tap();
  await page.locator('[data-testid=next-stop]').waitFor();
  assert.equal(Number(await page.locator('[data-testid=next-stop]').getAttribute('data-order')), stops[0].order_id);
  // Call the customer and open navigation from the next stop: the phone's dialer and its own map app.
  const nextCall = await page.locator('[data-testid=next-stop] [data-testid=call]').getAttribute('href');
  assert.equal(nextCall, 'tel:' + stops[0].customer.phone.replace(/[^\d+]/g, ''));
  const nextNav = await page.locator('[data-testid=next-stop] [data-testid=navigate]').getAttribute('href');
  assert.ok(nextNav.startsWith(`geo:${stops[0].location.lat},${stops[0].location.lng}?q=`), nextNav);
  // Large touch targets: the main buttons of the screen are at least 44 px high.
  for (const id of ['open-next', 'call', 'navigate']) {
    // The screen redraws when the shift start's answer comes: measure what is there then.
    await eventually(async () => {
      const box = await page.locator(`[data-testid=next-stop] [data-testid=${id}]`).boundingBox();
      return box && box.height >= 44;
    }, 10000, `${id} at least 44 px high`);
  }
  const courierApi = await new Client(base).login(who);
  await eventually(async () => (await courierApi.get('/api/v1/courier/today')).shift?.status === 'open', 15000, 'the shift is open on the server');
  await eventually(async () => (await waitingCount(page)) === 0, 15000, 'nothing waiting');
  assert.match(await page.locator('[data-testid=cash-on-hand]').textContent(), /0,00/);
  // The phone's position reaches the dispatcher as soon as the shift starts.
  const me = state.couriers.find((x) => x.login === who);
  const office = await new Client(base).login('dispatcher');
  const seen = await eventually(() => office.get(`/api/v1/couriers/${me.id}/location`).catch(() => null), 15000, 'the courier\'s position');
  assert.ok(Math.abs(seen.location.lat - 55.7296) < 1e-4 && Math.abs(seen.location.lng - 37.6453) < 1e-4, JSON.stringify(seen));
  await shot(page, 'app-02-shift-started');

  const cash = stops.filter((s) => s.collect.method === 'cash' && s.collect.amount > 0);
  const [a, b] = cash;
  // --- Online: two cash stops, the goods scanned by typing, signed, the amount typed.
  await page.locator(`[data-testid=stop-row][data-order="${a.order_id}"]`).tap();
  await shot(page, 'app-03-stop');
  await page.locator('[data-testid=arrive]').tap();
  await page.locator('[data-testid=arrived]').waitFor();
  await page.locator('[data-testid=back]').tap();
  await deliver(page, a, { amount: a.collect.amount, recipient: 'Получатель А', shot: 'app-04-deliver-form' });
  await shot(page, 'app-05-delivered-online');
  await deliver(page, b, { amount: b.collect.amount, wedge: true });
  await eventually(async () => (await waitingCount(page)) === 0, 15000, 'the online deliveries are sent');
  let t = await courierApi.get('/api/v1/courier/today');
  let st = (id) => t.sheets.flatMap((x) => x.stops).find((s) => s.order_id === id);
  assert.equal(st(a.order_id).status, 'delivered');
  assert.equal(st(b.order_id).status, 'delivered');
  assert.equal(st(a.order_id).report.proof_ids.length, 1, 'the signature is a proof of the delivery');
  assert.equal(st(a.order_id).report.recipient_name, 'Получатель А');
  assert.equal(t.cash_on_hand.amount, a.collect.amount + b.collect.amount);
  const proof = (await courierApi.get(`/api/v1/orders/${a.order_id}/proofs`)).items[0];
  assert.equal(proof.kind, 'signature');
  assert.equal(proof.content_type, 'image/png');
  await eventually(async () => Number(await page.locator('[data-testid=cash-on-hand]').getAttribute('data-amount')) === a.collect.amount + b.collect.amount, 30000, 'cash on hand on screen');

  // --- Offline: deliver and fail the rest.
  await context.setOffline(true);
  await page.locator('[data-testid=net][data-state=offline]').waitFor({ timeout: 10000 }).catch(() => {});
  const rest = stops.filter((s) => s !== a && s !== b);
  const { c, byCard, refusedPiece } = roles(stops);
  // c: cash, short by 100 ₽ (confirmed), with a photo of the door.
  await openStop(page, c.order_id);
  await page.locator('[data-testid=back]').tap();
  const shortBy = 10000;
  {
    await openStop(page, c.order_id);
    await page.locator('[data-testid=deliver]').tap();
    await scanAll(page, c);
    await page.locator('[data-testid=amount]').fill(((c.collect.amount - shortBy) / 100).toFixed(2));
    await sign(page);
    await page.locator('[data-testid=confirm-deliver]').tap();
    await page.locator('[data-testid=short-ok]').tap();
    await page.locator(`[data-testid=stop-row][data-order="${c.order_id}"][data-status=delivered]`).waitFor();
  }
  const delivered = { [a.order_id]: a.collect.amount, [b.order_id]: b.collect.amount, [c.order_id]: c.collect.amount - shortBy };
  await deliver(page, byCard, { method: 'card', slip: '004512', amount: byCard.collect.amount, photo: true });
  const refusedDue = refusedPiece.collect.amount - refusedPiece.goods[0].price;
  await deliver(page, refusedPiece, { refuse: 1, amount: Math.max(refusedDue, 0) });
  delivered[refusedPiece.order_id] = Math.max(refusedDue, 0);
  const failed = rest.filter((s) => s !== c && s !== byCard && s !== refusedPiece);
  assert.ok(failed.length >= 1, 'stops left to fail');
  const reasons = ['no_answer', 'customer_absent', 'wrong_address', 'refused', 'damaged'];
  const next = new Date(state.cfg.date + 'T12:00:00Z');
  next.setUTCDate(next.getUTCDate() + 2);
  const wished = next.toISOString().slice(0, 10);
  for (const [i, s] of failed.entries()) {
    if (i === 0) await fail(page, s, 'reschedule', { date: wished, comment: 'просит в четверг', shot: 'app-06-fail-form' });
    else await fail(page, s, reasons[(i - 1) % reasons.length]);
  }
  const offlineActions = 3 + failed.length; // c, byCard, refusedPiece and the failed ones
  await page.locator(`[data-testid=waiting][data-count="${offlineActions}"]`).waitFor({ timeout: 30000 });
  assert.match(await page.locator('[data-testid=waiting]').textContent(), new RegExp(`${offlineActions} действ`));
  assert.equal(await page.locator('[data-testid=net]').getAttribute('data-state'), 'offline');
  await shot(page, 'app-07-offline-waiting');
  const queued = await outbox(page);
  const events = queued.filter((i) => i.type === 'event');
  assert.equal(events.length, offlineActions);
  assert.ok(queued.filter((i) => i.type === 'proof').length >= 2, 'the signature and the photo wait in the outbox too');
  // Nothing reached the server meanwhile.
  t = await courierApi.get('/api/v1/courier/today');
  st = (id) => t.sheets.flatMap((x) => x.stops).find((s) => s.order_id === id);
  assert.equal(st(c.order_id).status, 'out_for_delivery');

  // --- Close the page and open the app again, still offline: the outbox is intact.
  await page.close();
  page = await open(context);
  await page.goto(base + '/app/');
  await page.locator('main.screen[data-ready=true]').waitFor({ timeout: 30000 });
  await page.locator(`[data-testid=waiting][data-count="${offlineActions}"]`).waitFor({ timeout: 30000 });
  assert.deepEqual((await outbox(page)).filter((i) => i.type === 'event').map((i) => i.event.client_event_id), events.map((i) => i.event.client_event_id));
  for (const s of failed) assert.equal(await page.locator(`[data-testid=stop-row][data-order="${s.order_id}"]`).getAttribute('data-pending'), 'true');
  await shot(page, 'app-08-reopened-offline');

  // Meanwhile the customer of the last stop called the office, and the
  // dispatcher reported it failed: the phone's report of it will conflict.
  const dispatcher = await new Client(base).login('dispatcher');
  const clash = failed.at(-1);
  await dispatcher.post(`/api/v1/orders/${clash.order_id}/status`, { status: 'failed_attempt', reason: 'customer_absent', comment: 'the customer called the office' });

  // --- Online again: the outbox drains.
  await context.setOffline(false);
  await eventually(async () => (await waitingCount(page)) === 0, 60000, 'the outbox drained');
  await page.locator('[data-testid=waiting]').waitFor({ state: 'detached', timeout: 30000 });
  await eventually(async () => (await page.locator('[data-testid=stop-row][data-pending=true]').count()) === 0, 15000, 'nothing pending on screen');
  // The conflict in plain words: the stop, what was not accepted, why.
  const problem = page.locator('[data-testid=problem]');
  assert.equal(await problem.count(), 1, 'one conflict');
  assert.equal(Number(await problem.getAttribute('data-order')), clash.order_id);
  assert.match(await problem.textContent(), new RegExp(`Точка ${clash.seq} .*не принята.*уже в статусе «не удалось»`));
  await shot(page, 'app-09-drained-with-a-conflict');
  await problem.locator('[data-testid=dismiss]').tap();
  await problem.waitFor({ state: 'detached' });

  // Every event applied exactly once: the same events again are duplicates
  // of their first outcome (applied; the clash a conflict).
  const replay = await courierApi.post('/api/v1/courier/sync', { sent_at: new Date().toISOString(), events: events.map((e) => e.event) });
  assert.deepEqual(replay.results.map((r) => [r.status, r.original_status]),
    events.map((e) => ['duplicate', e.event.order_id === clash.order_id ? 'conflict' : 'applied']));
  for (const s of stops) {
    const h = (await dispatcher.get(`/api/v1/orders/${s.order_id}/history`)).items;
    const finals = h.filter((e) => e.kind === 'status' && ['delivered', 'failed_attempt', 'refused'].includes(e.to_status));
    assert.equal(finals.length, 1, `order ${s.order_id}: one final status, got ${JSON.stringify(finals)}`);
  }
  const sh = await dispatcher.get(`/api/v1/route-sheets/${sheet.id}`);
  assert.equal(sh.status, 'completed', 'the sheet completed');
  t = await courierApi.get('/api/v1/courier/today');
  st = (id) => t.sheets.flatMap((x) => x.stops).find((s) => s.order_id === id);
  assert.equal(st(failed[0].order_id).report.wished_date, wished);
  assert.deepEqual(st(byCard.order_id).report.collected, { amount: byCard.collect.amount, method: 'card', payment_ref: '004512' });
  assert.ok((await courierApi.get(`/api/v1/orders/${byCard.order_id}/proofs`)).items.some((p) => p.kind === 'photo' && p.content_type === 'image/jpeg'));
  assert.equal(st(c.order_id).report.short_at_door, shortBy);
  // The piece refused at the door went back, and the amount due dropped by its price.
  assert.deepEqual(st(refusedPiece.order_id).report.refused.map((r) => [r.item, r.qty]), [[0, 1]]);
  assert.equal(st(refusedPiece.order_id).report.amount_due, Math.max(refusedDue, 0));
  const cashCollected = Object.entries(delivered).filter(([id]) => stops.find((s) => s.order_id === Number(id)).collect.method === 'cash')
    .reduce((n, [, v]) => n + v, 0);
  assert.equal(t.cash_on_hand.amount, cashCollected, 'cash on hand is what was collected in cash');

  // --- End the shift: the summary and the sheet's barcode on screen.
  await page.locator('[data-testid=go-end]').tap();
  await page.locator('[data-testid=summary]').waitFor();
  assert.equal(Number(await page.locator('[data-testid=sum-delivered]').textContent()), Object.keys(delivered).length + 1);
  assert.equal(Number(await page.locator('[data-testid=sum-failed]').textContent()), failed.length);
  assert.equal(Number(await page.locator('[data-testid=sum-cash]').getAttribute('data-amount')), cashCollected);
  await page.locator('[data-testid=confirm-end]').tap();
  await page.locator('[data-testid=shift-summary] [data-testid=sheet-barcode][data-code]').waitFor({ timeout: 30000 });
  await eventually(async () => (await waitingCount(page)) === 0, 15000, 'the end of the shift is sent');
  assert.equal((await courierApi.get(`/api/v1/courier/today?date=${state.cfg.date}`)).shift.status, 'ended');
  await shot(page, 'app-10-shift-over-barcode');

  // The cashier's scanner reads the phone's screen: decode the bars drawn on the canvas.
  const bits = await page.evaluate(() => {
    const c = document.querySelector('[data-testid=sheet-barcode]');
    const m = Number(c.dataset.module);
    const row = c.getContext('2d').getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
    let s = '';
    for (let x = Math.floor(m / 2); x < c.width; x += m) s += row[x * 4] < 128 ? '1' : '0';
    return s;
  });
  const read = decode(bits);
  assert.equal(read, sheet.barcode);
  const cashier = await new Client(base).login('cashier');
  const scan = await cashier.get(`/api/v1/cashdesk/sheets/${encodeURIComponent(read)}`);
  assert.equal(scan.sheet.id, sheet.id);
  const reported = scan.orders.reduce((n, o) => n + o.reported_collected, 0);
  assert.equal(reported, cashCollected, 'the cash desk sees the cash collected');
  assert.equal(scan.totals.short_at_door, shortBy, 'and the short collection at the door');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('English on an English phone; location not allowed is said; goods scanned with the camera', { timeout: 120000 }, async () => {
  assert.ok(state.others?.length, 'the setup published other sheets');
  const other = state.others[0];
  const who = state.couriers.find((c) => c.id === other.courier_id).login;
  const context = await phone({ geolocation: false, locale: 'en-US', camera: true });
  // Chromium on Linux has no BarcodeDetector: a stand-in reads the codes the test puts in front of the fake camera.
  await context.addInitScript(() => {
    window.BarcodeDetector = class {
      static async getSupportedFormats() { return ['ean_13', 'code_128']; }
      async detect(video) {
        if (!video.srcObject || !window.cameraCodes?.length) return [];
        return [{ rawValue: window.cameraCodes.shift(), format: 'ean_13' }];
      }
    };
  });
  const page = await open(context);
  await page.goto(server.base + '/app/');
  assert.equal(await page.locator('[data-testid=login-submit]').textContent(), 'Log in');
  await login(page, server.base, who);
  await page.locator('[data-testid=start-shift]').tap();
  await page.locator('[data-testid=location-problem][data-problem=denied]').waitFor({ timeout: 30000 });
  assert.match(await page.locator('[data-testid=location-problem]').textContent(), /Location is off/);
  await shot(page, 'app-11-location-denied');

  // The camera: every piece of a stop scanned through the detector.
  const courierApi = await new Client(server.base).login(who);
  const t = await courierApi.get(`/api/v1/courier/today?date=${state.cfg.date}`);
  const stop = t.sheets[0].stops.find((s) => s.goods.some((g) => g.barcode));
  await openStop(page, stop.order_id);
  await page.locator('[data-testid=deliver]').tap();
  const codes = stop.goods.flatMap((g) => Array.from({ length: g.qty }, () => g.barcode));
  await page.evaluate((c) => { window.cameraCodes = c; }, codes);
  await page.locator('[data-testid=scan-camera]').tap();
  await eventually(() => page.evaluate(() => !!document.querySelector('.camera video')?.srcObject), 30000, 'the camera shows');
  for (const g of stop.goods.filter((x) => x.barcode)) {
    await page.locator(`[data-testid=good][data-item="${g.item}"] [data-testid=scan-count]`).filter({ hasText: `${g.qty}/${g.qty}` }).waitFor({ timeout: 30000 });
  }
  await page.locator('[data-testid=camera-close]').tap();
  assert.equal(await page.locator('.camera').count(), 0);
  await shot(page, 'app-12-camera-scanned');
  assert.deepEqual(page.errors, []);
  await context.close();
});
