import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSEParser, readEvents } from '../src/sse.js';

test('events split across chunks, gin style and spec style', () => {
  const p = new SSEParser();
  assert.deepEqual(p.push('event:progress\nda'), []);
  assert.deepEqual(p.push('ta:{"a":1}\n'), []);
  assert.deepEqual(p.push('\n'), [{ event: 'progress', data: '{"a":1}', id: '' }]);
  assert.deepEqual(p.push(': keep-alive\n\nevent: position\r\ndata: {"b":2}\r\n\r\n'), [{ event: 'position', data: '{"b":2}', id: '' }]);
  assert.deepEqual(p.push('data: one\ndata: two\nid: 7\n\n'), [{ event: 'message', data: 'one\ntwo', id: '7' }]);
  // A CR at the end of a chunk waits for its LF.
  assert.deepEqual(p.push('data: x\r'), []);
  assert.deepEqual(p.push('\n\r\n'), [{ event: 'message', data: 'x', id: '' }]);
});

test('readEvents reads a Response body to the end', async () => {
  const body = new ReadableStream({
    start(c) {
      const enc = new TextEncoder();
      c.enqueue(enc.encode('event:progress\ndata:{"progress":{"elapsed_ms":10}}\n\n'));
      c.enqueue(enc.encode('event:done\ndata:{"status":"done"}\n\n'));
      c.close();
    },
  });
  const got = [];
  await readEvents(new Response(body), (ev) => got.push([ev.event, ev.json]));
  assert.deepEqual(got, [['progress', { progress: { elapsed_ms: 10 } }], ['done', { status: 'done' }]]);
});

test('readEvents stops on abort', async () => {
  const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('data: 1\n\n')); } });
  const ctl = new AbortController();
  const got = [];
  const done = readEvents(new Response(body), (ev) => { got.push(ev.data); ctl.abort(); }, ctl.signal);
  await done;
  assert.deepEqual(got, ['1']);
});
