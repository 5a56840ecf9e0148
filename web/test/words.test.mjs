import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { words } from '../src/courier/words.js';
import { addWords, setLanguage, t, tn } from '../src/i18n.js';

const base = (k) => k.replace(/_(one|few|many|other)$/, '');

test('every word of the courier app is in English and in Russian', () => {
  const en = new Set(Object.keys(words.en).map(base));
  const ru = new Set(Object.keys(words.ru).map(base));
  assert.deepEqual([...en].filter((k) => !ru.has(k)), [], 'missing in Russian');
  assert.deepEqual([...ru].filter((k) => !en.has(k)), [], 'missing in English');
});

test('counts have every plural form of their language', () => {
  const counted = Object.keys(words.en).filter((k) => k.endsWith('_other')).map(base);
  for (const k of counted) {
    for (const f of ['one', 'other']) assert.ok(words.en[`${k}_${f}`], `en ${k}_${f}`);
    for (const f of ['one', 'few', 'many', 'other']) assert.ok(words.ru[`${k}_${f}`], `ru ${k}_${f}`);
  }
  addWords(words);
  setLanguage('ru-RU');
  assert.equal(tn('waiting', 1), '1 действие ждёт отправки');
  assert.equal(tn('waiting', 3), '3 действия ждут отправки');
  assert.equal(tn('waiting', 5), '5 действий ждут отправки');
  assert.equal(tn('waiting', 21), '21 действие ждёт отправки');
  setLanguage('en-US');
  assert.equal(tn('waiting', 1), '1 action waiting to send');
  assert.equal(tn('waiting', 2), '2 actions waiting to send');
});

test('every key the app uses exists', () => {
  const dir = new URL('../src/courier/', import.meta.url);
  const used = new Set();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.js') || f === 'words.js') continue;
    const src = readFileSync(new URL(f, dir), 'utf8');
    for (const m of src.matchAll(/\btn?\('([a-z_]+)'\s*[,)]/g)) used.add(m[1]);
  }
  addWords(words);
  for (const lang of ['en', 'ru']) {
    setLanguage(lang);
    for (const k of used) {
      const known = words[lang][k] !== undefined || words[lang][k + '_other'] !== undefined || t(k) !== k;
      assert.ok(known, `${lang}: ${k}`);
    }
  }
  // Keys built at run time: every fail reason, payment method, network state.
  for (const r of ['no_answer', 'customer_absent', 'refused', 'wrong_address', 'damaged', 'reschedule', 'handed_back']) {
    assert.ok(words.en['reason_' + r] && words.ru['reason_' + r], r);
  }
  for (const k of ['pay_cash', 'pay_card', 'net_online', 'net_offline', 'net_sending', 'location_denied', 'location_unavailable', 'location_unsupported',
    'what_deliver', 'what_fail', 'what_arrive', 'what_shift_start', 'what_shift_end', 'what_proof', 'addr_entrance', 'addr_floor', 'addr_apartment', 'addr_intercom']) {
    assert.ok(words.en[k] && words.ru[k], k);
  }
});
