// The API client's session rules: a refresh refused by the server ends the
// session; a refresh lost to the network keeps it (a courier on a weak
// network is not logged out with actions waiting to send).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Api } from '../src/api.js';

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

async function withFetch(answers, fn) {
  const saved = globalThis.fetch;
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push(new URL(url, 'http://x').pathname);
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return next;
  };
  try {
    await fn(calls);
  } finally {
    globalThis.fetch = saved;
  }
}

function signedIn() {
  const api = new Api('http://x', { storage: memoryStorage() });
  api.save({ access_token: 'old', refresh_token: 'r1', role: 'courier' });
  let loggedOut = 0;
  api.onLogout = () => { loggedOut++; };
  return { api, loggedOut: () => loggedOut };
}

test('a 401 refreshes once and retries with the new token', async () => {
  const { api, loggedOut } = signedIn();
  await withFetch([json(401, {}), json(200, { access_token: 'new', refresh_token: 'r2' }), json(200, { ok: true })], async (calls) => {
    assert.deepEqual(await api.get('/api/v1/courier/today'), { ok: true });
    assert.deepEqual(calls, ['/api/v1/courier/today', '/api/v1/auth/refresh', '/api/v1/courier/today']);
  });
  assert.equal(api.session.access_token, 'new');
  assert.equal(api.session.refresh_token, 'r2');
  assert.equal(loggedOut(), 0);
});

test('a refresh the server refuses ends the session', async () => {
  const { api, loggedOut } = signedIn();
  await withFetch([json(401, {}), json(401, { error: { code: 'unauthorized', message: 'x' } })], async () => {
    await assert.rejects(api.get('/api/v1/courier/today'), (e) => e.status === 401);
  });
  assert.equal(api.session, null);
  assert.equal(loggedOut(), 1);
});

test('a refresh lost to the network keeps the session and fails like the network', async () => {
  const { api, loggedOut } = signedIn();
  await withFetch([json(401, {}), new TypeError('Failed to fetch')], async () => {
    await assert.rejects(api.get('/api/v1/courier/today'), TypeError);
  });
  assert.equal(api.session?.refresh_token, 'r1');
  assert.equal(loggedOut(), 0);
});

test('a refresh the server could not answer (5xx) keeps the session', async () => {
  const { api, loggedOut } = signedIn();
  await withFetch([json(401, {}), json(503, { error: { code: 'unavailable', message: 'x' } })], async () => {
    await assert.rejects(api.get('/api/v1/courier/today'), TypeError);
  });
  assert.equal(api.session?.refresh_token, 'r1');
  assert.equal(loggedOut(), 0);
});
