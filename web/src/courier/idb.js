// IndexedDB for the courier app: the outbox ("queue", in the order the
// courier tapped) and a few saved values ("kv": the last day from the
// server, the problems to show). Every write is one transaction, so an
// action and its proofs are kept together or not at all.

const DB_NAME = 'courier-app';
const VERSION = 1;

let dbp = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function openDB() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, VERSION);
      r.onupgradeneeded = () => {
        const db = r.result;
        if (!db.objectStoreNames.contains('queue')) db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv', { keyPath: 'k' });
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of the app'));
    });
  }
  return dbp;
}

/** Runs fn(stores) in one transaction; resolves with fn's value when it commits. */
async function tx(names, mode, fn) {
  const db = await openDB();
  return new Promise((resolve, reject) => {
    const t = db.transaction(names, mode, { durability: 'strict' });
    const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
    let value;
    Promise.resolve(fn(stores)).then((v) => { value = v; }, (e) => { reject(e); t.abort(); });
    t.oncomplete = () => resolve(value);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
}

/** Adds items to the outbox in one transaction; resolves with them, seq set. */
export function enqueue(items) {
  return tx(['queue'], 'readwrite', async ({ queue }) => {
    const out = [];
    for (const it of items) {
      const seq = await req(queue.add(it));
      out.push({ ...it, seq });
    }
    return out;
  });
}

/** The outbox of one login, in order. */
export async function queued(login) {
  const all = await tx(['queue'], 'readonly', ({ queue }) => req(queue.getAll()));
  return all.filter((i) => i.login === login).sort((a, b) => a.seq - b.seq);
}

/**
 * One transaction: removes the sent items, rewrites changed ones and sets
 * saved values ({key: value}; undefined deletes).
 */
export function settle({ remove = [], update = [], kv = {} } = {}) {
  return tx(['queue', 'kv'], 'readwrite', ({ queue, kv: store }) => {
    for (const seq of remove) queue.delete(seq);
    for (const it of update) queue.put(it);
    for (const [k, v] of Object.entries(kv)) {
      if (v === undefined) store.delete(k);
      else store.put({ k, v });
    }
  });
}

export async function getKV(k) {
  const row = await tx(['kv'], 'readonly', ({ kv }) => req(kv.get(k)));
  return row?.v;
}

export function setKV(k, v) {
  return settle({ kv: { [k]: v } });
}

/** Removes every queued item and saved value of a login (a deliberate "discard" at log out). */
export async function forget(login) {
  const items = await queued(login);
  const keys = await tx(['kv'], 'readonly', ({ kv }) => req(kv.getAllKeys()));
  const kv = {};
  for (const k of keys) if (String(k).endsWith(':' + login)) kv[k] = undefined;
  return settle({ remove: items.map((i) => i.seq), kv });
}
