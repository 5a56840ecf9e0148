// The console's one dictionary: every key in both languages, every key the
// sources use in it, every code the API may send named in words, plurals
// with all their forms, and errors said from their code and details.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dictionaries, setLanguage, t, tn, errorText, historyNote, reasonText, violationText, word, fieldName, feeRuleText, historyComment } from '../src/i18n.js';
import { makeFormat } from '../src/format.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, '..', 'src');
const repo = path.join(here, '..', '..');
const { en, ru, statusNames } = dictionaries;
const plural = /_(zero|one|two|few|many|other)$/;
const base = (k) => k.replace(plural, '');

test('every key is in English and in Russian', () => {
  const e = new Set(Object.keys(en).map(base));
  const r = new Set(Object.keys(ru).map(base));
  assert.deepEqual([...e].filter((k) => !r.has(k)), [], 'missing in Russian');
  assert.deepEqual([...r].filter((k) => !e.has(k)), [], 'missing in English');
  assert.deepEqual(Object.keys(statusNames.en).sort(), Object.keys(statusNames.ru).sort(), 'status names');
  for (const [k, v] of Object.entries(ru)) assert.ok(typeof v === 'string' && v.length > 0, `ru ${k} is empty`);
  for (const [k, v] of Object.entries(en)) assert.ok(typeof v === 'string' && v.length > 0, `en ${k} is empty`);
});

test('counts have every plural form of their language', () => {
  for (const k of Object.keys(en).filter((x) => x.endsWith('_other') && en[base(x) + '_one']).map(base)) {
    for (const f of ['one', 'other']) assert.ok(en[`${k}_${f}`], `en ${k}_${f}`);
    for (const f of ['one', 'few', 'many', 'other']) assert.ok(ru[`${k}_${f}`], `ru ${k}_${f}`);
  }
  setLanguage('ru');
  assert.equal(tn('stops_n', 1), '1 точка');
  assert.equal(tn('stops_n', 3), '3 точки');
  assert.equal(tn('stops_n', 5), '5 точек');
  assert.equal(tn('stops_n', 21), '21 точка');
  assert.equal(tn('late_n', 2), '2 опаздывают');
  setLanguage('en');
  assert.equal(tn('stops_n', 1), '1 stop');
  assert.equal(tn('stops_n', 27), '27 stops');
});

/** The console's sources (the courier app's words are its own test's). */
function sources() {
  return readdirSync(src).filter((f) => f.endsWith('.js')).map((f) => [f, readFileSync(path.join(src, f), 'utf8')]);
}

test('every key the console uses is in the dictionary', () => {
  const missing = [];
  for (const [f, text] of sources()) {
    if (f === 'i18n.js') continue;
    for (const m of text.matchAll(/\bt\('([a-z0-9_]+)'[,)]/g)) if (en[m[1]] === undefined || ru[m[1]] === undefined) missing.push(`${f}: t('${m[1]}')`);
    for (const m of text.matchAll(/\btn\('([a-z0-9_]+)'[,)]/g)) if (en[m[1] + '_other'] === undefined || ru[m[1] + '_many'] === undefined) missing.push(`${f}: tn('${m[1]}')`);
    for (const m of text.matchAll(/\btIn\([^,]+, '([a-z0-9_]+)'[,)]/g)) if (en[m[1]] === undefined || ru[m[1]] === undefined) missing.push(`${f}: tIn('${m[1]}')`);
    // Keys kept in tables and said later with t(x.label): the screens, the report tabs.
    for (const m of text.matchAll(/\blabel: '([a-z0-9_]+)'/g)) if (en[m[1]] === undefined || ru[m[1]] === undefined) missing.push(`${f}: label '${m[1]}'`);
  }
  assert.deepEqual(missing, []);
});

test('every code the API sends has words', () => {
  const spec = readFileSync(path.join(repo, 'mobile-api-spec', 'openapi.yaml'), 'utf8');
  const enumOf = (re) => {
    const m = re.exec(spec);
    assert.ok(m, `enum ${re} in the spec`);
    return m[1].split(',').map((s) => s.trim());
  };
  const groups = {
    reason_: enumOf(/reason: \{type: string, enum: \[(no_capacity[^\]]*)\]/),
    vehicle_: enumOf(/type: \{type: string, enum: \[(foot[^\]]*)\]/),
    role_: enumOf(/Role:\s+type: string\s+enum: \[([^\]]*)\]/),
    status_: enumOf(/status: \{type: string, enum: \[(draft[^\]]*)\]/),
    state_: enumOf(/state: \{type: string, enum: \[(pending[^\]]*)\]/),
    pay_: enumOf(/method: \{type: string, enum: \[(cash, card, prepaid)\]/),
  };
  const errors = readFileSync(path.join(repo, 'error.go'), 'utf8');
  groups.err_ = [...errors.matchAll(/^\s+E[A-Z]+\s+= "([a-z_]+)"/gm)].map((m) => m[1]);
  assert.ok(groups.err_.length >= 10, 'error codes read from error.go');
  const dispatchSheets = readFileSync(path.join(repo, 'dispatch', 'sheets.go'), 'utf8');
  groups.viol_ = /Kind +string \/\/ ([a-z_, ]+)/.exec(dispatchSheets)[1].split(',').map((s) => s.trim()).concat(['max_duration']);
  groups.fail_ = ['no_answer', 'refused', 'wrong_address', 'damaged', 'customer_absent', 'reschedule', 'handed_back'];
  // Keys the console builds from a code (t('proof_' + kind) and the like): each code has words in both languages.
  groups.proof_ = enumOf(/kind: \{type: string, enum: \[(signature, photo)\]/);
  groups.ev_ = enumOf(/kind: \{type: string, enum: \[(created, updated[^\]]*)\]/);
  groups.outcome_ = enumOf(/outcome: \{type: string, enum: \[(created, existing, error)\]/).concat(['ok']);
  groups.stop_ = ['delivered', 'failed', 'cancelled', 'late', 'current', 'planned'];
  groups.fee_ = ['base', 'weight', 'distance', 'window', 'free_above', 'other', 'manual', 'legacy'];
  const missing = [];
  for (const [prefix, codes] of Object.entries(groups)) {
    for (const c of codes) if (en[prefix + c] === undefined || ru[prefix + c] === undefined) missing.push(prefix + c);
  }
  // Every column of the order CSV import names a field the console says in words.
  const importGo = readFileSync(path.join(repo, 'dispatch', 'import.go'), 'utf8');
  groups.field_ = [...(/var CSVColumns = \[\]string\{([^}]*)\}/s.exec(importGo)[1]).matchAll(/"([a-z_]+)"/g)].map((m) => m[1]).concat(['csv', 'location', 'time_window', 'cod']);
  assert.ok(groups.field_.length >= 20, 'the CSV columns read from dispatch/import.go');
  const statuses = enumOf(/OrderStatus:\s+type: string\s+enum: \[([^\]]*)\]/s).map((s) => s.replace(/\s+/g, ''));
  for (const s of statuses) if (!statusNames.ru[s] || !statusNames.en[s]) missing.push('status ' + s);
  assert.deepEqual(missing, []);
});

test('no English words hard-coded in what the console shows', () => {
  // Literals that read as English text given to the DOM builder or a toast.
  const offenders = [];
  for (const [f, text] of sources()) {
    if (f === 'i18n.js') continue;
    for (const line of text.split('\n')) {
      const l = line.trim();
      if (l.startsWith('//') || l.startsWith('*') || l.startsWith('/*')) continue;
      for (const m of l.matchAll(/(?:toast|h\('[^']*'(?:, \{[^}]*\})?|textContent =|title:|placeholder:|'aria-label':)\s*,?\s*'([A-Za-z][a-z]+(?: [a-z]+)*)'/g)) {
        offenders.push(`${f}: ${m[1]}`);
      }
      for (const m of l.matchAll(/' (kg|km|min|h|l)'/g)) offenders.push(`${f}: unit '${m[1]}' in ${l.slice(0, 80)}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('errors are said from their code and details, never the server\'s English', () => {
  setLanguage('ru');
  const err = (status, code, details = {}, message = 'order 12 is planned; allowed: cancelled') => Object.assign(new Error(message), { status, code, details });
  assert.equal(errorText(err(409, 'conflict', { status: 'planned', allowed: ['out_for_delivery', 'cancelled'] })),
    'В текущем состоянии это невозможно: можно: в доставке, отменён; сейчас: запланирован');
  assert.equal(errorText(err(422, 'invalid', { field: 'address' })), 'Данные не приняты: поле: адрес');
  assert.equal(errorText(err(422, 'invalid', { field: 'items[2].barcode' })), 'Данные не приняты: поле: товары');
  assert.equal(errorText(err(404, 'not_found')), 'Не найдено (или уже нет)');
  assert.equal(errorText(err(500, 'internal', { request_id: 'r-1' })), 'Ошибка сервера: запрос r-1');
  assert.equal(errorText(err(409, 'conflict', { version: 3 })), 'В текущем состоянии это невозможно: данные изменились: обновите и повторите');
  assert.equal(errorText(Object.assign(new TypeError('Failed to fetch'))), 'Нет связи с сервером');
  assert.match(errorText(err(422, 'invalid', { violations: [{ kind: 'capacity', order_id: 1 }] })), /перегруз машины/);
  for (const e of [err(409, 'conflict'), err(422, 'invalid', { field: 'x' })]) assert.doesNotMatch(errorText(e), /allowed|order 12/);
  assert.equal(fieldName('unknown_thing'), 'unknown_thing');
  // A status change refused from a final state (the server's details: from, to, allowed []).
  assert.equal(errorText(err(409, 'conflict', { from: 'delivered', to: 'cancelled', allowed: [] })), 'В текущем состоянии это невозможно: статус больше не меняется; сейчас: доставлен');
  assert.equal(errorText(err(422, 'invalid', { field: 'lat' })), 'Данные не приняты: поле: широта');
  setLanguage('en');
  assert.equal(errorText(err(403, 'forbidden')), 'Not allowed for this login');
});

test('history notes, reasons, violations and codes in words', () => {
  setLanguage('ru');
  assert.equal(historyNote('route sheet 0000123 published'), 'маршрутный лист 0000123 опубликован');
  assert.equal(historyNote('rescheduled to 2026-05-02', (d) => d.split('-').reverse().join('.')), 'перенесён на 02.05.2026');
  assert.equal(historyNote('moved by the dispatcher: route sheet 0000123'), 'диспетчер перенёс в лист 0000123');
  assert.equal(historyNote('no_answer'), 'никто не ответил');
  assert.equal(historyNote('Клиент попросил отменить'), 'Клиент попросил отменить');
  assert.equal(reasonText('window_unreachable'), 'не успеть к окну доставки');
  assert.equal(reasonText(''), 'ещё не планировался');
  assert.equal(violationText({ kind: 'zone' }, { order: 'A-1', courier: 'Игорь' }), 'курьер не обслуживает эту зону · A-1 · маршрут: Игорь');
  assert.equal(word('vehicle_', 'van'), 'фургон');
  assert.equal(word('pay_', 'card'), 'карта');
  assert.equal(word('vehicle_', 'hovercraft'), 'hovercraft');
  assert.equal(t('nav_reports'), 'Отчёты');
  setLanguage('en');
});

test('a fee\'s rule in words from its parts, never the server\'s English', () => {
  setLanguage('ru');
  const money = makeFormat({ currency: 'RUB', language: 'ru' }).money;
  const plain = (x) => x.replace(/[\u00a0\u202f]/g, ' ');
  const line = { fee: 27400, fee_parts: { base: 19900, weight: 0, distance: 7500, window: 0, free_above: 0, other: 0 }, tariff_version: 0,
    fee_rule: 'tariff v0: base (the base fee of zone 3) + distance (5 started km from the depot)' };
  assert.equal(plain(feeRuleText(line, money)), 'тариф v0: база 199,00 ₽ + расстояние 75,00 ₽');
  const free = { ...line, fee: 0, fee_parts: { base: 19900, distance: 7500, free_above: -27400 } };
  assert.equal(plain(feeRuleText(free, money)), 'тариф v0: база 199,00 ₽ + расстояние 75,00 ₽ + бесплатная доставка \u2212274,00 ₽');
  assert.equal(plain(feeRuleText({ fee: 50000, fee_parts: { other: 50000 }, tariff_version: null, fee_rule: 'override (set by the dispatcher)' }, money)), 'задана вручную 500,00 ₽');
  assert.equal(plain(feeRuleText({ fee: 30000, fee_parts: { other: 30000 }, tariff_version: null, fee_rule: 'priced before tariff versions' }, money)), 'цена до версий тарифа: 300,00 ₽');
  assert.equal(feeRuleText({ fee: 0, fee_parts: {}, tariff_version: null, fee_rule: '' }, money), '');
  setLanguage('en');
  assert.equal(plain(feeRuleText(line, makeFormat({ currency: 'RUB', language: 'en' }).money)), 'tariff v0: base RUB 199.00 + distance RUB 75.00');
});

test('the server\'s own history comments in words, money in the locale; what people typed as it is', () => {
  setLanguage('ru');
  const money = makeFormat({ currency: 'RUB', language: 'ru' }).money;
  const plain = (x) => x.replace(/[\u00a0\u202f]/g, ' ');
  assert.equal(plain(historyComment('1400.00 RUB collected by card', money)), 'получено 1 400,00 ₽ · карта');
  assert.equal(plain(historyComment('received by Анна; 2 pieces refused (back to the depot); short collection: 3300.00 RUB of 3800.00 RUB collected', money)),
    'получил: Анна; отказ от 2 шт. (вернётся на склад); недобор: получено 3 300,00 ₽ из 3 800,00 ₽');
  assert.equal(historyComment('paid by card instead of cash (terminal slip T-9)', money), 'оплачено картой вместо наличных (чек терминала T-9)');
  assert.equal(historyComment('paid in cash instead of by card', money), 'оплачено наличными вместо карты');
  assert.equal(historyComment('route sheet 000000018 settled at the cash desk', money), 'маршрутный лист 000000018 закрыт в кассе');
  assert.equal(historyComment('Клиент просил позвонить; received by', money), 'Клиент просил позвонить; received by');
  assert.equal(historyComment('', money), '');
  setLanguage('en');
  assert.equal(historyComment('received by Anna', money), 'received by Anna');
});
