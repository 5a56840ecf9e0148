import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The shell the service worker keeps (the SHELL list of web/app/sw.js). */
function shell() {
  const src = readFileSync(path.join(web, 'app', 'sw.js'), 'utf8');
  const list = /const SHELL = \[([\s\S]*?)\];/.exec(src)[1];
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

/** Every module the app loads, from its entry through the imports (static and dynamic). */
function modules() {
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const src = readFileSync(path.join(web, rel), 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] || m[2];
      if (!spec.startsWith('.')) continue;
      visit(path.posix.join(path.posix.dirname(rel), spec));
    }
  };
  visit('src/courier/main.js');
  return [...seen];
}

test('the service worker keeps every module the app imports, so it opens offline', () => {
  const kept = new Set(shell());
  const missing = modules().filter((m) => !kept.has(m));
  assert.deepEqual(missing, []);
});

test('the service worker keeps the page, its styles, icons, manifest and config', () => {
  const html = readFileSync(path.join(web, 'app', 'index.html'), 'utf8');
  const kept = new Set(shell());
  for (const m of html.matchAll(/(?:href|src)="([^"]+)"/g)) assert.ok(kept.has(m[1]), m[1]);
  const manifest = JSON.parse(readFileSync(path.join(web, 'app', 'manifest.webmanifest'), 'utf8'));
  for (const i of manifest.icons) assert.ok(kept.has(i.src), i.src);
  for (const f of ['./', 'config.json', 'manifest.webmanifest']) assert.ok(kept.has(f), f);
  // And nothing it lists is missing on disk.
  for (const f of shell()) {
    if (f === './' || f === 'config.json') continue;
    const p = f.startsWith('src/') ? path.join(web, f) : path.join(web, 'app', f);
    assert.doesNotThrow(() => readFileSync(p), f);
  }
});
