// Server-Sent Events over fetch(): EventSource cannot send the Authorization
// header, so the console reads the stream itself. The parser is pure
// (test/sse.test.mjs); readEvents drives it from a Response body.

/**
 * An incremental text/event-stream parser. push(text) takes the next chunk
 * and returns the events it completed: {event, data, id}. Comment lines
 * (":...") are skipped; "field:value" and "field: value" both work; CRLF too.
 */
export class SSEParser {
  constructor() {
    this.buf = '';
    this.reset();
  }

  reset() {
    this.event = '';
    this.data = [];
    this.id = '';
  }

  push(text) {
    this.buf += text;
    const out = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length > 0) {
          out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        }
        this.reset();
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id') this.id = value;
    }
    return out;
  }
}

/**
 * Reads the events of a fetch() Response until the stream ends or signal
 * aborts, calling onEvent({event, data, json}) for each (json is the parsed
 * data when it is JSON, else null).
 */
export async function readEvents(response, onEvent, signal) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  const abort = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
        let json = null;
        try { json = JSON.parse(ev.data); } catch { /* not JSON */ }
        onEvent({ ...ev, json });
      }
    }
  } catch (err) {
    if (!signal?.aborted) throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}
