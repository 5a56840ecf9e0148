import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symbols, modules, decode } from '../src/courier/code128.js';

// The bars github.com/boombuler/barcode/code128 (the Go library that prints
// the sheet's PDF) draws for the same text.
const reference = {
  'RS-20261124-0001': '1101001000011000101110110111010001001101110010111011110110010011101110010011011000100100111010011001011110111010011011100101110111101101100110011001101100110111000101100011101011',
  12345678: '1101001110010110011100100010110001110001011011000010100100011101101100011101011',
  A1: '110100100001010001100010011100110100001001101100011101011',
  'RS-1': '1101001000011000101110110111010001001101110010011100110111010110001100011101011',
};

test('the same bars as the PDF library', () => {
  for (const [text, bits] of Object.entries(reference)) assert.equal(modules(text), bits, text);
});

test('symbols: start, code sets, check, stop', () => {
  // "A1": start B, 'A' (33), '1' (17), check (104 + 33 + 34) % 103 = 68, stop.
  assert.deepEqual(symbols('A1'), [104, 33, 17, 68, 106]);
  // Four digits or more go in code set C, two at a time.
  assert.deepEqual(symbols('1234').slice(0, 3), [105, 12, 34]);
  // An odd run: C for the pairs, B for the last digit.
  assert.deepEqual(symbols('12345').slice(0, 5), [105, 12, 34, 100, 21]);
});

test('decode reads back what encode drew', () => {
  for (const text of ['RS-20261124-0001', 'SHEET 7', '0', '00', '123', 'x-99999-y', '~!@#$%^&*()_+{}|:"<>?']) {
    assert.equal(decode('0'.repeat(10) + modules(text) + '0'.repeat(10)), text, text);
  }
  const bits = modules('RS-1');
  assert.equal(decode(bits.slice(0, -3) + '000'), null, 'a damaged stop');
});

test('characters outside code set B are refused', () => {
  assert.throws(() => modules('Лист'), /cannot encode/);
  assert.throws(() => modules(''), /nothing/);
});
