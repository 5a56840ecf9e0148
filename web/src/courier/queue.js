// The outbox's rules, pure (test/queue.test.mjs): what to send next, how
// long to wait after a failure, and what a refused proof does to the events
// that name it. The outbox (model.js) keeps the items in IndexedDB.
//
// An item is one of
//   {seq, login, type: 'event', event}                  a courier event (client_event_id, at, ...)
//   {seq, login, type: 'proof', order_id, proof_id, kind, blob}   a signature or a photo
//   {seq, login, type: 'pings', key, pings: [...]}      GPS fixes for /courier/locations
// seq is the order they were made in (IndexedDB's key).

/** The most events in one /courier/sync request (the server takes 500). */
export const MAX_BATCH = 100;
/** The most pings in one /courier/locations request (the server takes 1000). */
export const MAX_PINGS = 500;

/**
 * What to send next: {kind: 'proof', item}, {kind: 'events', items} (in
 * order, up to MAX_BATCH, stopping at the next proof so that a proof always
 * goes before the events after it), {kind: 'pings', items}, or null when
 * nothing is queued. Events and proofs go before pings: a position can wait,
 * a delivery should not.
 */
export function planNext(items) {
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  const work = sorted.filter((i) => i.type !== 'pings');
  if (work.length) {
    if (work[0].type === 'proof') return { kind: 'proof', item: work[0] };
    const batch = [];
    for (const it of work) {
      if (it.type !== 'event' || batch.length >= MAX_BATCH) break;
      batch.push(it);
    }
    return { kind: 'events', items: batch };
  }
  const pings = [];
  let n = 0;
  for (const it of sorted) {
    if (it.type !== 'pings') continue;
    if (pings.length && n + it.pings.length > MAX_PINGS) break;
    pings.push(it);
    n += it.pings.length;
  }
  return pings.length ? { kind: 'pings', items: pings } : null;
}

/** How many actions wait to be sent: the events (proofs and pings travel with them). */
export function waiting(items) {
  return items.filter((i) => i.type === 'event').length;
}

/**
 * How long to wait before the next try after `failures` failures in a row:
 * 1 s, 2 s, 4 s ... up to a minute, with jitter so that a depot full of
 * phones coming back online does not knock all at once.
 */
export function backoff(failures, random = Math.random) {
  const base = Math.min(60000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/**
 * The events that named a proof the server refused, without it: they can
 * still be delivered (the proof is reported as a problem). Returns the
 * changed items only.
 */
export function withoutProof(items, proofId) {
  const out = [];
  for (const it of items) {
    if (it.type === 'event' && it.event.proof_ids?.includes(proofId)) {
      const event = { ...it.event, proof_ids: it.event.proof_ids.filter((p) => p !== proofId) };
      if (!event.proof_ids.length) delete event.proof_ids;
      out.push({ ...it, event });
    }
  }
  return out;
}

/** Whether an answer means "try again later" rather than "this will never go". */
export function retryable(status) {
  return status === 0 || status === 401 || status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A new UUID (v4) for a client_event_id or a proof_id. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
