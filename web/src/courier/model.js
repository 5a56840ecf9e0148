// The courier app's state: the day from the server, the outbox in
// IndexedDB and the loop that sends it. Every action is written to the
// outbox at once with its client_event_id and the tap time, the screen
// shows it at once (day.js overlays the outbox on the last day from the
// server), and the loop sends the outbox in order through
// POST /api/v1/courier/sync (proofs first, with the ids the events name),
// backing off while the network or the server is away. The server answers
// each event exactly once by its client_event_id, so a batch sent again
// after a lost answer changes nothing.
import * as db from './idb.js';
import { planNext, waiting, backoff, withoutProof, retryable, uuid, MAX_BATCH } from './queue.js';
import { emptyDay, overlay, applyResult, findStop } from './day.js';

/** The session ended (the refresh token expired or was revoked): log in again; the outbox stays. */
class AuthLost extends Error {}

/** The network or the server is away: try again later. */
class Offline extends Error {}

export class Model extends EventTarget {
  constructor(api, cfg) {
    super();
    this.api = api;
    this.cfg = cfg;
    this.day = emptyDay(cfg.date || '');
    this.items = [];
    this.problems = [];
    this.sending = false;
    this.failures = 0;
    this.retryAt = 0;
    this.timer = null;
    this.online = globalThis.navigator?.onLine ?? true;
    this.lastError = '';
    this.lastRefresh = 0;
    this.batchLimit = MAX_BATCH;
    this.position = null;
    this.loaded = false;
  }

  get login() { return this.api.session?.login || ''; }

  emit() { this.dispatchEvent(new Event('change')); }

  /** Reads the saved day, problems and outbox of the signed-in courier. */
  async load() {
    const login = this.login;
    const [day, problems, items] = await Promise.all([db.getKV('day:' + login), db.getKV('problems:' + login), db.queued(login)]);
    this.day = day || emptyDay(this.cfg.date || '');
    this.problems = problems || [];
    this.items = items;
    this.loaded = true;
    this.emit();
  }

  /** The day as the screen shows it: the server's with the outbox on top. */
  view() {
    return overlay(this.day, this.items.filter((i) => i.type === 'event').map((i) => i.event));
  }

  /** How many actions wait to be sent. */
  waiting() { return waiting(this.items); }

  /** The last fix if it is fresh (2 minutes), as an event's position. */
  eventPosition() {
    const p = this.position;
    if (!p || Date.now() - p.time > 120000) return undefined;
    const out = { lat: p.lat, lng: p.lng };
    if (p.accuracy != null) out.accuracy_m = Math.round(p.accuracy * 10) / 10;
    return out;
  }

  /**
   * Records an action: fields of a courier event (action, order_id, ...;
   * at, the tap's time, defaults to now) and the proofs it names ({id,
   * kind, blob}), written together to the outbox before anything else
   * happens. Returns the event.
   */
  async act(fields, proofs = []) {
    const login = this.login;
    const event = { client_event_id: uuid(), at: new Date().toISOString(), ...fields };
    const pos = this.eventPosition();
    if (pos && !event.position) event.position = pos;
    if (proofs.length) event.proof_ids = proofs.map((p) => p.id);
    const items = proofs.map((p) => ({ login, type: 'proof', order_id: fields.order_id, proof_id: p.id, kind: p.kind, blob: p.blob, created: event.at }));
    items.push({ login, type: 'event', event, created: event.at });
    const saved = await db.enqueue(items);
    this.items.push(...saved);
    this.emit();
    this.kick();
    return event;
  }

  /** Queues GPS fixes for /courier/locations, like the events. */
  async addPings(pings) {
    if (!pings.length || !this.login) return;
    const [saved] = await db.enqueue([{ login: this.login, type: 'pings', key: uuid(), pings }]);
    this.items.push(saved);
    this.kick();
  }

  /** Sends now (a tap, the network back, the app shown again). */
  kick({ refresh = false } = {}) {
    if (refresh) this.lastRefresh = 0;
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = 0;
    this.sync();
  }

  setOnline(v) {
    if (this.online !== v) {
      this.online = v;
      this.emit();
    }
  }

  /** The loop: the outbox in order, then the day again from the server. */
  async sync() {
    if (this.sending || !this.api.loggedIn || !this.loaded) return;
    this.sending = true;
    this.emit();
    let sent = false;
    try {
      for (;;) {
        const next = planNext(this.items);
        if (!next) {
          if (sent || Date.now() - this.lastRefresh > 60000) await this.refresh();
          if (planNext(this.items)) continue;
          break;
        }
        if (next.kind === 'proof') await this.sendProof(next.item);
        else if (next.kind === 'events') await this.sendEvents(next.items.slice(0, this.batchLimit));
        else await this.sendPings(next.items);
        sent = true;
      }
      this.failures = 0;
      this.lastError = '';
      this.setOnline(true);
    } catch (e) {
      if (e instanceof AuthLost) {
        this.lastError = '';
      } else {
        if (!(e instanceof Offline)) console.error(e);
        this.failures++;
        this.lastError = e instanceof Offline ? e.message : String(e.message || e);
        const wait = backoff(this.failures);
        this.retryAt = Date.now() + wait;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), wait);
      }
    } finally {
      this.sending = false;
      this.emit();
    }
  }

  /**
   * One request: {status, body}; throws Offline when no answer came in
   * time (a weak network must not hold the outbox forever: what was sent is
   * sent again, and the server answers it once), AuthLost on 401.
   */
  async request(method, path, opts = {}, timeoutMs = 30000) {
    let res;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      res = await this.api.raw(method, path, { ...opts, signal: ctl.signal });
    } catch (e) {
      this.setOnline(!!globalThis.navigator?.onLine && ctl.signal.aborted);
      throw new Offline(ctl.signal.aborted ? 'no answer in time' : 'no network');
    } finally {
      clearTimeout(timer);
    }
    this.setOnline(true);
    if (res.status === 401) throw new AuthLost('signed out');
    const ct = res.headers.get('Content-Type') || '';
    const body = ct.includes('json') ? await res.json().catch(() => null) : null;
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      throw new Offline(body?.error?.message || `server answered ${res.status}`);
    }
    return { status: res.status, body };
  }

  async refresh() {
    const login = this.login;
    const open = this.day.shift?.status === 'open';
    const q = !open && this.cfg.date ? '?date=' + encodeURIComponent(this.cfg.date) : '';
    let r = await this.request('GET', '/api/v1/courier/today' + q);
    if (r.status !== 200) throw new Error(r.body?.error?.message || `today: ${r.status}`);
    let t = r.body;
    if (t.shift?.status === 'open' && t.shift.date && t.shift.date !== t.date) {
      r = await this.request('GET', '/api/v1/courier/today?date=' + t.shift.date);
      if (r.status === 200) t = r.body;
    }
    if (login !== this.login) return;
    this.day = t;
    this.lastRefresh = Date.now();
    await db.setKV('day:' + login, t);
    this.emit();
  }

  /** A stop's name in the problems list: "3 · Иван Петров". */
  label(orderId) {
    const f = findStop(this.view(), orderId);
    return f ? `${f.stop.seq} · ${f.stop.customer?.name || ''}`.trim() : orderId ? `#${orderId}` : '';
  }

  problem(p) {
    return { id: uuid(), when: new Date().toISOString(), ...p };
  }

  async sendEvents(items) {
    const login = this.login;
    const events = items.map((i) => i.event);
    const r = await this.request('POST', '/api/v1/courier/sync', { body: { sent_at: new Date().toISOString(), events } });
    if (r.status !== 200) {
      // The whole request was refused (it never should be: each event is
      // answered on its own). Halve the batch to find the event at fault;
      // alone, it is reported and set aside so the rest can go.
      if (items.length > 1) {
        this.batchLimit = Math.max(1, Math.floor(items.length / 2));
        return;
      }
      const it = items[0];
      const problems = [...this.problems, this.problem({ action: it.event.action, order_id: it.event.order_id || 0, label: this.label(it.event.order_id),
        outcome: 'refused', code: r.body?.error?.code || String(r.status), message: r.body?.error?.message || `HTTP ${r.status}`, details: r.body?.error?.details || {} })];
      await db.settle({ remove: [it.seq], kv: { ['problems:' + login]: problems } });
      this.problems = problems;
      this.items = this.items.filter((x) => x.seq !== it.seq);
      this.emit();
      return;
    }
    this.batchLimit = MAX_BATCH;
    let day = this.day;
    const problems = [...this.problems];
    r.body.results.forEach((res, k) => {
      const ev = events[k];
      const label = this.label(ev.order_id);
      day = applyResult(day, ev, res);
      const outcome = res.status === 'duplicate' ? res.original_status : res.status;
      // An arrival reported twice (two taps, two phones) changes nothing worth telling.
      const harmless = ev.action === 'arrive' && outcome === 'conflict' && res.stop?.status === 'out_for_delivery';
      if ((outcome === 'conflict' || outcome === 'invalid') && !harmless) {
        problems.push(this.problem({ action: ev.action, order_id: ev.order_id || 0, label, outcome, code: res.error?.code || '',
          message: res.error?.message || '', details: res.error?.details || {}, stop: res.stop || null }));
      }
    });
    const seqs = items.map((i) => i.seq);
    await db.settle({ remove: seqs, kv: { ['day:' + login]: day, ['problems:' + login]: problems } });
    this.day = day;
    this.problems = problems;
    this.items = this.items.filter((x) => !seqs.includes(x.seq));
    this.emit();
  }

  async sendProof(item) {
    const login = this.login;
    const form = new FormData();
    form.append('kind', item.kind);
    form.append('proof_id', item.proof_id);
    form.append('file', item.blob, item.kind === 'photo' ? 'photo.jpg' : 'signature.png');
    const r = await this.request('POST', `/api/v1/courier/stops/${item.order_id}/proofs`, { form }, 120000);
    if (r.status === 201 || r.status === 200) {
      await db.settle({ remove: [item.seq] });
      this.items = this.items.filter((x) => x.seq !== item.seq);
      return;
    }
    // Refused for good (not this courier's stop any more, not an image, too
    // large): the events that name it go without it, and the courier is told.
    const changed = withoutProof(this.items, item.proof_id);
    const problems = [...this.problems, this.problem({ action: 'proof', kind: item.kind, order_id: item.order_id, label: this.label(item.order_id),
      outcome: 'refused', code: r.body?.error?.code || String(r.status), message: r.body?.error?.message || `HTTP ${r.status}`, details: r.body?.error?.details || {} })];
    await db.settle({ remove: [item.seq], update: changed, kv: { ['problems:' + login]: problems } });
    const bySeq = new Map(changed.map((c) => [c.seq, c]));
    this.items = this.items.filter((x) => x.seq !== item.seq).map((x) => bySeq.get(x.seq) || x);
    this.problems = problems;
    this.emit();
  }

  async sendPings(items) {
    const pings = items.flatMap((i) => i.pings);
    const r = await this.request('POST', '/api/v1/courier/locations', { body: { pings }, key: items[0].key });
    if (r.status !== 200 && !retryable(r.status)) console.warn('positions refused', r.status, r.body);
    const seqs = items.map((i) => i.seq);
    await db.settle({ remove: seqs });
    this.items = this.items.filter((x) => !seqs.includes(x.seq));
  }

  async dismiss(id) {
    this.problems = this.problems.filter((p) => p.id !== id);
    await db.setKV('problems:' + this.login, this.problems);
    this.emit();
  }

  /** Forgets everything of this login on the phone (log out with nothing or a discarded outbox). */
  async forget() {
    await db.forget(this.login);
    this.items = [];
    this.problems = [];
    this.day = emptyDay(this.cfg.date || '');
  }
}
