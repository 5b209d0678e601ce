import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { readBody } from '../http/body.ts';
import { sendError, sendJsonPieces } from '../http/respond.ts';
import { CallConnection, serveCall } from './call.ts';
import { LoopbackClosedError, LoopbackListener } from './listener.ts';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('serveCall', () => {
  it('hands the handler the method, path, lower-cased headers and body, and answers what it wrote', async () => {
    const answer = await serveCall(
      {
        method: 'POST',
        path: '/api/v1/namespaces/ns/pods?dryRun=All',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer x' },
        body: Buffer.from('{"a":1}'),
      },
      new CallConnection(),
      async (req, res) => {
        const body = await readBody(req);
        assert.equal(req.method, 'POST');
        assert.equal(req.url, '/api/v1/namespaces/ns/pods?dryRun=All');
        assert.equal(req.headers['content-type'], 'application/json');
        assert.equal(req.headers.authorization, 'Bearer x');
        assert.equal(req.headers['content-length'], '7');
        assert.deepEqual(req.rawHeaders.slice(0, 2), ['Content-Type', 'application/json']);
        sendJsonPieces(res, 201, [Buffer.from('{"got":'), body, Buffer.from('}')]);
      },
    );
    assert.equal(answer.status, 201);
    assert.equal(answer.headers['Content-Type'], 'application/json');
    assert.equal(answer.headers['Content-Length'], '15');
    assert.equal(text(answer.body), '{"got":{"a":1}}');
  });

  it('reads a request without a body as empty, and takes headers set before writeHead, or as a flat array', async () => {
    const answer = await serveCall(
      { method: 'GET', path: '/x', headers: {} },
      new CallConnection(),
      async (req, res) => {
        assert.equal((await readBody(req)).length, 0);
        res.setHeader('X-Early', ['a', 'b']);
        assert.equal(res.getHeader('x-early'), 'a, b');
        res.writeHead(404, 'Nope', ['X-Late', '1']);
        res.end('gone');
      },
    );
    assert.equal(answer.status, 404);
    assert.deepEqual(answer.headers, { 'X-Early': 'a, b', 'X-Late': '1' });
    assert.equal(text(answer.body), 'gone');
  });

  it('answers an error as the handlers send it (a Status)', async () => {
    const answer = await serveCall(
      { method: 'GET', path: '/x', headers: {} },
      new CallConnection(),
      (_req, res) => {
        sendError(res, ApiError.notFound({ group: '', resource: 'pods' }, 'p'));
      },
    );
    assert.equal(answer.status, 404);
    const status = JSON.parse(text(answer.body));
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'NotFound');
  });

  it('gathers a body written in pieces or piped, with 200 when no status was set', async () => {
    const answer = await serveCall(
      { method: 'GET', path: '/log', headers: {} },
      new CallConnection(),
      (_req, res) => {
        res.write('one ');
        Readable.from([Buffer.from('two '), Buffer.from('three')]).pipe(res);
      },
    );
    assert.equal(answer.status, 200);
    assert.equal(text(answer.body), 'one two three');
  });

  it("emits the request's 'close' and the response's 'finish' and 'close' once the answer is done", async () => {
    const seen: string[] = [];
    const answer = await new Promise<unknown>((resolve) => {
      void serveCall({ method: 'GET', path: '/x', headers: {} }, new CallConnection(), (req, res) => {
        req.on('close', () => {
          seen.push('req close');
          resolve(null);
        });
        res.on('finish', () => seen.push('res finish'));
        res.on('close', () => seen.push('res close'));
        res.end('done', () => seen.push('end callback'));
        seen.push('ended');
      });
    });
    assert.equal(answer, null);
    assert.deepEqual(seen, ['ended', 'end callback', 'res finish', 'res close', 'req close']);
  });

  it('rejects with ECONNRESET when the handler destroys the response before ending it', async () => {
    const err = await serveCall(
      { method: 'GET', path: '/x', headers: {} },
      new CallConnection(),
      (_req, res) => {
        res.write('partial');
        res.destroy();
      },
    ).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e as { code?: string },
    );
    assert.equal(err.code, 'ECONNRESET');
  });

  it('refuses writeHead after the headers went out, as ServerResponse does', async () => {
    await serveCall({ method: 'GET', path: '/x', headers: {} }, new CallConnection(), (_req, res) => {
      res.writeHead(200);
      assert.throws(() => res.writeHead(500), /after they are sent/);
      res.end();
    });
  });
});

describe('LoopbackListener.call', () => {
  it('serves calls by the request handler, on a connection the listener owns, only while open', async () => {
    const listener = new LoopbackListener({
      onRequest: (req, res) => res.end(`owned=${listener.owns(req.socket)}`),
      onUpgrade: (_req, socket) => socket.destroy(),
    });
    await assert.rejects(listener.call({ method: 'GET', path: '/', headers: {} }), LoopbackClosedError);
    listener.open();
    const answer = await listener.call({ method: 'GET', path: '/', headers: {} });
    assert.equal(text(answer.body), 'owned=true');
    assert.equal(listener.owns(new CallConnection()), false);
    listener.close();
    await assert.rejects(listener.call({ method: 'GET', path: '/', headers: {} }), LoopbackClosedError);
  });
});
