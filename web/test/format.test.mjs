import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFormat, parseMoney, minorDigits } from '../src/format.js';

const plain = (s) => s.replace(/[\s\u00a0\u202f]/g, ' ');

test('money in the company currency from minor units', () => {
  const ru = makeFormat({ time_zone: 'Europe/Moscow', currency: 'RUB', language: 'ru' });
  assert.equal(plain(ru.money(249900)), '2 499,00 ₽');
  assert.equal(plain(ru.signedMoney(-10000)), '−100,00 ₽');
  assert.equal(plain(ru.signedMoney(5)), '+0,05 ₽');
  assert.equal(ru.amountInput(249905), '2499.05');
  const en = makeFormat({ time_zone: 'UTC', currency: 'EUR', language: 'en' });
  assert.equal(plain(en.money(123456)), '€1,234.56');
  assert.equal(minorDigits('JPY'), 0);
  assert.match(plain(makeFormat({ currency: 'JPY', language: 'en' }).money(1500)), /¥1,500$/);
});

test('times in the company time zone', () => {
  const ru = makeFormat({ time_zone: 'Europe/Moscow', currency: 'RUB', language: 'ru' });
  assert.equal(ru.time('2026-11-23T07:00:00Z'), '10:00');
  assert.equal(ru.window({ from: '2026-11-23T07:00:00Z', to: '2026-11-23T10:00:00Z' }), '10:00–13:00');
  // 22:30 UTC is already the next day in Moscow.
  assert.equal(ru.isoDate('2026-11-23T22:30:00Z'), '2026-11-24');
  assert.equal(ru.date('2026-11-23T22:30:00Z'), '24.11.2026');
  const ny = makeFormat({ time_zone: 'America/New_York', currency: 'USD', language: 'en' });
  assert.equal(ny.isoDate('2026-11-23T03:00:00Z'), '2026-11-22');
  assert.equal(ru.time(''), '');
  assert.equal(ru.duration(3 * 3600 + 5 * 60), '3 ч 05 мин');
  assert.equal(ru.duration(59 * 60 + 50), '1 ч 00 мин');
  assert.equal(ny.duration(45 * 60), '45 min');
  assert.equal(plain(ru.km(12345)), '12,3 км');
  assert.equal(plain(ny.kg(2.5)), '2.5 kg');
  // Negative money has a true minus (U+2212), never a hyphen.
  assert.equal(plain(ru.money(-50000)), '−500,00 ₽');
  assert.equal(plain(ru.minus(-50000)), '−500,00 ₽');
});

test('parse what the cashier typed', () => {
  for (const [input, want] of [
    ['2499', 249900], ['2499.5', 249950], ['2 499,50', 249950], ['2499,05', 249905], ['1,234.56', 123456],
    ['1.234,56', 123456], ['1 234', 123400], ['0', 0], ['0,01', 1], ['-5', -500], ['1,234', 123400], ['12.345', 1234500],
    ['', null], ['abc', null], ['1-2', null], ['-', null],
  ]) {
    assert.equal(parseMoney(input, 'RUB'), want, input);
  }
  assert.equal(parseMoney('1500', 'JPY'), 1500);
});
