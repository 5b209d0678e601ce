import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { LoopbackListener } from './listener.ts';
import { ACK_BYTES, PortSocket, WINDOW_BYTES } from './port-socket.ts';
import { nextTurn, readAll } from './testing.ts';
import { serveThreadDials } from './thread.ts';

/** Two connected ends over one MessageChannel (both in this thread): [client, server]. */
function pair(): [PortSocket, PortSocket] {
  const { port1, port2 } = new MessageChannel();
  return [new PortSocket(port1, { allowHalfOpen: false }), new PortSocket(port2, { allowHalfOpen: true })];
}

describe('PortSocket', () => {
  it('carries bytes in order both ways; end() is the peer end', async () => {
    const [client, server] = pair();
    const atServer = readAll(server);
    client.write('GET / HTTP/1.1\r\n');
    client.write(Buffer.from('pooled slice').subarray(0, 6));
    client.end();
    assert.equal(await atServer, 'GET / HTTP/1.1\r\npooled');
    const atClient = readAll(client);
    const closed = once(client, 'close');
    server.end('HTTP/1.1 200 OK\r\n\r\n');
    assert.equal(await atClient, 'HTTP/1.1 200 OK\r\n\r\n');
    await closed;
    server.destroy();
  });

  it('applies backpressure: a writer may have at most the window unread', async () => {
    const [client, server] = pair();
    server.pause();
    const chunk = Buffer.alloc(256 * 1024, 7);
    const total = (WINDOW_BYTES / chunk.length) * 3;
    let written = 0;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      writes.push(
        new Promise<void>((resolve, reject) =>
          client.write(chunk, (err) => (err ? reject(err) : resolve(void written++))),
        ),
      );
    }
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.ok(written < total, `all ${written} writes completed while nobody read`);
    let read = 0;
    server.on('data', (d: Buffer) => {
      read += d.length;
    });
    server.resume();
    await Promise.all(writes);
    while (read < total * chunk.length) await nextTurn();
    assert.equal(read, total * chunk.length);
    client.destroy();
  });

  it('acknowledges consumed bytes by the quarter window, not per chunk', async () => {
    const { port1, port2 } = new MessageChannel();
    let acks = 0;
    port1.on('message', (f: { a?: number }) => {
      if (f.a !== undefined) acks++;
    });
    const client = new PortSocket(port1, { allowHalfOpen: false });
    const server = new PortSocket(port2, { allowHalfOpen: true });
    let read = 0;
    server.on('data', (d: Buffer) => {
      read += d.length;
    });
    const small = Buffer.alloc(1000, 1);
    const n = Math.ceil((2.5 * ACK_BYTES) / small.length);
    try {
      for (let i = 0; i < n; i++) {
        client.write(small);
        // Each chunk is read before the next is written: a per-chunk acknowledgement would show.
        while (read < (i + 1) * small.length) await nextTurn();
      }
      for (let i = 0; i < 5; i++) await nextTurn();
      assert.equal(acks, 2, `${acks} acknowledgements for ${n} chunks of ${small.length} bytes`);
    } finally {
      client.destroy();
      server.destroy();
    }
  });

  it('destroy() before the end resets the peer', async () => {
    const [client, server] = pair();
    let ended = false;
    server.on('end', () => {
      ended = true;
    });
    server.resume();
    client.destroy();
    await once(server, 'close');
    assert.equal(ended, false);
    assert.equal(server.destroyed, true);
  });

  it('serves HTTP from a worker thread through a LoopbackListener', async () => {
    const listener = new LoopbackListener({
      onRequest: (req, res) => res.end(`${req.method} ${req.url} owned=${listener.owns(req.socket)}`),
      onUpgrade: (_req, socket) => socket.destroy(),
    });
    listener.open();
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      const { Agent, request } = require('node:http');
      (async () => {
        const { threadLoopbackConnection } = await import(${JSON.stringify(new URL('./thread.ts', import.meta.url).href)});
        const conn = threadLoopbackConnection(parentPort, 'Bearer t');
        const agent = new Agent({ keepAlive: true });
        agent.createConnection = () => conn.dial();
        const bodies = [];
        for (let i = 0; i < 3; i++) {
          bodies.push(await new Promise((resolve, reject) => {
            const req = request({ agent, host: 'loopback', path: '/x/' + i }, (res) => {
              let b = ''; res.setEncoding('utf8'); res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b));
            });
            req.on('error', reject); req.end();
          }));
        }
        agent.destroy();
        parentPort.postMessage({ bodies });
      })();`,
      { eval: true },
    );
    const stop = serveThreadDials(worker, listener);
    try {
      const bodies = await new Promise<string[]>((resolve) =>
        worker.on('message', (m: { bodies?: string[] }) => m.bodies && resolve(m.bodies)),
      );
      assert.deepEqual(bodies, ['GET /x/0 owned=true', 'GET /x/1 owned=true', 'GET /x/2 owned=true']);
    } finally {
      stop();
      await worker.terminate();
      listener.close();
    }
  });

  it('a connection from a thread is refused once the listener closed', async () => {
    const listener = new LoopbackListener({
      onRequest: (_req, res) => res.end(),
      onUpgrade: (_req, socket) => socket.destroy(),
    });
    const [client, server] = pair();
    assert.throws(() => listener.accept(server), { code: 'ECONNREFUSED' });
    server.destroy();
    await once(client, 'close');
  });
});
