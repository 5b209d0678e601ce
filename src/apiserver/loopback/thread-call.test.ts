import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessagePort } from 'node:worker_threads';
import type { CallAnswer, CallRequest } from '../../client/transport.ts';
import { serveThreadCalls, ThreadCaller } from './thread-call.ts';

/** A caller whose calls `serve` answers through a real MessageChannel (both ends in this thread). */
function pair(serve: (req: CallRequest) => Promise<CallAnswer>): { caller: ThreadCaller; close: () => void } {
  let close = () => {};
  const caller = new ThreadCaller((mainEnd: MessagePort) => {
    close = serveThreadCalls(mainEnd, serve);
  });
  return { caller, close: () => close() };
}

describe('thread calls', () => {
  it('carries the request and the answer across, bodies in buffers of their own', async () => {
    const seen: CallRequest[] = [];
    const { caller, close } = pair(async (req) => {
      seen.push(req);
      // A pooled Buffer: only its bytes may cross, not the pool's slab.
      return {
        status: 201,
        headers: { 'Content-Type': 'application/json' },
        body: Buffer.from('{"ok":true}'),
      };
    });
    const answer = await caller.call({
      method: 'POST',
      path: '/api/v1/namespaces/ns/pods/p/binding',
      headers: { Authorization: 'Bearer t' },
      body: Buffer.from('{"target":"n"}'),
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.headers['Content-Type'], 'application/json');
    assert.equal(Buffer.from(answer.body).toString(), '{"ok":true}');
    assert.equal(answer.body.buffer.byteLength, answer.body.byteLength);
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.headers.Authorization, 'Bearer t');
    assert.equal(Buffer.from(seen[0]?.body ?? []).toString(), '{"target":"n"}');
    assert.equal(seen[0]?.body?.buffer.byteLength, seen[0]?.body?.byteLength);
    close();
  });

  it('matches answers to their calls when they come back out of order', async () => {
    const { caller, close } = pair(async (req) => {
      await new Promise((r) => setTimeout(r, req.path === '/slow' ? 30 : 0));
      return { status: 200, headers: {}, body: Buffer.from(req.path) };
    });
    const [slow, fast] = await Promise.all([
      caller.call({ method: 'GET', path: '/slow', headers: {} }),
      caller.call({ method: 'GET', path: '/fast', headers: {} }),
    ]);
    assert.equal(Buffer.from(slow.body).toString(), '/slow');
    assert.equal(Buffer.from(fast.body).toString(), '/fast');
    close();
  });

  it('rejects a call the main thread could not serve, with its error code', async () => {
    const { caller, close } = pair(() => {
      throw Object.assign(new Error('connect ECONNREFUSED: not serving'), { code: 'ECONNREFUSED' });
    });
    await assert.rejects(
      caller.call({ method: 'GET', path: '/', headers: {} }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ECONNREFUSED');
        assert.match(err.message, /not serving/);
        return true;
      },
    );
    close();
  });

  it('rejects calls in flight when the channel closes, and later calls as refused', async () => {
    let release = () => {};
    const { caller, close } = pair(
      () =>
        new Promise<CallAnswer>((r) => {
          release = () => r({ status: 200, headers: {}, body: new Uint8Array() });
        }),
    );
    const inFlight = caller.call({ method: 'GET', path: '/', headers: {} });
    await new Promise((r) => setTimeout(r, 10));
    close();
    await assert.rejects(inFlight, { code: 'ECONNRESET' });
    release();
    await assert.rejects(caller.call({ method: 'GET', path: '/', headers: {} }), { code: 'ECONNREFUSED' });
  });
});
