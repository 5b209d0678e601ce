import assert from 'node:assert/strict';
import { Agent, type IncomingMessage, request } from 'node:http';
import { describe, it } from 'node:test';
import { LoopbackClosedError, LoopbackListener } from './listener.ts';

/** An http.Agent whose connections are the listener's. */
function agentOf(listener: LoopbackListener): Agent {
  const agent = new Agent({ keepAlive: true });
  agent.createConnection = () => listener.dial();
  return agent;
}

function get(agent: Agent, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: 'loopback', path }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject); // the connection went away mid-answer
    });
    req.on('error', reject);
    req.end();
  });
}

describe('LoopbackListener', () => {
  it('serves HTTP on in-memory connections, reusing them, and knows which sockets are its own', async () => {
    const sockets = new Set<object>();
    const listener = new LoopbackListener({
      onRequest: (req, res) => {
        sockets.add(req.socket);
        res.end(`${req.method} ${req.url} owned=${listener.owns(req.socket)}`);
      },
      onUpgrade: (_req, socket) => socket.destroy(),
    });
    listener.open();
    const agent = agentOf(listener);
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await get(agent, `/x/${i}`), { status: 200, body: `GET /x/${i} owned=true` });
      }
      assert.equal(sockets.size, 1, 'one keep-alive connection served all three');
      assert.equal(listener.connections, 1);
      assert.equal(listener.owns({}), false);
    } finally {
      agent.destroy();
      listener.close();
    }
  });

  it('refuses dial() before open() and after close(); close() ends open connections', async () => {
    let release: () => void = () => {};
    const listener = new LoopbackListener({
      onRequest: (_req, res) => {
        res.writeHead(200);
        res.write('first part');
        release = () => res.end();
      },
      onUpgrade: (_req, socket) => socket.destroy(),
    });
    assert.throws(() => listener.dial(), LoopbackClosedError);
    listener.open();
    const agent = agentOf(listener);
    const pending = get(agent, '/slow');
    while (listener.connections === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
    listener.close();
    await assert.rejects(pending, /aborted|socket hang up|ECONNRESET/);
    assert.equal(listener.connections, 0);
    assert.throws(
      () => listener.dial(),
      (err: Error) =>
        err instanceof LoopbackClosedError && (err as LoopbackClosedError).code === 'ECONNREFUSED',
    );
    await assert.rejects(
      get(agent, '/after'),
      LoopbackClosedError,
      'a request after close fails like a refused connection',
    );
    release();
    agent.destroy();
  });
});
