// The end-to-end harness: builds and starts a real courierd with the demo
// city on a free port, launches Debian's chromium through playwright-core,
// and talks to the API directly to set up and check what the browser did.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');
export const artifacts = path.resolve(process.env.COURIER_E2E_ARTIFACTS || path.join(repoDir, 'test-artifacts', 'e2e'));

/** The chromium binary: $CHROMIUM_PATH, else Debian's. Missing is an error, not a skip. */
export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`chromium not found (looked at ${candidates.join(', ')}): install the Debian package chromium ` +
      '(scripts/test.sh does it through scripts/packages.sh), or set CHROMIUM_PATH');
  }
  return found;
}

/** Builds courierd (or takes $COURIER_E2E_BIN) and starts it with --demo; resolves {base, stop, log}. */
export async function startCourierd() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'courier-e2e-'));
  let bin = process.env.COURIER_E2E_BIN;
  if (!bin) {
    bin = path.join(tmp, 'courierd');
    execFileSync('go', ['build', '-o', bin, './cmd/courierd'], { cwd: repoDir, stdio: 'inherit' });
  }
  const args = ['--demo', '--addr', '127.0.0.1:0', '--data-dir', path.join(tmp, 'data'), '--bcrypt-cost', '4',
    '--tile-url', 'none', '--web-dir', webDir];
  const child = spawn(bin, args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JWT_SECRET: '' } });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('courierd did not start in 60 s:\n' + log)), 60000);
    const onData = (b) => {
      log += b.toString();
      if (log.length > 200000) log = log.slice(-100000);
      const m = /courierd listening.*?addr=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve('http://' + m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`courierd exited with ${code}:\n${log}`)); });
  });
  return {
    base,
    log: () => log,
    async stop() {
      child.removeAllListeners('exit');
      if (child.exitCode == null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 10000); });
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Launches chromium; extraArgs add flags (the courier app's test adds a fake camera). */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', ...extraArgs],
  });
}

/** A page at 1366x768 whose console errors and page errors are collected. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'ru-RU' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // Answers the flows expect (a 422 listing violations) are logged by chromium as failed loads: not page errors.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text()); });
  return page;
}

export async function shot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, name + '.png') });
}

/** A small API client for setup and checks. */
export class Client {
  constructor(base) { this.base = base; }

  async login(login, password = 'demo') {
    const r = await this.call('POST', '/api/v1/auth/login', { login, password });
    this.token = r.access_token;
    this.me = r;
    return this;
  }

  async call(method, p, body, expect) {
    const headers = { Accept: 'application/json' };
    if (this.token) headers.Authorization = 'Bearer ' + this.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method === 'POST') headers['Idempotency-Key'] = 'e2e-' + Math.random().toString(36).slice(2) + Date.now();
    const res = await fetch(this.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const ok = expect ? res.status === expect : res.ok;
    if (!ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  get(p) { return this.call('GET', p); }
  post(p, body) { return this.call('POST', p, body); }

  /** Uploads a file as multipart/form-data with the given fields. */
  async upload(p, fields, file, type) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([file], { type }), 'file');
    const res = await fetch(this.base + p, { method: 'POST', headers: { Authorization: 'Bearer ' + this.token }, body: form });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  }
}

/** Polls fn until it returns a truthy value, or throws after ms. */
export async function eventually(fn, ms = 15000, what = 'condition') {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`${what} not met in ${ms} ms${last ? ': ' + last.message : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Logs in through the console's form. */
export async function loginUI(page, base, login) {
  await page.goto(base + '/console/');
  await page.locator('#login').fill(login);
  await page.locator('#password').fill('demo');
  await page.keyboard.press('Enter');
  await page.locator('main[data-ready=true]').waitFor({ timeout: 30000 });
}
