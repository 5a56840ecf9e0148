// End-to-end, issue 14: the console for the day under way, in Debian's
// chromium at 1366x768, 1024x768 and 390x844, against a courierd with the
// demo city whose day is under way (plan, publish, couriers delivering and
// failing through the phone API). One test per point of the issue;
// screenshots in test-artifacts/e2e/ named by the point and the size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCourierd, launchBrowser, Client, eventually, loginUI } from './harness.mjs';
import { sizes, pageAt, snap, dayUnderWay, deliver, fail, finishSheet, ping } from './day.mjs';
import { setLanguage, t, tn, reasonText, statusColors, statusName, feeRuleText, errorText } from '../src/i18n.js';
import { colorDistance, initials, minDistance } from '../src/colors.js';
import { makeFormat } from '../src/format.js';

setLanguage('ru');
const fmt = makeFormat({ time_zone: 'Europe/Moscow', currency: 'RUB', language: 'ru' });
const plain = (s) => String(s).replace(/[\s\u00a0\u202f]+/g, ' ').trim();
const laptop = sizes[0];
const tablet = sizes[1];
const phone = sizes[2];

let server;
let browser;
let day;
let api;

before(async () => {
  server = await startCourierd();
  browser = await launchBrowser();
  day = await dayUnderWay(server.base);
  api = day.api;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function sheetsNow() {
  return (await api.get(`/api/v1/route-sheets?date=${day.date}`)).items;
}

/** On the phone the side panel is closed: open it. */
async function openPanel(page, size) {
  if (size !== phone) return;
  const btn = page.locator('[data-testid=panel-toggle]');
  if ((await btn.getAttribute('aria-expanded')) !== 'true') await btn.click();
  await page.locator('aside.side').waitFor({ state: 'visible' });
}

async function stateOf(page, orderId) {
  return page.locator(`.stop-num[data-order="${orderId}"]`).getAttribute('data-state');
}

test('1 the day under way: stop states, "done/total · late" and the last signal per sheet, late stops, live updates', { timeout: 240000 }, async () => {
  const { a, b } = day;
  for (const size of sizes) {
    const page = await pageAt(browser, size);
    await loginUI(page, server.base, 'dispatcher');
    const sheets = await sheetsNow();
    const pa = sheets.find((s) => s.id === a.id);
    const pb = sheets.find((s) => s.id === b.id);
    // Each stop marker says what happened there.
    assert.equal(await stateOf(page, a.stops[0].order_id), 'delivered');
    assert.equal(await stateOf(page, a.stops[1].order_id), 'failed');
    const firstOpen = size === laptop ? a.stops[2].order_id : a.stops[3].order_id;
    assert.equal(await stateOf(page, firstOpen), 'current', 'the stop the courier heads to');
    assert.ok(pb.progress.late > 0, 'B runs late');
    for (const id of pb.progress.late_orders) assert.equal(await stateOf(page, id), 'late');
    assert.equal(await page.locator('.stop-num[data-state=late]').count(), pb.progress.late);
    // The map's alert opens the list of late stops.
    const alertBtn = page.locator('[data-testid=alert-button]');
    assert.equal(plain(await alertBtn.textContent()), tn('late_n', pb.progress.late));
    await snap(page, '1-day-map', size);
    await alertBtn.click();
    await openPanel(page, size);
    await page.locator('[data-testid=alerts] ul.alert-list').waitFor();
    assert.equal(await page.locator('[data-testid=alerts] li').count(), pb.progress.late);
    const firstLate = pb.progress.late_stops[0];
    const line = plain(await page.locator(`[data-testid=late-${firstLate.order_id}]`).textContent());
    assert.ok(line.includes(fmt.time(firstLate.window_to)) && line.includes('опоздание'), line);
    await snap(page, '1-day-late-list', size);
    // Each sheet card: "done/total · N late" and the courier's last signal.
    const done = (p) => p.delivered + p.failed + p.cancelled;
    const lateA = pa.progress.late ? ` · ${tn('late_n', pa.progress.late)}` : '';
    assert.equal(plain(await page.locator(`[data-testid=progress-${a.id}]`).textContent()), `${done(pa.progress)}/${pa.progress.total}${lateA}`);
    assert.equal(plain(await page.locator(`[data-testid=progress-${b.id}]`).textContent()), `${done(pb.progress)}/${pb.progress.total} · ${tn('late_n', pb.progress.late)}`);
    const signal = plain(await page.locator(`[data-testid=signal-${a.id}]`).textContent());
    assert.ok(signal.includes(t('last_signal', { time: fmt.time(pa.progress.last_signal_at) })), signal);
    // Sheet numbers are whole on the cards.
    const num = page.locator(`[data-testid=sheet-${a.id}] .sheet-number`);
    assert.equal(await num.textContent(), a.number);
    assert.ok(await num.evaluate((e) => {
      // Inside the card and inside every box between that could clip it (overflow other than visible).
      const r = e.getBoundingClientRect();
      for (let p = e.parentElement; p; p = p.parentElement) {
        const clips = getComputedStyle(p).overflowX !== 'visible' || p.classList.contains('sheet');
        const b = p.getBoundingClientRect();
        if (clips && (r.right > b.right + 0.5 || r.left < b.left - 0.5)) return false;
        if (p.classList.contains('sheet')) return r.width > 0;
      }
      return false;
    }), 'the number is not cut');
    await page.locator(`[data-testid=sheet-${a.id}]`).scrollIntoViewIfNeeded();
    await snap(page, '1-day-sheets', size);

    if (size === laptop) {
      // Live: the courier delivers the next stop; the page changes without a reload.
      await page.locator('[data-testid=live][data-live=true]').waitFor();
      await new Promise((r) => setTimeout(r, 500));
      await deliver(day.phoneA, a.stops[2]);
      await eventually(async () => (await stateOf(page, a.stops[2].order_id)) === 'delivered', 15000, 'the marker turns delivered');
      await eventually(async () => plain(await page.locator(`[data-testid=progress-${a.id}]`).textContent()).startsWith(`${done(pa.progress) + 1}/${pa.progress.total}`), 15000, 'the card counts it');
      await eventually(async () => (await stateOf(page, a.stops[3].order_id)) === 'current', 15000, 'the next stop is under way');
      await snap(page, '1-day-live', size);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('2 orders on no route: the reason in words after a reload, on the map, assigned by pick and by drag with the violations', { timeout: 240000 }, async () => {
  // One more order after the plan: on no route, not planned yet.
  const extra = await api.post('/api/v1/orders', {
    external_id: 'E2E-LATE-1', customer: { name: 'Поздний Заказ', phone: '+7 900 000-00-01' }, address: 'Москва, Тверская ул., 1',
    location: { lat: 55.757, lng: 37.613 }, delivery_date: day.date, weight_kg: 1, cod: { amount: 0, currency: 'RUB', method: 'prepaid' },
  });
  await api.post(`/api/v1/orders/${extra.id}/status`, { status: 'confirmed' });
  await api.post(`/api/v1/orders/${extra.id}/status`, { status: 'ready' });
  const reasons = new Map(day.plan.unassigned.map((u) => [u.order_id, u.reason]));
  reasons.set(extra.id, '');
  const targets = day.sheets.slice(2).filter((s) => s.status !== 'draft');
  for (const size of sizes) {
    const page = await pageAt(browser, size);
    await loginUI(page, server.base, 'dispatcher');
    await page.reload();
    await page.locator('main[data-ready=true]').waitFor();
    await openPanel(page, size);
    const left = [...reasons.keys()];
    const listed = await page.locator('[data-testid=unassigned] li[data-order]').evaluateAll((els) => els.map((e) => Number(e.dataset.order)));
    for (const id of left) assert.ok(listed.includes(id), `order ${id} is listed after a reload`);
    for (const [id, reason] of reasons) {
      const el = page.locator(`[data-testid=reason-${id}]`);
      assert.equal(await el.getAttribute('data-reason'), reason || 'not_planned');
      assert.equal(plain(await el.textContent()), reasonText(reason));
    }
    const panelText = await page.locator('[data-testid=unassigned]').textContent();
    assert.doesNotMatch(panelText, /window_unreachable|no_capacity|no_courier|shift_too_short|too_many_stops/);
    await snap(page, '2-unassigned-panel', size);
    if (size === phone) await page.locator('[data-testid=panel-toggle]').click();
    assert.equal(await page.locator('.leaflet-marker-pane .left-pin').count(), listed.length, 'each is marked on the map');
    await snap(page, '2-unassigned-map', size);

    if (size === laptop) {
      // By picking a courier: the order joins that courier's route (the rules checked; forced when they break).
      const pick = left[0];
      const to = targets[0];
      await page.locator(`[data-testid=assign-${pick}]`).selectOption(String(to.id));
      const outcome = await eventually(async () => {
        if (await page.locator('[data-testid=move-force]').isVisible()) return 'violations';
        return (await api.get(`/api/v1/orders/${pick}`)).route_sheet_id === to.id ? 'assigned' : null;
      }, 20000, 'the assignment answered');
      if (outcome === 'violations') {
        assert.ok(await page.locator('[data-testid=violations] li').count() > 0);
        assert.doesNotMatch(await page.locator('[data-testid=violations]').textContent(), /time_window|capacity|would|the courier/);
        await snap(page, '2-assign-violations', size);
        await page.locator('[data-testid=move-force]').click();
      }
      await eventually(async () => (await api.get(`/api/v1/orders/${pick}`)).route_sheet_id === to.id, 15000, 'assigned by pick');
      await eventually(async () => (await page.locator(`[data-testid=left-${pick}]`).count()) === 0, 10000, 'gone from the panel');
      assert.equal((await api.get(`/api/v1/orders/${pick}`)).status, 'planned');

      // By drag: the pin of another dropped on a stop of a published route.
      const dragged = left[1];
      const pin = page.locator(`[data-testid=left-pin-${dragged}]`);
      await pin.scrollIntoViewIfNeeded();
      const pb = await pin.boundingBox();
      const spots = await page.evaluate((ids) => [...document.querySelectorAll('.stop-num')].filter((e) => ids.includes(Number(e.dataset.sheet))).map((e) => {
        const r = e.getBoundingClientRect();
        const x = r.x + r.width / 2;
        const y = r.y + r.height / 2;
        const top = document.elementFromPoint(x, y);
        return { sheet: Number(e.dataset.sheet), x, y, onTop: !!top && e.contains(top) && x > 60 && y > 120 };
      }).filter((s, i, all) => s.onTop && all.every((o) => o === s || Math.hypot(o.x - s.x, o.y - s.y) > 30)), targets.map((s) => s.id));
      assert.ok(spots.length > 0, 'a stop of a published route clear on screen');
      const spot = spots.sort((p, q) => Math.hypot(p.x - pb.x, p.y - pb.y) - Math.hypot(q.x - pb.x, q.y - pb.y))[0];
      await page.mouse.move(pb.x + pb.width / 2, pb.y + pb.height / 2);
      await page.mouse.down();
      await page.mouse.move(pb.x + pb.width / 2 + 8, pb.y + pb.height / 2 + 8, { steps: 3 });
      await page.mouse.move(spot.x, spot.y, { steps: 15 });
      await page.mouse.up();
      const dragOutcome = await eventually(async () => {
        if (await page.locator('[data-testid=move-force]').isVisible()) return 'violations';
        return (await api.get(`/api/v1/orders/${dragged}`)).route_sheet_id ? 'assigned' : null;
      }, 20000, 'the drop answered');
      if (dragOutcome === 'violations') await page.locator('[data-testid=move-force]').click();
      await eventually(async () => (await api.get(`/api/v1/orders/${dragged}`)).route_sheet_id === spot.sheet, 15000, 'assigned by drag to the route it was dropped on');
      await eventually(async () => (await page.locator(`.stop-num[data-order="${dragged}"]`).count()) === 1, 10000, 'drawn as a stop');
      await snap(page, '2-assigned', size);
      reasons.delete(pick);
      reasons.delete(dragged);

      // An order on no route can be found and opened from the map: the panel's pin shows it, its marker opens its card.
      const shown = left[left.length - 1];
      assert.ok(![left[0], left[1]].includes(shown));
      await page.locator(`[data-testid=locate-${shown}]`).click();
      await page.locator(`[data-testid=left-pin-${shown}].pulse`).waitFor();
      await page.locator(`[data-testid=left-pin-${shown}]`).click();
      await page.locator('[data-testid=order-detail]').waitFor();
      const ext = (await api.get(`/api/v1/orders/${shown}`)).external_id;
      assert.ok((await page.locator('[role=dialog]').innerText()).includes(ext), 'the card of the order clicked');
      await page.locator('[data-testid=order-close]').click();
      await page.locator('[data-testid=order-detail]').waitFor({ state: 'detached' });
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('3 couriers: initials in the route colour linked to the sheet; the table with today\'s sheet, progress, cash, map and message', { timeout: 180000 }, async () => {
  const { a } = day;
  const courier = day.couriers.find((c) => c.id === a.courier_id);
  // A fresh position, so that the marker wears its colour (not the grey of an old signal).
  const at = a.stops[3].order.location;
  await ping(day.phoneA, at.lat + 0.001, at.lng + 0.001);
  // A cash delivery further down the route, so that the courier has cash on hand to show.
  const cashStop = a.stops.slice(5).find((s) => s.order.cod.method === 'cash' && s.order.cod.amount > 0);
  assert.ok(cashStop, 'a cash order on sheet A');
  const desk = await new Client(server.base).login('cashier');
  const cashOf = async () => (await desk.get('/api/v1/cashdesk/debtors')).items.find((d) => d.courier_id === courier.id)?.cash ?? 0;
  const before = await cashOf();
  await deliver(day.phoneA, cashStop);
  const cash = await cashOf();
  assert.equal(cash - before, cashStop.order.cod.amount, 'the courier holds the cash collected');
  for (const size of sizes) {
    const page = await pageAt(browser, size);
    await loginUI(page, server.base, 'dispatcher');
    const marker = page.locator(`.courier-pos.courier-${courier.id}`);
    await marker.waitFor();
    assert.equal(await marker.textContent(), initials(courier.name));
    const [mine, route] = await Promise.all([
      marker.evaluate((e) => getComputedStyle(e).backgroundColor),
      page.locator(`.stop-num[data-sheet="${a.id}"]`).first().evaluate((e) => getComputedStyle(e).backgroundColor),
    ]);
    assert.equal(mine, route, 'the courier wears the route colour');
    await marker.click();
    await openPanel(page, size);
    await page.locator(`[data-testid=sheet-${a.id}] ol.stops`).waitFor();
    await snap(page, '3-courier-marker', size);

    await page.locator('[data-testid=nav-couriers]').click();
    await page.locator('main.view-couriers[data-ready=true]').waitFor();
    const sheet = (await sheetsNow()).find((s) => s.id === a.id);
    const row = page.locator(`tr[data-courier-id="${courier.id}"]`);
    assert.ok(plain(await row.locator(`[data-testid=today-sheet-${courier.id}]`).textContent()).includes(a.number));
    const p = sheet.progress;
    assert.ok(plain(await row.locator(`[data-testid=courier-progress-${courier.id}]`).textContent()).startsWith(`${p.delivered + p.failed + p.cancelled}/${p.total}`));
    assert.equal(await row.locator(`[data-testid=cash-${courier.id}]`).getAttribute('data-amount'), String(cash));
    assert.equal(plain(await row.locator(`[data-testid=cash-${courier.id}]`).textContent()), plain(fmt.money(cash)));
    // Every column and the actions on screen, without scrolling the table sideways (cards on a phone).
    const fits = await page.locator('[data-testid=couriers-table]').evaluate((e) => { const w = e.closest('.table-wrap'); return [w.scrollWidth, w.clientWidth]; });
    assert.ok(fits[0] <= fits[1] + 1, `the couriers table is ${fits[0]} px wide in ${fits[1]} at ${size.name}`);
    for (const id of [`show-on-map-${courier.id}`, `message-${courier.id}`]) {
      const b = await row.locator(`[data-testid=${id}]`).boundingBox();
      assert.ok(b && b.x >= 0 && b.x + b.width <= size.width, `${id} in reach at ${size.name}`);
    }
    await snap(page, '3-couriers-table', size);
    if (size === laptop) {
      // A message to the courier's phone.
      await row.locator(`[data-testid=message-${courier.id}]`).click();
      await page.locator('[data-testid=message-text]').fill('Позвоните на склад');
      await page.locator('[data-testid=message-send]').click();
      await page.locator('.toast-ok', { hasText: t('message_sent', { name: courier.name }) }).waitFor();
    }
    // Show on map: the map opens on the courier with the sheet open.
    await row.locator(`[data-testid=show-on-map-${courier.id}]`).click();
    await page.locator('main.view-map[data-ready=true]').waitFor();
    await page.locator(`[data-testid=sheet-${a.id}] ol.stops`).waitFor({ state: 'attached' });
    await openPanel(page, size);
    assert.ok(await page.locator(`[data-testid=sheet-${a.id}] ol.stops`).isVisible());
    await snap(page, '3-show-on-map', size);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('4 actions: create, edit address and window, cancel, reschedule, tracking link, proofs; bulk status and reschedule; CSV import report', { timeout: 240000 }, async () => {
  const page = await pageAt(browser, laptop);
  await loginUI(page, server.base, 'dispatcher');
  await page.locator('[data-testid=nav-orders]').click();
  await page.locator('main.view-orders[data-ready=true]').waitFor();

  // Create.
  await page.locator('[data-testid=new-order]').click();
  const f = (name) => page.locator(`[data-testid=f-${name}]`);
  await f('external_id').fill('E2E-NEW-1');
  await f('customer_name').fill('Мария Новикова');
  await f('customer_phone').fill('+7 900 111-22-33');
  await f('address').fill('Москва, ул. Арбат, 10');
  await f('lat').fill('55.7505');
  await f('lng').fill('37.5935');
  await f('delivery_date').fill(day.date);
  await f('window_from').fill('10:00');
  await f('window_to').fill('12:00');
  await f('weight_kg').fill('2.5');
  await f('cod_method').selectOption('cash');
  await f('cod_amount').fill('1 500,00');
  // A refusal of the server is said in the form from its code and details, not in its English.
  await f('lat').fill('95');
  const [refusal] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/orders') && r.request().method() === 'POST'),
    page.locator('[data-testid=order-save]').click(),
  ]);
  assert.equal(refusal.status(), 422);
  const refused = (await refusal.json()).error;
  const said = plain(await page.locator('[data-testid=modal-error]').textContent());
  assert.equal(said, plain(errorText({ status: 422, code: refused.code, details: refused.details })));
  assert.ok(said.startsWith(t('err_invalid')) && said.includes(t('err_field', { field: '' }).trim()), said);
  assert.ok(!said.includes(refused.message), `the server's message "${refused.message}" is not shown`);
  await f('lat').fill('55.7505');
  await snap(page, '4-new-order', laptop);
  await page.locator('[data-testid=order-save]').click();
  await page.locator('.toast-ok').first().waitFor();
  const created = await eventually(async () => (await api.get('/api/v1/orders?q=E2E-NEW-1')).items[0], 10000, 'created');
  assert.equal(created.address, 'Москва, ул. Арбат, 10');
  assert.equal(created.cod.amount, 150000);
  assert.equal(created.time_window.from, fmt.zoned(day.date, '10:00'));

  // Edit its address and window from its card.
  await page.locator(`[data-testid=orders-table] tr[data-order-id="${created.id}"]`).click();
  await page.locator('[data-testid=order-edit]').click();
  await f('address').fill('Москва, ул. Арбат, 12');
  await f('window_from').fill('14:00');
  await f('window_to').fill('16:00');
  await page.locator('[data-testid=order-save]').click();
  await eventually(async () => (await api.get(`/api/v1/orders/${created.id}`)).address === 'Москва, ул. Арбат, 12', 10000, 'edited');
  const edited = await api.get(`/api/v1/orders/${created.id}`);
  assert.equal(edited.time_window.from, fmt.zoned(day.date, '14:00'));
  await eventually(async () => plain(await page.locator('[data-testid=order-window]').textContent()) === '14:00–16:00', 5000, 'the card shows it');
  // Cancel it.
  await page.locator('[data-testid=order-cancel]').click();
  await page.locator('[data-testid=cancel-reason]').fill('Клиент передумал');
  await page.locator('[data-testid=cancel-confirm]').click();
  await eventually(async () => (await api.get(`/api/v1/orders/${created.id}`)).status === 'cancelled', 10000, 'cancelled');
  await page.locator('[data-testid=order-status][data-status=cancelled]').waitFor();
  await snap(page, '4-cancelled', laptop);
  await page.locator('[data-testid=order-close]').click();

  // Reschedule the failed order to the next day; copy its tracking link.
  const failed = day.a.stops[1].order_id;
  const next = new Date(Date.parse(day.date + 'T12:00:00Z') + 86400000).toISOString().slice(0, 10);
  await page.locator('[data-testid=orders-q]').fill(day.a.stops[1].order.external_id);
  await page.locator(`[data-testid=orders-table] tr[data-order-id="${failed}"]`).click();
  await page.locator('[data-testid=order-reschedule]').click();
  await page.locator('[data-testid=reschedule-date]').fill(next);
  await snap(page, '4-reschedule', laptop);
  await page.locator('[data-testid=reschedule-confirm]').click();
  await eventually(async () => {
    const o = await api.get(`/api/v1/orders/${failed}`);
    return o.status === 'ready' && o.delivery_date === next;
  }, 10000, 'rescheduled');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  await page.locator('[data-testid=order-link]').click();
  const link = await api.get(`/api/v1/orders/${failed}/tracking-link`);
  await eventually(async () => (await page.evaluate(() => document.body.dataset.lastTrackingLink)) === link.url, 5000, 'the link copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link.url);
  await page.locator('[data-testid=order-close]').click();

  // The proofs of the signed delivery.
  const signed = day.a.stops[0].order;
  await page.locator('[data-testid=orders-q]').fill(signed.external_id);
  await page.locator(`[data-testid=orders-table] tr[data-order-id="${signed.id}"]`).click();
  await eventually(async () => page.locator('[data-testid=proof-signature]').evaluate((img) => img.complete && img.naturalWidth > 0), 10000, 'the signature shows');
  await snap(page, '4-proofs', laptop);
  await page.locator('[data-testid=order-close]').click();

  // Bulk status: two new orders cancelled, the delivered one refused in words.
  const mk = async (ext) => api.post('/api/v1/orders', { external_id: ext, customer: { name: 'Пакет', phone: '+7 900 000-00-02' }, address: 'Москва, Тверская ул., 3',
    location: { lat: 55.759, lng: 37.611 }, delivery_date: day.date, cod: { amount: 0, currency: 'RUB', method: 'prepaid' } });
  const b1 = await mk('E2E-BULK-1');
  const b2 = await mk('E2E-BULK-2');
  await page.locator('[data-testid=orders-q]').fill('E2E-BULK');
  await eventually(async () => (await page.locator('[data-testid=orders-table] tbody tr').count()) === 2, 10000, 'two found');
  await page.locator('[data-testid=select-all]').check();
  await page.locator('[data-testid=orders-q]').fill(signed.external_id);
  await page.locator(`[data-testid=select-${signed.id}]`).check();
  assert.equal(plain(await page.locator('[data-testid=selected-count]').textContent()), tn('selected_n', 3));
  await page.locator('[data-testid=bulk-status]').selectOption('cancelled');
  await page.locator('[data-testid=bulk-reason]').fill('Дубль');
  await page.locator('[data-testid=bulk-apply]').click();
  await page.locator('[data-testid=bulk-report]').waitFor();
  assert.equal(plain(await page.locator('[data-testid=bulk-summary]').textContent()), t('bulk_done', { ok: 2, failed: 1 }));
  const refusedRow = plain(await page.locator(`[data-testid=bulk-report] tr[data-order-id="${signed.id}"]`).textContent());
  assert.ok(refusedRow.includes(t('err_conflict')), refusedRow);
  assert.doesNotMatch(refusedRow, /allowed|cannot|status/i, 'the server\'s English is not shown');
  // Why, from the details: a delivered order's status no longer changes.
  assert.ok(refusedRow.includes(t('err_final')) && refusedRow.includes(t('err_now', { status: statusName('delivered') })), refusedRow);
  await snap(page, '4-bulk-status', laptop);
  await page.locator('[data-testid=bulk-close]').click();
  for (const o of [b1, b2]) assert.equal((await api.get(`/api/v1/orders/${o.id}`)).status, 'cancelled');

  // Bulk reschedule: a failed order moves, a cancelled one is refused.
  const failed2 = day.a.stops[4];
  await fail(day.phoneA, failed2, 'customer_absent');
  await page.locator('[data-testid=orders-q]').fill(failed2.order.external_id);
  await page.locator(`[data-testid=select-${failed2.order_id}]`).check();
  await page.locator('[data-testid=orders-q]').fill('E2E-BULK-1');
  await page.locator(`[data-testid=select-${b1.id}]`).check();
  await page.locator('[data-testid=bulk-reschedule]').click();
  await page.locator('[data-testid=bulk-date]').fill(next);
  await page.locator('[data-testid=bulk-apply]').click();
  await page.locator('[data-testid=bulk-report]').waitFor();
  assert.equal(plain(await page.locator('[data-testid=bulk-summary]').textContent()), t('bulk_done', { ok: 1, failed: 1 }));
  await snap(page, '4-bulk-reschedule', laptop);
  await page.locator('[data-testid=bulk-close]').click();
  assert.equal((await api.get(`/api/v1/orders/${failed2.order_id}`)).delivery_date, next);

  // CSV import: two rows in, one refused with its reason in words.
  const dir = mkdtempSync(path.join(tmpdir(), 'csv-'));
  const csv = path.join(dir, 'orders.csv');
  writeFileSync(csv, 'external_id,customer_name,customer_phone,address,lat,lng,delivery_date,weight_kg,cod_amount,cod_method\n' +
    `E2E-CSV-1,Ирина Ли,+7 900 333-44-55,"Москва, ул. Покровка, 5",55.7590,37.6440,${day.date},1.5,120000,cash\n` +
    `E2E-CSV-2,Олег Ким,+7 900 333-44-56,"Москва, ул. Мясницкая, 20",55.7640,37.6370,${day.date},2,0,prepaid\n` +
    `E2E-CSV-3,Без Координат,+7 900 333-44-57,"Москва, нигде",abc,,${day.date},1,0,prepaid\n`);
  await page.locator('[data-testid=import-csv]').click();
  await page.locator('[data-testid=import-file]').setInputFiles(csv);
  await page.locator('[data-testid=import-run]').click();
  await page.locator('[data-testid=import-report]').waitFor();
  assert.equal(plain(await page.locator('[data-testid=import-summary]').textContent()), t('import_result', { created: 2, existing: 0, failed: 1 }));
  const bad = plain(await page.locator('[data-testid=import-report] tr[data-outcome=error]').textContent());
  assert.ok(bad.includes(t('outcome_error')) && bad.includes('E2E-CSV-3'), bad);
  assert.doesNotMatch(bad, /\b(lat|lng)\b/, 'the field in words');
  await snap(page, '4-import-report', laptop);
  await page.locator('[data-testid=import-close]').click();
  assert.equal((await api.get('/api/v1/orders?q=E2E-CSV')).items.length, 2);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // The order card and its actions on the tablet and the phone: create, edit, cancel an order
  // there; the signed order's proofs and every action of its card in view.
  for (const size of [tablet, phone]) {
    const p = await pageAt(browser, size);
    const g = (name) => p.locator(`[data-testid=f-${name}]`);
    await loginUI(p, server.base, 'dispatcher');
    await p.locator('[data-testid=nav-orders]').click();
    await p.locator('main.view-orders[data-ready=true]').waitFor();
    await snap(p, '4-orders', size);
    const ext = `E2E-${size.name}-1`;
    await p.locator('[data-testid=new-order]').click();
    await g('external_id').fill(ext);
    await g('customer_name').fill('Пётр Смирнов');
    await g('customer_phone').fill('+7 900 111-22-44');
    await g('address').fill('Москва, ул. Покровка, 3');
    await g('lat').fill('55.7590');
    await g('lng').fill('37.6450');
    await g('delivery_date').fill(day.date);
    await g('window_from').fill('10:00');
    await g('window_to').fill('12:00');
    await g('weight_kg').fill('1');
    await g('cod_method').selectOption('prepaid');
    await p.locator('[data-testid=order-save]').click();
    const made = await eventually(async () => (await api.get(`/api/v1/orders?q=${ext}`)).items[0], 10000, `created at ${size.name}`);
    await p.locator('[data-testid=orders-q]').fill(ext);
    await p.locator(`[data-testid=orders-table] tr[data-order-id="${made.id}"]`).click();
    await p.locator('[data-testid=order-edit]').click();
    await g('address').fill('Москва, ул. Покровка, 5');
    await p.locator('[data-testid=order-save]').click();
    await eventually(async () => (await api.get(`/api/v1/orders/${made.id}`)).address === 'Москва, ул. Покровка, 5', 10000, `edited at ${size.name}`);
    await p.locator('[data-testid=order-cancel]').click();
    await p.locator('[data-testid=cancel-reason]').fill('Дубль');
    await p.locator('[data-testid=cancel-confirm]').click();
    await eventually(async () => (await api.get(`/api/v1/orders/${made.id}`)).status === 'cancelled', 10000, `cancelled at ${size.name}`);
    await p.locator('[data-testid=order-close]').click();

    await p.locator('[data-testid=orders-q]').fill(signed.external_id);
    await p.locator(`[data-testid=orders-table] tr[data-order-id="${signed.id}"]`).click();
    await p.locator('[data-testid=order-link]').waitFor();
    for (const id of ['order-edit', 'order-cancel', 'order-reschedule', 'order-link', 'order-close']) {
      const b = p.locator(`[data-testid=${id}]`);
      if (!(await b.count())) continue; // not every action applies to a delivered order
      await b.scrollIntoViewIfNeeded();
      const box = await b.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= size.width + 1, `${id} in view at ${size.name}: ${JSON.stringify(box)}`);
    }
    await eventually(async () => p.locator('[data-testid=proof-signature]').evaluate((img) => img.complete && img.naturalWidth > 0), 10000, `the signature at ${size.name}`);
    await snap(p, '4-order-card', size);
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('5 reports: workload, deliveries with fees and pay, on-time rate; tables, CSV download, charts', { timeout: 180000 }, async () => {
  for (const size of sizes) {
    const page = await pageAt(browser, size);
    await loginUI(page, server.base, 'dispatcher');
    await page.locator('[data-testid=nav-reports]').click();
    await page.locator('main.view-reports[data-ready=true]').waitFor();
    const range = `from=${await page.locator('[data-testid=report-from]').inputValue()}&to=${await page.locator('[data-testid=report-to]').inputValue()}`;
    for (const [tab, path, tableId, chartId, rowsOf] of [
      ['workload', 'workload', 'workload-table', 'chart-workload', (d) => d.rows.length],
      ['deliveries', 'deliveries', 'deliveries-couriers', 'chart-deliveries', (d) => d.couriers.length],
      ['on-time', 'on-time', 'ontime-days', 'chart-ontime', (d) => d.days.length],
    ]) {
      await page.locator(`[data-testid=report-tab-${tab}]`).click();
      await page.locator(`main.view-reports[data-report="${tab}"]`).waitFor();
      const d = await api.get(`/api/v1/reports/${path}?${range}`);
      assert.ok(rowsOf(d) > 0, `the ${tab} report has rows for the day under way`);
      assert.equal(await page.locator(`[data-testid=${tableId}] tbody tr`).count(), rowsOf(d));
      // A chart drawn from the same rows (uPlot on a canvas).
      await page.locator(`[data-testid=${chartId}] canvas`).first().waitFor();
      const fig = page.locator(`[data-testid=${chartId}]`);
      assert.equal(await fig.getAttribute('data-points'), String(rowsOf(d)));
      // One category per row on the x axis (a single day is not stretched over years), the legend in Russian.
      const span = Number(await fig.getAttribute('data-x-max')) - Number(await fig.getAttribute('data-x-min'));
      assert.ok(span > 0 && span <= rowsOf(d) + 1.5, `the x axis spans ${span} for ${rowsOf(d)} rows`);
      assert.doesNotMatch(await fig.locator('.u-legend').innerText(), /\b(Value|Time)\b|--/, 'the legend in words, a dash for no value');
      if (tab === 'deliveries') {
        const fees = d.totals.find((x) => x.currency === 'RUB');
        const foot = plain(await page.locator('[data-testid=deliveries-couriers] tfoot tr').first().textContent());
        assert.ok(foot.includes(plain(fmt.money(fees.fees))) && foot.includes(plain(fmt.money(fees.pay.total))), foot);
        // How each fee was priced, in words from its parts, not the server's English rule.
        const priced = d.lines.filter((l) => l.kind === 'stop' && l.fee_rule);
        assert.ok(priced.length > 0, 'a priced delivery');
        for (const l of priced) {
          const cell = plain(await page.locator(`[data-testid=fee-rule-${l.order_id}]`).textContent());
          assert.equal(cell, plain(feeRuleText(l, (m) => fmt.money(m, l.currency))));
          assert.doesNotMatch(cell, /tariff|base|started|depot|override|priced/);
        }
      }
      if (size === laptop) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=report-csv]').click()]);
        const file = await download.path();
        const csv = (await import('node:fs')).readFileSync(file, 'utf8');
        assert.ok(csv.split('\n').length > 1 && /courier|group/.test(csv.split('\n')[0]), csv.slice(0, 200));
      }
      await snap(page, `5-report-${tab}`, size);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('6 language: Russian and English from one dictionary, units and plurals, no codes and no English on any screen', { timeout: 120000 }, async () => {
  const page = await pageAt(browser, laptop);
  await loginUI(page, server.base, 'dispatcher');
  assert.equal(await page.title(), 'Консоль доставки');
  assert.equal(await page.locator('[data-testid=nav-map]').textContent(), 'Карта');
  const ruText = await page.locator('body').innerText();
  assert.match(ruText, /\d\sкм/);
  assert.doesNotMatch(ruText, /\b(km|kg|min|window_unreachable|no_capacity|failed_attempt|out_for_delivery|published|draft|active)\b/);
  // Every screen the dispatcher and the cashier use, in Russian: no English word and no code
  // (what the server said in English, a chart's own labels, a unit), only data may be Latin.
  // (Keys are named as the keyboard has them: Enter, Esc.)
  const latin = (text) => [...text.matchAll(/[A-Za-z][A-Za-z'’]{2,}/g)]
    .filter((m) => !/^(PDF|CSV|SHOP|E2E|NEW|LATE|BULK|Leaflet|Enter|Esc|courier\d*|dispatcher|cashier|admin)$/.test(m[0]))
    .map((m) => `${m[0]} in "${text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ')}"`);
  const screenRu = async (where) => {
    const text = await page.locator('body').innerText();
    assert.deepEqual(latin(text), [], `English on ${where}`);
    assert.doesNotMatch(text, /\b(km|kg|min|h)\b|\b[a-z]+_[a-z_]+\b/, `a unit or a code on ${where}`);
  };
  await page.locator('[data-testid=alert-button]').click();
  await page.locator('[data-testid=alerts] ul.alert-list').waitFor();
  await page.locator(`[data-testid=sheet-toggle-${day.a.id}]`).click();
  await page.locator(`[data-testid=sheet-${day.a.id}] ol.stops`).waitFor();
  await page.locator('[data-testid=legend] summary').click();
  const legendText = await page.locator('[data-testid=legend]').innerText();
  for (const k of ['stop_planned', 'stop_current', 'stop_late', 'stop_delivered', 'stop_failed', 'legend_unassigned', 'legend_initials']) assert.ok(legendText.includes(t(k)), `the legend says ${t(k)}`);
  assert.doesNotMatch(legendText, /[A-Za-z]/, 'the legend has no Latin letter');
  await screenRu('the map with the late list and the legend');
  await page.locator('[data-testid=nav-orders]').click();
  await page.locator('main.view-orders[data-ready=true]').waitFor();
  await screenRu('the orders');
  for (const st of [day.a.stops[1], day.a.stops[0]]) {
    // The failed and rescheduled order (now on the next day), the delivered one with its proof: history notes, reasons, payment.
    const o = await api.get(`/api/v1/orders/${st.order_id}`);
    await page.locator('[data-testid=orders-date]').fill(o.delivery_date);
    await page.locator('[data-testid=orders-q]').fill(st.order.external_id);
    await page.locator(`[data-testid=orders-table] tr[data-order-id="${st.order_id}"]`).click();
    await page.locator('[data-testid=timeline] li').first().waitFor();
    await screenRu(`the card of ${st.order.external_id}`);
    await page.locator('[data-testid=order-close]').click();
  }
  await page.locator('[data-testid=nav-couriers]').click();
  await page.locator('main.view-couriers[data-ready=true]').waitFor();
  await screenRu('the couriers');
  await page.locator('[data-testid=nav-reports]').click();
  await page.locator('main.view-reports[data-ready=true]').waitFor();
  for (const tab of ['workload', 'deliveries', 'on-time']) {
    await page.locator(`[data-testid=report-tab-${tab}]`).click();
    await page.locator(`main.view-reports[data-report="${tab}"] .u-legend`).first().waitFor();
    await screenRu(`the ${tab} report`);
  }
  const desk = await pageAt(browser, laptop);
  await loginUI(desk, server.base, 'cashier');
  await desk.keyboard.type(day.a.number);
  await desk.keyboard.press('Enter');
  await desk.locator('[data-testid=cash-orders]').waitFor();
  await desk.locator('[data-testid=courier-balance]').waitFor();
  const deskText = await desk.locator('body').innerText();
  assert.deepEqual(latin(deskText), [], 'English on the cash desk');
  assert.doesNotMatch(deskText, /\b(cash|card|km|kg|min)\b/);
  assert.deepEqual(desk.errors, []);
  await desk.context().close();
  await page.locator('[data-testid=nav-map]').click();
  await page.locator('main.view-map[data-ready=true]').waitFor();

  await page.locator('[data-testid=language]').click();
  await page.locator('main[data-ready=true]').waitFor();
  assert.equal(await page.locator('[data-testid=nav-map]').textContent(), 'Map');
  assert.equal(await page.title(), 'Courier console');
  const enText = await page.locator('body').innerText();
  assert.match(enText, /\d\skm/);
  assert.doesNotMatch(enText, /Маршрутные листы|Планирование|\d\sкм/);
  await snap(page, '6-english', laptop);
  await page.locator('[data-testid=language]').click();
  await page.locator('main[data-ready=true]').waitFor();
  assert.equal(await page.locator('[data-testid=nav-map]').textContent(), 'Карта');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('7 layout at 1366x768, 1024x768 and 390x844: nothing off screen, the map stays, logout in reach, route colours apart, icons', { timeout: 180000 }, async () => {
  const zones = (await api.get('/api/v1/zones')).features.map((z) => z.properties.color);
  const screens = { dispatcher: ['map', 'orders', 'couriers', 'reports'], cashier: ['cashdesk', 'orders', 'couriers'] };
  for (const size of sizes) {
    for (const [login, names] of Object.entries(screens)) {
      const page = await pageAt(browser, size);
      await loginUI(page, server.base, login);
      for (const name of names) {
        await page.evaluate((n) => { location.hash = '#/' + n; }, name);
        await page.locator(`main.view-${name}[data-ready=true]`).waitFor();
        const m = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: innerWidth }));
        assert.ok(m.sw <= m.w + 1, `${login} ${name} at ${size.name}: the page is ${m.sw} px wide in ${m.w}`);
        const out = await page.locator('[data-testid=logout]').boundingBox();
        assert.ok(out && out.x >= 0 && out.x + out.width <= size.width && out.y + out.height <= size.height, `logout in reach on ${name} at ${size.name}`);
        assert.doesNotMatch(await page.locator('body').innerText(), /\p{Extended_Pictographic}/u, 'icons, not emoji');
        if (name === 'map') {
          const map = await page.locator('#map').boundingBox();
          assert.ok(map.width >= Math.min(size.width - 420, size.width * 0.6) && map.height >= 300, `the map at ${size.name}: ${map.width}x${map.height}`);
          // Route colours never look like a status or a zone colour.
          const colors = await page.locator('.leaflet-marker-pane .stop-num').evaluateAll((els) => [...new Set(els.map((e) => e.style.background))]);
          const hex = (rgb) => '#' + rgb.match(/\d+/g).slice(0, 3).map((v) => Number(v).toString(16).padStart(2, '0')).join('');
          for (const c of colors.map(hex)) {
            for (const other of [...Object.values(statusColors), ...zones]) {
              assert.ok(colorDistance(c, other) >= minDistance, `route colour ${c} is too close to ${other}`);
            }
          }
          if (login === 'dispatcher') {
            // The lock of a stop is an icon (an SVG drawn the same everywhere), not an emoji; it locks and unlocks.
            const pub = day.sheets[2];
            await openPanel(page, size);
            await page.locator(`[data-testid=sheet-toggle-${pub.id}]`).click();
            const first = page.locator(`[data-testid=sheet-${pub.id}] button[data-testid^=lock-]`).first();
            await first.waitFor();
            const lockId = await first.getAttribute('data-testid');
            const lock = page.locator(`[data-testid=${lockId}]`);
            assert.equal(await lock.locator('svg.icon').count(), 1, 'the lock is an icon');
            assert.equal((await lock.innerText()).trim(), '', 'no character stands for the lock');
            assert.doesNotMatch(await page.locator('aside.side').innerText(), /\p{Extended_Pictographic}/u, 'no emoji in the stop list');
            if (size === laptop) {
              await lock.click();
              await page.locator(`[data-testid=${lockId}][aria-pressed=true] svg.icon-lock`).waitFor();
              await lock.click();
              await page.locator(`[data-testid=${lockId}][aria-pressed=false] svg.icon-unlock`).waitFor();
            }
            await page.locator(`[data-testid=sheet-toggle-${pub.id}]`).click();
            if (size === phone) await page.locator('[data-testid=panel-toggle]').click();
          }
          if (size === phone) {
            await page.locator('[data-testid=panel-toggle]').click();
            const side = await page.locator('aside.side').boundingBox();
            const mapOpen = await page.locator('#map').boundingBox();
            assert.ok(side.height > 200 && mapOpen.height > 250, 'the panel opens below a map that stays');
            await snap(page, '7-map-panel-open', size);
            await page.locator('[data-testid=panel-toggle]').click();
          }
        }
        if (name === 'cashdesk') {
          const scan = await page.locator('#scan').boundingBox();
          assert.ok(scan.width >= size.width * 0.6 && scan.y < 160, `the scanner leads the cash desk at ${size.name}: ${scan.width} px at ${scan.y}`);
        }
        await snap(page, `7-${login}-${name}`, size);
      }
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
});

test('8 cash desk: short at the door and at the desk, messages that agree with the balance, a true minus, lines that add up', { timeout: 240000 }, async () => {
  // Courier A finishes the day; one cash order collected 500,00 short at the door.
  const done = await finishSheet(api, day.phoneA, day.a.id, 50000);
  assert.equal(done.status, 'completed');
  const cashier = await new Client(server.base).login('cashier');
  const view = await cashier.get(`/api/v1/cashdesk/sheets/${day.a.number}`);
  const owed = view.totals.outstanding;
  assert.ok(owed > 10000 && view.totals.short_at_door === 50000);
  const money = (m) => plain(fmt.money(m));
  const page = await pageAt(browser, tablet); // the cash desk's own screen
  await loginUI(page, server.base, 'cashier');
  await page.locator('[data-testid=shift-open]').click();
  await page.locator('[data-testid=shift-state][data-open=true]').waitFor();
  await eventually(async () => page.evaluate(() => document.activeElement?.id === 'scan'), 5000, 'the scanner has the focus');
  await page.keyboard.type(day.a.number);
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=cash-orders]').waitFor();
  // Reported against due: the short collection at the door is shown as such; every column adds up.
  assert.equal(plain(await page.locator('[data-testid=expected]').textContent()), money(owed));
  assert.equal(plain(await page.locator('[data-testid=reported]').textContent()), `${t('reported')}: ${money(view.totals.expected)}`);
  assert.ok(plain(await page.locator('[data-testid=short-at-door]').textContent()).includes(money(50000)));
  // Due at the door counts the orders delivered or still to deliver; less what the courier reported, it is the short collection.
  const dueShown = (o) => (['pending', 'to_settle', 'settled'].includes(o.state) ? o.expected_cash : 0);
  const sum = (f) => view.orders.reduce((a, o) => a + f(o), 0);
  assert.equal(plain(await page.locator('[data-testid=sum-due]').textContent()), money(sum(dueShown)));
  assert.equal(plain(await page.locator('[data-testid=sum-reported]').textContent()), money(sum((o) => o.reported_collected)));
  assert.equal(plain(await page.locator('[data-testid=sum-card]').textContent()), money(sum((o) => o.card)));
  assert.equal(sum(dueShown) - sum((o) => o.reported_collected) - sum((o) => (o.state === 'pending' ? o.expected_cash : 0)), view.totals.short_at_door);
  // Counted 100,00 short at the desk: a true minus before confirming.
  await page.keyboard.type(fmt.amountInput(owed - 10000));
  await eventually(async () => (await page.locator('[data-testid=difference]').getAttribute('class')).includes('short'), 5000, 'shortage shown');
  assert.equal(plain(await page.locator('[data-testid=difference]').textContent()), plain(fmt.signedMoney(-10000)));
  assert.ok((await page.locator('[data-testid=difference]').textContent()).startsWith('\u2212'));
  await snap(page, '8-shortage', tablet);
  await page.keyboard.press('Enter');
  await page.keyboard.type('не хватило');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=settle-result]').waitFor();
  // The messages agree with the balance: the sheet is closed, the courier owes the shortage.
  const bal = await cashier.get(`/api/v1/cashdesk/couriers/${day.a.courier_id}/balance`);
  assert.equal(bal.owed, 10000);
  await page.locator('[data-testid=courier-balance][data-owed="10000"]').waitFor();
  const balText = plain(await page.locator('[data-testid=courier-balance]').textContent());
  assert.ok(balText.includes(money(10000)) && !balText.includes(t('balance_zero')), balText);
  const msg = plain(await page.locator('[data-testid=nothing-to-settle]').textContent());
  assert.equal(msg, t('sheet_settled'));
  assert.doesNotMatch(await page.locator('[data-testid=cash-sheet]').innerText(), /погашен|ничего не должен/);
  // What the sheet took in agrees with what was counted: closed, counted, and the difference with a true minus.
  const after = await cashier.get(`/api/v1/cashdesk/sheets/${day.a.number}`);
  assert.equal(after.totals.counted, owed - 10000);
  const settledLine = t('settled_line', { settled: fmt.money(after.totals.settled), counted: fmt.money(owed - 10000), diff: fmt.signedMoney(-10000) });
  assert.equal(plain(await page.locator('[data-testid=settled-line]').textContent()), plain(settledLine));
  await snap(page, '8-settled', tablet);
  // The shift report: signed amounts with a true minus, cash and card that add up.
  await page.locator('[data-testid=shift-close]').click();
  await page.locator('[data-testid=shift-close-confirm]').click();
  await page.locator('[data-testid=report]').waitFor();
  await page.locator('[data-testid=report]').scrollIntoViewIfNeeded();
  const reportText = await page.locator('[data-testid=report]').innerText();
  assert.equal(plain(await page.locator('[data-testid=report-discrepancy]').textContent()), plain(fmt.signedMoney(-10000)));
  assert.doesNotMatch(reportText, /[+-]\s?\d/, 'no plus over a shortage, no hyphen for a minus');
  const shifts = await cashier.get('/api/v1/cashdesk/shifts/' + (await page.locator('[data-testid=report] h3').textContent()).split('#')[1]);
  const rep = shifts.report || shifts;
  const by = Object.fromEntries((rep.by_method || []).map((m) => [m.method, m]));
  assert.equal(plain(await page.locator('[data-testid=report-sum]').textContent()),
    `${t('report_total')}: ${plain(t('report_check', { cash: fmt.money(by.cash.amount), card: fmt.money(by.card.amount), total: fmt.money(by.cash.amount + by.card.amount) }))}`);
  // The card line counts the orders paid by card on the sheet (not "0 orders" over an amount).
  const cardOrders = view.orders.filter((o) => o.card > 0);
  assert.ok(cardOrders.length > 0, 'card orders on sheet A');
  assert.equal(by.card.orders, cardOrders.length);
  assert.equal(by.card.amount, sum((o) => o.card));
  assert.equal(plain(await page.locator('[data-testid=report-card]').textContent()),
    plain(t('method_card_line', { n: cardOrders.length, amount: fmt.money(by.card.amount) })));
  assert.ok(!plain(await page.locator('[data-testid=report-card]').textContent()).includes(t('expected').toLowerCase()), 'no "expected 0" on the card line');
  await snap(page, '8-shift-report', tablet);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  for (const size of [laptop, phone]) {
    const p = await pageAt(browser, size);
    await loginUI(p, server.base, 'cashier');
    await p.keyboard.type(day.a.number);
    await p.keyboard.press('Enter');
    await p.locator('[data-testid=courier-balance][data-owed="10000"]').waitFor();
    // Scanned again later: the same line, not "handed in" the full amount.
    assert.equal(plain(await p.locator('[data-testid=settled-line]').textContent()), plain(settledLine));
    await snap(p, '8-cashdesk', size);
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('9 route sheet PDF: opened from the console; money and dates in the locale, DRAFT on a draft, labelled columns, any Unicode text printed', { timeout: 180000 }, async () => {
  const page = await pageAt(browser, laptop);
  await loginUI(page, server.base, 'dispatcher');
  const pdfBtn = page.locator(`[data-testid=pdf-${day.a.id}]`);
  const [popup] = await Promise.all([page.waitForEvent('popup'), pdfBtn.click()]);
  await eventually(async () => popup.url().startsWith('blob:'), 15000, 'the PDF tab');
  await popup.close();
  await page.context().close();
  const dir = mkdtempSync(path.join(tmpdir(), 'pdf-'));
  const read = async (id) => {
    const res = await fetch(`${server.base}/api/v1/route-sheets/${id}/pdf`, { headers: { Authorization: 'Bearer ' + api.token } });
    assert.equal(res.status, 200);
    const file = path.join(dir, `${id}.pdf`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return execFileSync('pdftotext', ['-layout', file, '-']).toString().replace(/\u00a0/g, ' ');
  };
  const published = await read(day.sheets[2].id);
  assert.match(published, /Окно клиента/);
  assert.match(published, /Приезд/);
  assert.match(published, /\d \d{3},\d{2} ₽|\d+,\d{2} ₽/);
  assert.doesNotMatch(published, /RUB|ЧЕРНОВИК/);
  assert.match(published, new RegExp(day.date.split('-').reverse().join('\\.')));
  // A draft: a plan for the next day, not published.
  const next = new Date(Date.parse(day.date + 'T12:00:00Z') + 86400000).toISOString().slice(0, 10);
  // With an order whose customer and address are in scripts and symbols the font may lack.
  const odd = await api.post('/api/v1/orders', {
    external_id: 'E2E-UNICODE-1', customer: { name: 'Zoë Łukasz 李 🚚', phone: '+7 900 000-00-09' }, address: 'Москва, ул. Арбат, 2 🏠 東京',
    location: { lat: 55.752, lng: 37.598 }, delivery_date: next, weight_kg: 1, cod: { amount: 0, currency: 'RUB', method: 'prepaid' },
  });
  await api.post(`/api/v1/orders/${odd.id}/status`, { status: 'confirmed' });
  await api.post(`/api/v1/orders/${odd.id}/status`, { status: 'ready' });
  const plan = await api.post('/api/v1/plans', { date: next, depot_id: day.depot.id, time_limit_s: 2 });
  const p = await eventually(async () => { const x = await api.get(`/api/v1/plans/${plan.id}`); return x.status === 'done' ? x : null; }, 60000, 'the draft plan');
  assert.ok(p.sheets.length > 0, 'the rescheduled orders make a draft');
  assert.match(await read(p.sheets[0].id), /ЧЕРНОВИК · лист ещё не опубликован/);
  const withOdd = [];
  for (const sh of p.sheets) if ((await api.get(`/api/v1/route-sheets/${sh.id}`)).stops.some((x) => x.order_id === odd.id)) withOdd.push(sh.id);
  assert.equal(withOdd.length, 1, 'the order with odd text is on a draft sheet');
  const oddText = await read(withOdd[0]);
  assert.match(oddText, /Zoë Łukasz/);
  assert.match(oddText, /ул\. Арбат, 2/);
});
