// The console's client of courierd's JSON API (mobile-api-spec/openapi.yaml):
// the bearer token, one refresh on 401, the error shape, Idempotency-Key on
// POSTs, and event streams through fetch (sse.js).
import { readEvents } from './sse.js';

const SESSION_KEY = 'courier.console.session';

/** An error answer of the API: {status, code, message, details}. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.details = e.details || {};
  }
}

/** A fresh random key for an Idempotency-Key header. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export class Api {
  /**
   * base is the API's origin ('' for this one). The console keeps its
   * session in the tab (sessionStorage); the courier app passes localStorage
   * and its own key, so a phone reopened offline is still signed in.
   */
  constructor(base = '', { storage = globalThis.sessionStorage, key = SESSION_KEY } = {}) {
    this.base = base;
    this.storage = storage;
    this.key = key;
    this.onLogout = () => {};
    try {
      this.session = JSON.parse(storage.getItem(key) || 'null');
    } catch {
      this.session = null;
    }
  }

  get loggedIn() { return !!this.session?.access_token; }
  get role() { return this.session?.role || ''; }

  save(session) {
    this.session = session;
    if (session) this.storage.setItem(this.key, JSON.stringify(session));
    else this.storage.removeItem(this.key);
  }

  async login(login, password) {
    const res = await fetch(this.base + '/api/v1/auth/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    this.save({ ...body, login });
    return body;
  }

  logout() {
    this.save(null);
    this.onLogout();
  }

  /**
   * Trades the refresh token for new tokens: true when it did, false when
   * the server refused it (the session is over). A network failure is
   * thrown, as for any request: the session stays, the caller tries later.
   */
  async refresh() {
    if (!this.session?.refresh_token) return false;
    if (!this.refreshing) {
      this.refreshing = (async () => {
        const res = await fetch(this.base + '/api/v1/auth/refresh', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: this.session.refresh_token }),
        });
        if (res.status >= 500) throw new TypeError('the server could not refresh the session: ' + res.status);
        if (!res.ok) return false;
        const body = await res.json();
        this.save({ ...this.session, ...body });
        return true;
      })().finally(() => { setTimeout(() => { this.refreshing = null; }, 0); });
    }
    return this.refreshing;
  }

  /** fetch with the bearer token; a 401 refreshes once and retries. */
  async raw(method, path, { body, form, headers = {}, signal, key } = {}) {
    const send = () => {
      const h = { ...headers };
      if (this.session?.access_token) h.Authorization = 'Bearer ' + this.session.access_token;
      let payload;
      if (form !== undefined) {
        payload = form; // FormData: the browser sets the multipart Content-Type
      } else if (body !== undefined) {
        h['Content-Type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      if (key) h['Idempotency-Key'] = key;
      return fetch(this.base + path, { method, headers: h, body: payload, signal });
    };
    let res = await send();
    if (res.status === 401 && this.session?.refresh_token) {
      // A refresh lost to the network throws here and keeps the session.
      if (await this.refresh()) res = await send();
      if (res.status === 401) this.logout();
    }
    return res;
  }

  async call(method, path, opts = {}) {
    // Every POST gets an Idempotency-Key: a retry of the same action is answered once.
    if (method === 'POST' && !opts.key) opts = { ...opts, key: newKey() };
    const res = await this.raw(method, path, opts);
    if (res.status === 204) return null;
    const ct = res.headers.get('Content-Type') || '';
    const body = ct.includes('json') ? await res.json().catch(() => null) : null;
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }

  get(path, opts) { return this.call('GET', path, opts); }
  post(path, body, opts = {}) { return this.call('POST', path, { ...opts, body }); }
  patch(path, body, opts = {}) { return this.call('PATCH', path, { ...opts, body }); }
  del(path, opts) { return this.call('DELETE', path, opts); }

  /** Every page of a cursor-paged list ({items, next_cursor}). */
  async all(path, max = 5000) {
    const items = [];
    let cursor = '';
    for (;;) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.get(path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''));
      items.push(...(page.items || []));
      cursor = page.next_cursor;
      if (!cursor || items.length >= max) return items;
    }
  }

  /** A binary answer (a PDF) as a Blob. */
  async blob(path) {
    const res = await this.raw('GET', path);
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return res.blob();
  }

  /**
   * Follows an event stream: onEvent({event, data, json}) per event. Resolves
   * when the server ends the stream; rejects on an error answer. Abort with signal.
   */
  async stream(path, onEvent, signal) {
    const res = await this.raw('GET', path, { headers: { Accept: 'text/event-stream' }, signal });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    await readEvents(res, onEvent, signal);
  }
}
