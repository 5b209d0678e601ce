import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MemorySocket, MemorySocketError } from './socket.ts';
import { nextTurn, readAll } from './testing.ts';

describe('MemorySocket', () => {
  it('carries bytes in order both ways; end() is the peer end', async () => {
    const [client, server] = MemorySocket.pair();
    const atServer = readAll(server);
    client.write('GET / HTTP/1.1\r\n');
    client.write('\r\n');
    client.end();
    assert.equal(await atServer, 'GET / HTTP/1.1\r\n\r\n');
    const atClient = readAll(client);
    const closed = once(client, 'close');
    server.end('HTTP/1.1 200 OK\r\n\r\n');
    assert.equal(await atClient, 'HTTP/1.1 200 OK\r\n\r\n');
    await closed; // the client end closes itself once both directions ended
  });

  it('delivers a write on a later turn of the event loop, so a ping-pong never starves timers and I/O', async () => {
    const [client, server] = MemorySocket.pair();
    server.on('data', (d: Buffer) => server.write(d)); // echo
    let rounds = 0;
    let immediateRanAt = -1;
    setImmediate(() => {
      immediateRanAt = rounds;
    });
    client.on('data', () => {
      rounds++;
      if (rounds < 50) client.write('x');
    });
    let got = false;
    client.once('data', () => {
      got = true;
    });
    client.write('x');
    await Promise.resolve();
    assert.equal(got, false, 'nothing arrives within the same turn');
    while (rounds < 50) await nextTurn();
    assert.ok(immediateRanAt >= 0 && immediateRanAt < 5, `the immediate ran after ${immediateRanAt} rounds`);
    client.destroy();
  });

  it('applies backpressure: a writer waits until the reader takes the data', async () => {
    const [client, server] = MemorySocket.pair();
    server.pause();
    const big = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 8; i++) {
      writes.push(
        new Promise<void>((resolve, reject) =>
          client.write(big, (err) => (err ? reject(err) : resolve(void written++))),
        ),
      );
    }
    for (let i = 0; i < 10; i++) await nextTurn();
    assert.ok(written < 8, `all ${written} writes completed while nobody read`);
    let read = 0;
    server.on('data', (d: Buffer) => {
      read += d.length;
    });
    server.resume();
    await Promise.all(writes);
    while (read < 8 * big.length) await nextTurn();
    assert.equal(read, 8 * big.length);
    client.destroy();
  });

  it('destroy() before the end resets the peer: it closes without an end', async () => {
    const [client, server] = MemorySocket.pair();
    let ended = false;
    server.on('end', () => {
      ended = true;
    });
    server.resume();
    client.destroy();
    await once(server, 'close');
    assert.equal(ended, false);
    assert.equal(server.destroyed, true);
    assert.equal(client.destroyed, true);
  });

  it('a write to a peer that closed after a clean end fails with EPIPE', async () => {
    const [client, server] = MemorySocket.pair();
    server.resume();
    const ended = once(server, 'end');
    client.end();
    await once(client, 'finish');
    client.destroy();
    await ended;
    const emitted = once(server, 'error');
    const err = await new Promise<Error | null | undefined>((resolve) => server.write('late', resolve));
    assert.ok(err instanceof MemorySocketError, String(err));
    assert.equal(err.code, 'EPIPE');
    assert.equal((await emitted)[0], err, "the error is the socket's 'error', as on a net.Socket");
  });

  it('after a clean end the peer still reads everything before it closes', async () => {
    const [client, server] = MemorySocket.pair();
    server.pause();
    server.end('all of it');
    await once(server, 'finish');
    server.destroy();
    assert.equal(await readAll(client), 'all of it');
  });

  it('setTimeout is an idle timeout: activity postpones it, 0 turns it off and drops the callback', async () => {
    const [client, server] = MemorySocket.pair();
    server.resume();
    let fired = 0;
    const onTimeout = () => fired++;
    client.setTimeout(40, onTimeout);
    assert.equal(client.timeout, 40);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 20));
      client.write('keep-alive');
    }
    assert.equal(fired, 0, 'writes every 20 ms keep a 40 ms idle timer from firing');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(fired, 1);
    client.setTimeout(0, onTimeout);
    assert.equal(client.listenerCount('timeout'), 0);
    client.write('more');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(fired, 1);
    assert.throws(() => client.setTimeout(-1), RangeError);
    client.destroy();
  });
});
