import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeColors, routePalette, colorDistance, nearest, textOn, initials, minDistance } from '../src/colors.js';
import { statusColors } from '../src/i18n.js';

const demoZones = ['#e4572e', '#17bebb', '#76b041'];

test('route colours stay apart from status colours, the demo zones and each other', () => {
  for (const c of routeColors) {
    assert.ok(nearest(c, Object.values(statusColors)) >= 28, `${c} near a status colour`);
    assert.ok(nearest(c, demoZones) >= 28, `${c} near a demo zone`);
    assert.ok(nearest(c, routeColors.filter((x) => x !== c)) >= 28, `${c} near another route colour`);
  }
  assert.ok(routeColors.length >= 8, 'a colour for each demo courier');
});

test('a zone of any colour takes its look-alikes out of the palette', () => {
  const palette = routePalette(['#304ffe']);
  assert.ok(!palette.includes('#304ffe'));
  for (const c of palette) assert.ok(colorDistance(c, '#304ffe') >= minDistance);
  assert.deepEqual(routePalette([]), routeColors);
  assert.ok(routePalette(routeColors).length > 0, 'never empty');
});

test('text on a colour, initials', () => {
  assert.equal(textOn('#ffeb3b'), '#111');
  assert.equal(textOn('#1a237e'), '#fff');
  assert.equal(initials('Артём Белов'), 'АБ');
  assert.equal(initials('Глеб'), 'ГЛ');
  assert.equal(initials('  '), '?');
  assert.equal(initials('anna maria von berg'), 'AB');
});
