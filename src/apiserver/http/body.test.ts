/** readBody against node's real HTTP server: whole bodies, the size limit, and clients that go away. */
import assert from 'node:assert/strict';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { http } from '../../util/node-http.ts';
import { readBody } from './body.ts';

const LIMIT = 1024;

describe('readBody', () => {
  let server: Server;
  let port = 0;
  /** What the handler's readBody settled with, by request path. */
  const outcomes = new Map<string, Promise<Buffer>>();

  before(async () => {
    server = http.createServer((req: IncomingMessage, res) => {
      const p = readBody(req, LIMIT);
      outcomes.set(req.url ?? '', p);
      p.then(
        (b) => res.end(`read ${b.length}`),
        (err: unknown) => {
          res.statusCode = err instanceof ApiError ? err.code : 500;
          res.end();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  /** Sends raw HTTP/1.1 and returns the status line of the answer ('' if the connection just closed). */
  function raw(text: string, end = true): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
      });
      s.on('error', reject);
      s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
      s.write(text);
      if (end) s.end();
      else setTimeout(() => s.destroy(), 50);
    });
  }

  it('reads a body sent in chunks', async () => {
    const status = await raw(
      'POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
    );
    assert.equal(status, 'HTTP/1.1 200 OK');
    assert.equal((await outcomes.get('/chunked'))?.toString(), 'abcdefg');
  });

  it('reads an empty body', async () => {
    await raw('POST /empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal((await outcomes.get('/empty'))?.length, 0);
  });

  it('refuses a declared length over the limit with 413, before reading', async () => {
    const status = await raw(
      `POST /declared HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMIT + 1}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(status, 'HTTP/1.1 413 Payload Too Large');
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const big = 'x'.repeat(LIMIT);
    const status = await raw(
      `POST /grows HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(LIMIT).toString(16)}\r\n${big}\r\n1\r\ny\r\n0\r\n\r\n`,
    );
    assert.equal(status, 'HTTP/1.1 413 Payload Too Large');
    await assert.rejects(outcomes.get('/grows')!, (e: unknown) => e instanceof ApiError && e.code === 413);
  });

  it('rejects (never hangs) when the client goes away mid-body', async () => {
    await raw('POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part', false);
    for (let i = 0; i < 100 && !outcomes.has('/gone'); i++) await new Promise((r) => setTimeout(r, 10));
    await assert.rejects(
      outcomes.get('/gone')!,
      /closed the connection before the request body ended|aborted/,
    );
  });
});
