// End-to-end: the console in Debian's chromium against a courierd started
// here with the demo city. Screenshots go to test-artifacts/e2e/.
//
//   dispatcher: log in, the 150 demo orders on the map, a courier's live
//   position moving, plan (5 s) and watch the progress bar finish, drag a
//   stop onto another courier's route and find it there through the API,
//   reorder a stop from the list, publish.
//   cashier: a courier delivers the cash orders of a sheet (through the
//   API); the cashier, from the keyboard alone, opens a shift, scans the
//   sheet, sees a shortage before confirming, corrects the count, settles,
//   sees the courier's balance at zero, closes the shift with its report.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCourierd, launchBrowser, newPage, shot, Client, eventually, loginUI } from './harness.mjs';

let server;
let browser;
const state = {};

before(async () => {
  server = await startCourierd();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('dispatcher: map, live position, plan with progress, drag a stop, reorder, publish', { timeout: 240000 }, async () => {
  const api = await new Client(server.base).login('dispatcher');
  const page = await newPage(browser);
  await loginUI(page, server.base, 'dispatcher');
  await shot(page, '01-dispatcher-map');

  // The demo orders are on the map, coloured by status, with a legend.
  const today = (await api.get('/api/v1/orders?limit=500')).items;
  assert.equal(today.length, 150);
  await eventually(async () => (await page.locator('path.order-marker').count()) === 150, 15000, '150 order markers');
  const ready = today.filter((o) => o.status === 'ready').length;
  assert.equal(await page.locator('path.order-marker.status-ready').count(), ready);
  assert.ok(await page.locator('[data-testid=legend]').isVisible());
  assert.equal(await page.locator('path.zone').count(), 3, 'the 3 demo zones as polygons');

  // A courier's position arrives through the tracking stream and moves.
  const couriers = (await api.get('/api/v1/couriers')).items;
  const c1 = couriers.find((c) => c.login === 'courier1');
  const phone = await new Client(server.base).login('courier1');
  // Two minutes apart: 2 km in 2 minutes is a plausible speed (a jump would be dropped).
  const ping = (lat, lng, ago) => phone.post('/api/v1/courier/locations', { pings: [{ lat, lng, accuracy_m: 5, recorded_at: new Date(Date.now() - ago * 1000).toISOString() }] });
  await new Promise((r) => setTimeout(r, 500)); // the page subscribes after loading
  await ping(55.7500, 37.6000, 120);
  const marker = page.locator(`.courier-pos.courier-${c1.id}`);
  await marker.waitFor({ timeout: 15000 });
  const box1 = await marker.boundingBox();
  await ping(55.7600, 37.6300, 0);
  await eventually(async () => {
    const b = await marker.boundingBox();
    return b && Math.hypot(b.x - box1.x, b.y - box1.y) > 5;
  }, 15000, 'the courier marker moved');
  assert.equal(await page.locator(`.courier-pos.courier-${c1.id}`).getAttribute('data-stale'), 'false');

  // Plan the day with a 5 s limit and watch the progress bar reach 100 %.
  await page.locator('[data-testid=time-limit]').fill('5');
  await page.locator('[data-testid=plan]').click();
  const progress = page.locator('[data-testid=plan-progress]');
  await eventually(async () => (await progress.getAttribute('data-state')) === 'running', 5000, 'planning started');
  await eventually(async () => Number(await progress.getAttribute('aria-valuenow')) > 10 && (await progress.getAttribute('data-state')) === 'running', 20000, 'the bar moves');
  await shot(page, '02-planning-progress');
  await eventually(async () => (await progress.getAttribute('data-state')) === 'done', 120000, 'planning done');
  assert.equal(await progress.getAttribute('aria-valuenow'), '100');
  await page.locator('[data-testid=sheet-list] .sheet').first().waitFor();
  await shot(page, '03-planned');

  const date = today[0].delivery_date;
  let sheets = (await api.get(`/api/v1/route-sheets?date=${date}&status=draft`)).items;
  assert.ok(sheets.length >= 2, `want at least 2 draft sheets, got ${sheets.length}`);
  assert.equal(await page.locator('[data-testid=sheet-list] .sheet').count(), sheets.length);
  assert.equal(await page.locator('.stop-icon').count(), sheets.reduce((n, s) => n + s.stops.length, 0));

  // Drag a stop of sheet A onto a stop of sheet B (not B's last, so that
  // the reorder below has room). Both must be clear on screen: two orders
  // may share an address, and the legend or a control may cover a marker.
  const centres = await page.evaluate(() => [...document.querySelectorAll('.stop-num')].map((e) => {
    const r = e.getBoundingClientRect();
    const x = r.x + r.width / 2;
    const y = r.y + r.height / 2;
    const top = document.elementFromPoint(x, y);
    return { sheet: Number(e.dataset.sheet), order: Number(e.dataset.order), x, y, onTop: !!top && e.contains(top) };
  }));
  const clear = (c, except) => c && c.onTop && centres.every((o) => o === c || o.order === except || Math.hypot(o.x - c.x, o.y - c.y) > 30);
  let a;
  let b;
  let moving;
  let at = -1;
  for (const sa of sheets) {
    const src = sa.stops.map((s) => centres.find((c) => c.sheet === sa.id && c.order === s.order_id)).find((c) => clear(c));
    if (!src) continue;
    for (const sb of sheets) {
      if (sb.id === sa.id) continue;
      at = sb.stops.slice(0, -1).findIndex((s) => clear(centres.find((c) => c.sheet === sb.id && c.order === s.order_id), src.order));
      if (at >= 0) { [a, b, moving] = [sa, sb, src.order]; break; }
    }
    if (a) break;
  }
  assert.ok(a, 'two sheets with stops clear on screen');
  const from = page.locator(`.stop-num[data-sheet="${a.id}"][data-order="${moving}"]`);
  const onto = page.locator(`.stop-num[data-sheet="${b.id}"][data-order="${b.stops[at].order_id}"]`);
  const fb = await from.boundingBox();
  const tb = await onto.boundingBox();
  await page.mouse.move(fb.x + fb.width / 2, fb.y + fb.height / 2);
  await page.mouse.down();
  await page.mouse.move(fb.x + fb.width / 2 + 10, fb.y + fb.height / 2 + 10, { steps: 3 });
  await page.mouse.move(tb.x + tb.width / 2, tb.y + tb.height / 2, { steps: 15 });
  await page.mouse.up();
  // The move may break a rule (capacity, windows, zones): the dialog lists them, and we force it.
  const force = page.locator('[data-testid=move-force]');
  const outcome = await eventually(async () => {
    if (await force.isVisible()) return 'violations';
    const sh = await api.get(`/api/v1/route-sheets/${b.id}`);
    return sh.stops.some((s) => s.order_id === moving) ? 'moved' : null;
  }, 15000, 'the move answered');
  if (outcome === 'violations') {
    assert.ok(await page.locator('[data-testid=violations] li').count() > 0);
    await shot(page, '04-move-violations');
    await force.click();
  }
  const after = await eventually(async () => {
    const sh = await api.get(`/api/v1/route-sheets/${b.id}`);
    return sh.stops.some((s) => s.order_id === moving) ? sh : null;
  }, 15000, 'the stop is on sheet B');
  assert.equal(after.stops[at].order_id, moving, 'dropped on a stop of B, it takes its place');
  assert.ok(!(await api.get(`/api/v1/route-sheets/${a.id}`)).stops.some((s) => s.order_id === moving), 'and left sheet A');
  await eventually(async () => (await page.locator(`.stop-num[data-sheet="${b.id}"][data-order="${moving}"]`).count()) === 1, 5000, 'redrawn on B');
  await shot(page, '05-after-drag');

  // Reorder from the list, by keyboard: the moved stop of B goes down one.
  await page.locator(`[data-testid=sheet-toggle-${b.id}]`).click();
  const down = page.locator(`[data-testid=down-${moving}]`);
  await down.focus();
  await page.keyboard.press('Enter');
  const force2 = page.locator('[data-testid=move-force]');
  await eventually(async () => {
    if (await force2.isVisible()) { await force2.click(); return false; }
    const sh = await api.get(`/api/v1/route-sheets/${b.id}`);
    return sh.stops[at + 1]?.order_id === moving;
  }, 15000, 'the stop went down one on B');
  await shot(page, '06-reordered');

  // Publish.
  await page.locator('[data-testid=publish]').click();
  await eventually(async () => (await api.get(`/api/v1/route-sheets/${b.id}`)).status === 'published', 15000, 'published');
  await eventually(async () => (await api.get(`/api/v1/orders/${moving}`)).route_sheet_id === b.id, 5000, 'the order is on sheet B');
  await eventually(async () => (await page.locator('[data-testid=publish]').isDisabled()), 5000, 'nothing left to publish');
  await shot(page, '07-published');
  state.sheets = (await api.get(`/api/v1/route-sheets?date=${date}&status=published`)).items;
  state.couriers = couriers;
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// A drawn signature, a small PNG.
const SIGNATURE_PNG = 'iVBORw0KGgoAAAANSUhEUgAAADwAAAAUCAAAAAD0aAH1AAAAJklEQVR4nGJioACMah7VTFjzfxBJJkG2xiGvm9zQHoGaAQEAAP//LTU74y5a/XsAAAAASUVORK5CYII=';

test('cashier: scan a sheet, see the shortage, settle, balance at zero, close the shift', { timeout: 180000 }, async (t) => {
  assert.ok(state.sheets?.length, 'the dispatcher test published sheets');
  const api = await new Client(server.base).login('dispatcher');
  // The sheet with the most cash: its courier starts and delivers everything.
  let best = null;
  for (const s of state.sheets) {
    const sh = await api.get(`/api/v1/route-sheets/${s.id}`);
    if (!best || sh.totals.cash.amount > best.totals.cash.amount) best = sh;
  }
  assert.ok(best.totals.cash.amount > 0, 'a sheet with cash on delivery');
  const login = state.couriers.find((c) => c.id === best.courier_id).login;
  const phone = await new Client(server.base).login(login);
  await phone.post(`/api/v1/route-sheets/${best.id}/start`, {});
  // The courier's phone reports each delivery: the goods scanned, the money
  // taken (card payments with the slip number), the first one signed.
  const sig = crypto.randomUUID();
  await phone.upload(`/api/v1/courier/stops/${best.stops[0].order_id}/proofs`, { kind: 'signature', proof_id: sig },
    Buffer.from(SIGNATURE_PNG, 'base64'), 'image/png');
  for (const [i, s] of best.stops.entries()) {
    const o = s.order;
    const scanned = o.items.flatMap((it) => (it.barcode ? Array(it.qty).fill(it.barcode) : []));
    const ev = { client_event_id: crypto.randomUUID(), at: new Date().toISOString(), scanned_barcodes: scanned };
    if (o.cod.method !== 'prepaid' && o.cod.amount > 0) {
      ev.collected = { amount: o.cod.amount, method: o.cod.method, ...(o.cod.method === 'card' ? { payment_ref: 'E2E-' + i } : {}) };
    }
    if (i === 0) Object.assign(ev, { proof_ids: [sig], recipient_name: 'E2E' });
    await phone.post(`/api/v1/courier/stops/${s.order_id}/deliver`, ev);
  }
  state.signedOrder = best.stops[0].order_id;
  assert.equal((await api.get(`/api/v1/route-sheets/${best.id}`)).status, 'completed');
  const expected = best.totals.cash.amount;

  const page = await newPage(browser);
  await loginUI(page, server.base, 'cashier');
  const kb = page.keyboard;
  // Open the shift with the keyboard: Tab to the button, Enter.
  const open = page.locator('[data-testid=shift-open]');
  await open.focus();
  await kb.press('Enter');
  await page.locator('[data-testid=shift-state][data-open=true]').waitFor();
  // The scanner input has the focus back.
  await eventually(async () => page.evaluate(() => document.activeElement?.id === 'scan'), 5000, 'the scanner input has focus');
  // Clicking elsewhere does not lose the scanner.
  await page.mouse.click(300, 700);
  await eventually(async () => page.evaluate(() => document.activeElement?.id === 'scan'), 5000, 'focus comes back to the scanner');

  // Scan: the scanner types the number and Enter.
  await kb.type(best.number);
  await kb.press('Enter');
  await page.locator('[data-testid=cash-orders]').waitFor();
  assert.equal(await page.locator('[data-testid=cash-orders] tbody tr').count(), best.stops.length);
  const fmtAmount = (minor) => (minor / 100).toFixed(2);
  const rub = (minor) => new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB' }).format(minor / 100).replace(/\s/g, '');
  assert.equal((await page.locator('[data-testid=expected]').textContent()).replace(/\s/g, ''), rub(expected));
  // The counted amount has the focus; a short count shows the shortage before confirming.
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'counted');
  await kb.type(fmtAmount(expected - 10000));
  await eventually(async () => (await page.locator('[data-testid=difference]').getAttribute('class')).includes('short'), 5000, 'shortage shown');
  assert.match(await page.locator('[data-testid=difference]').textContent(), /−100,00/);
  await shot(page, '08-cashier-shortage');
  // Recount: select all, type the right amount.
  await kb.press('Control+A');
  await kb.type(fmtAmount(expected));
  await eventually(async () => (await page.locator('[data-testid=difference]').getAttribute('class')).includes('exact'), 5000, 'exact');
  await kb.press('Enter'); // -> Confirm
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'confirm');
  await shot(page, '09-cashier-confirm');
  await kb.press('Enter'); // settle
  await page.locator('[data-testid=courier-balance][data-owed="0"]').waitFor({ timeout: 15000 });
  await page.locator('[data-testid=settle-result]').waitFor();
  await eventually(async () => page.evaluate(() => document.activeElement?.id === 'scan'), 5000, 'back to the scanner');
  await shot(page, '10-cashier-settled');
  const bal = await (await new Client(server.base).login('cashier')).get(`/api/v1/cashdesk/couriers/${best.courier_id}/balance`);
  assert.equal(bal.owed, 0, 'the courier owes nothing');

  // Close the shift: the report shows the cash taken in.
  await page.locator('[data-testid=shift-close]').focus();
  await kb.press('Enter');
  await page.locator('[data-testid=shift-close-confirm]').waitFor();
  await kb.press('Enter');
  await page.locator('[data-testid=report]').waitFor();
  assert.equal((await page.locator('[data-testid=report-cash-in]').textContent()).replace(/\s/g, ''), rub(expected));
  await shot(page, '11-shift-report');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('orders table: search by order number and phone, timeline', { timeout: 60000 }, async () => {
  const api = await new Client(server.base).login('dispatcher');
  const some = (await api.get('/api/v1/orders?limit=5')).items[2];
  const page = await newPage(browser);
  await loginUI(page, server.base, 'dispatcher');
  // Leave the map in the middle of a zoom animation: no script error may follow.
  await page.locator('.leaflet-control-zoom-in').click();
  await page.locator('[data-testid=nav-orders]').click();
  await page.locator('main.view-orders[data-ready=true]').waitFor();
  await page.locator('[data-testid=orders-q]').fill(some.external_id);
  await eventually(async () => (await page.locator('[data-testid=orders-table] tbody tr').count()) === 1, 10000, 'one order by number');
  await page.locator('[data-testid=orders-q]').fill(some.customer.phone);
  await eventually(async () => (await page.locator(`[data-testid=orders-table] tbody tr[data-order-id="${some.id}"]`).count()) === 1, 10000, 'found by phone');
  await page.locator(`[data-testid=orders-table] tbody tr[data-order-id="${some.id}"]`).click();
  await page.locator('[data-testid=timeline] li').first().waitFor();
  assert.ok(await page.locator('[data-testid=timeline] li').count() >= 1);
  await shot(page, '12-order-timeline');
  await page.keyboard.press('Escape');
  // The signed delivery: the order card shows the door report and the signature.
  if (state.signedOrder) {
    await page.locator('[data-testid=orders-q]').fill('');
    const signed = await api.get(`/api/v1/orders/${state.signedOrder}`);
    await page.locator('[data-testid=orders-q]').fill(signed.external_id);
    await page.locator(`[data-testid=orders-table] tbody tr[data-order-id="${signed.id}"]`).click();
    await page.locator('[data-testid=door-report]').waitFor();
    await eventually(async () => page.locator('[data-testid=proof-signature]').evaluate((img) => img.complete && img.naturalWidth > 0), 10000, 'the signature shows');
    await shot(page, '12b-order-proof');
    await page.keyboard.press('Escape');
  }
  await page.locator('[data-testid=nav-couriers]').click();
  await page.locator('main.view-couriers[data-ready=true]').waitFor();
  assert.equal(await page.locator('[data-testid=couriers-table] tbody tr').count(), 8);
  await shot(page, '13-couriers');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('zones: draw a zone on the map, edit a corner; print a sheet', { timeout: 90000 }, async () => {
  const api = await new Client(server.base).login('dispatcher');
  const page = await newPage(browser);
  await loginUI(page, server.base, 'dispatcher');
  const map = page.locator('#map');
  const mb = await map.boundingBox();
  // Draw a square in an empty corner of the map: four clicks, Enter, a name, save.
  await page.locator('[data-testid=new-zone]').click();
  await page.locator('[data-testid=draw-bar]').waitFor();
  const corners = [[60, 60], [200, 60], [200, 180], [60, 180]].map(([x, y]) => [mb.x + x + 40, mb.y + y]);
  for (const [x, y] of corners) await page.mouse.click(x, y);
  await eventually(async () => (await page.locator('path.draw-vertex').count()) === 4, 5000, 'four corners');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=zone-name]').fill('E2E zone');
  await page.locator('[data-testid=zone-save]').click();
  const zone = await eventually(async () => (await api.get('/api/v1/zones')).features.find((z) => z.properties.name === 'E2E zone'), 10000, 'the zone is saved');
  assert.equal(zone.geometry.type, 'Polygon');
  assert.equal(zone.geometry.coordinates[0].length, 5, 'a closed ring of 4 corners');
  await eventually(async () => (await page.locator(`path.zone-${zone.id}`).count()) === 1, 5000, 'drawn');
  await shot(page, '14-zone-drawn');

  // Edit: drag the first corner 40 px right, save; the version and the geometry change.
  await page.locator(`[data-testid=edit-zone-${zone.id}]`).click();
  const v0 = page.locator('[data-vertex="0"]');
  const vb = await v0.boundingBox();
  await page.mouse.move(vb.x + vb.width / 2, vb.y + vb.height / 2);
  await page.mouse.down();
  await page.mouse.move(vb.x + vb.width / 2 + 40, vb.y + vb.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.locator('[data-testid=zone-edit-save]').click();
  const edited = await eventually(async () => {
    const z = await api.get(`/api/v1/zones/${zone.id}`);
    return z.properties.version > zone.properties.version ? z : null;
  }, 10000, 'the zone is changed');
  assert.ok(edited.geometry.coordinates[0][0][0] > zone.geometry.coordinates[0][0][0], 'the first corner moved east');
  await shot(page, '15-zone-edited');

  // Print a route sheet: the PDF opens in a new tab.
  const sheet = page.locator('[data-testid^=pdf-]').first();
  await sheet.waitFor();
  const [popup] = await Promise.all([page.waitForEvent('popup'), sheet.click()]);
  await eventually(async () => popup.url().startsWith('blob:'), 15000, 'the PDF tab');
  await popup.close();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
