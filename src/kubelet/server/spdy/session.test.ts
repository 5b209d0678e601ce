import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import { encodeFrame, type Frame, FrameParser } from './frames.ts';
import { decodeHeaderBlock, encodeHeaderBlock, HeaderCompressor, HeaderDecompressor } from './headers.ts';
import { SpdySession, type SpdyStream } from './session.ts';

const sockets: Socket[] = [];
let pair: () => Promise<[Socket, Socket]>;
const server = createServer((s) => sockets.push(s));

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  pair = async () => {
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    while (sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
    return [c, sockets.shift()!];
  };
});
after(() => {
  for (const s of sockets) s.destroy();
  server.close();
});
const sessions: SpdySession[] = [];
after(() => {
  for (const s of sessions) s.destroy();
});

function track(s: SpdySession): SpdySession {
  sessions.push(s);
  return s;
}

/** Reads to the end without destroying the stream (a for-await loop would, killing the write side). */
function readAll(s: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => s.once('end', () => resolve(Buffer.concat(chunks))));
}

test('the dictionary is the 1423 bytes of SPDY/3', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith(',enq=0.'));
});

test('header blocks round-trip: lowercase names, NUL-joined values', () => {
  const block = encodeHeaderBlock({ StreamType: ['stdout'], multi: ['a', 'b'] });
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: ['stdout'], multi: ['a', 'b'] });
});

test('one compression context carries across many blocks, in order', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const blocks = await Promise.all(
    Array.from({ length: 200 }, (_, i) => c.compress({ streamtype: ['stdout'], n: [String(i)] })),
  );
  // Later blocks are tiny: they refer back into the shared context.
  assert.ok(blocks[199]!.length < blocks[0]!.length);
  for (let i = 0; i < blocks.length; i++) {
    assert.deepEqual(await d.decompress(blocks[i]!), { streamtype: ['stdout'], n: [String(i)] });
  }
  // A fresh decompressor cannot read a block from the middle of the stream.
  const fresh = new HeaderDecompressor();
  await assert.rejects(fresh.decompress(blocks[5]!));
  c.close();
  d.close();
  fresh.close();
});

test('frames encode and parse back, split at any byte boundary', () => {
  const frames = [
    { type: 'data', streamId: 5, fin: true, data: Buffer.from('hello') },
    { type: 'rst_stream', streamId: 3, status: 5 },
    { type: 'settings', clear: false, entries: [{ flags: 0, id: 7, value: 1000 }] },
    { type: 'ping', id: 7 },
    { type: 'goaway', lastGoodStreamId: 9, status: 0 },
    { type: 'window_update', streamId: 1, delta: 4096 },
    {
      type: 'syn_stream',
      streamId: 1,
      associatedId: 0,
      priority: 2,
      fin: false,
      unidirectional: true,
      block: Buffer.from([1, 2, 3]),
    },
    { type: 'syn_reply', streamId: 1, fin: true, block: Buffer.from([4]) },
  ] satisfies Frame[];
  const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
  const parser = new FrameParser();
  const out = [];
  for (let i = 0; i < bytes.length; i += 3) out.push(...parser.push(bytes.subarray(i, i + 3)));
  assert.deepEqual(out, frames);
});

test('streams carry data both ways with half-close, headers and ping', async () => {
  const [a, b] = await pair();
  const client = track(new SpdySession(a, { client: true }));
  const srv = track(new SpdySession(b, { client: false }));
  srv.on('stream', (s) => {
    void s.reply({ ok: ['yes'] });
    // Echo upper-cased, then FIN.
    void readAll(s).then((data) => {
      s.end(Buffer.from(`${s.header('streamType')}:${data.toString().toUpperCase()}`));
    });
  });
  const results = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const s = client.createStream({ streamType: [`s${i}`] });
      const reply = await s.replied;
      assert.deepEqual(reply, { ok: ['yes'] });
      s.end(Buffer.from(`hello ${i}`));
      return (await readAll(s)).toString();
    }),
  );
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => `s${i}:HELLO ${i}`),
  );
  await client.ping();
  await srv.ping();
  // Neither side announced flow control: no WINDOW_UPDATE went out (a Go peer ignores them).
  assert.equal(client.peerFlowControl, false);
  assert.equal(srv.peerFlowControl, false);
  client.destroy();
  await once(srv, 'close');
});

test('flow control: an enforcing sender stops at the window until WINDOW_UPDATE credits it', async () => {
  const [a, b] = await pair();
  const client = track(new SpdySession(a, { client: true, enforceSendWindow: true }));
  const srv = track(new SpdySession(b, { client: false }));
  let received = 0;
  const got = new Promise<SpdyStream>((resolve) => srv.on('stream', resolve));
  const s = client.createStream({});
  const peer = await got;
  await peer.reply();
  // The server side does not read yet: its readable buffer fills, no credit is given back.
  peer.pause();
  const big = Buffer.alloc(1024 * 1024, 7);
  const finished = new Promise<void>((resolve) => s.end(big, resolve));
  await new Promise((r) => setTimeout(r, 200));
  const stalled = peer.readableLength;
  // Bounded by the window plus what the reader's own buffer took (credited on _read).
  assert.ok(stalled <= 64 * 1024 + peer.readableHighWaterMark + 32 * 1024, `sent ${stalled} bytes`);
  assert.ok(stalled > 0);
  peer.on('data', (c: Buffer) => {
    received += c.length;
  });
  peer.resume();
  await finished;
  await once(peer, 'end');
  assert.equal(received, big.length);
  assert.equal(srv.peerFlowControl, true, 'the SETTINGS frame announced flow control');
  client.destroy();
  srv.destroy();
});

test('a reset stream ends for the peer and the session close ends every stream', async () => {
  const [a, b] = await pair();
  const client = track(new SpdySession(a, { client: true }));
  const srv = track(new SpdySession(b, { client: false }));
  const got = new Promise<SpdyStream>((resolve) => srv.on('stream', resolve));
  const s = client.createStream({});
  const peer = await got;
  await peer.reply();
  await s.replied;
  const closed = once(peer, 'close');
  s.reset();
  await closed;
  const s2 = client.createStream({});
  const peer2 = await new Promise<SpdyStream>((resolve) => srv.once('stream', resolve));
  await peer2.reply();
  const ended = readAll(s2);
  srv.destroy();
  assert.equal((await ended).length, 0);
  client.destroy();
});
