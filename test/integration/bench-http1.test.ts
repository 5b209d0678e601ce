/**
 * The scheduler bench's HTTP/1.1 client (bench/scheduler/http1.ts): its response parser on bytes cut
 * at every place, and the pool and the watch against node's HTTPS server with client certificates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { Http1Error, Http1Pool, ResponseParser, watchLines } from '../../bench/scheduler/http1.ts';
import { ensurePki, type Pki } from '../../src/apiserver/auth/pki.ts';

/** Parses `bytes` pushed in pieces of `step` bytes; returns the responses (status and body text). */
function parseAll(bytes: Buffer, step: number): { status: number; keepAlive: boolean; body: string }[] {
  const out: { status: number; keepAlive: boolean; body: string }[] = [];
  const p = new ResponseParser();
  let cur: { status: number; keepAlive: boolean; body: Buffer[] } | null = null;
  p.onHead = (status, keepAlive) => {
    cur = { status, keepAlive, body: [] };
  };
  p.onBody = (piece) => cur!.body.push(Buffer.from(piece));
  p.onEnd = () => {
    out.push({
      status: cur!.status,
      keepAlive: cur!.keepAlive,
      body: Buffer.concat(cur!.body).toString('utf8'),
    });
    cur = null;
  };
  for (let i = 0; i < bytes.length; i += step) p.push(bytes.subarray(i, i + step));
  return out;
}

describe('ResponseParser', () => {
  const wire = Buffer.from(
    'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"a":"héllo"}' +
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
  );

  it('parses Content-Length, chunked (extensions, trailers), 204 and Connection: close, however the bytes are cut', () => {
    for (const step of [1, 2, 3, 7, 64, wire.length]) {
      assert.deepEqual(
        parseAll(wire, step),
        [
          { status: 201, keepAlive: true, body: '{"a":"héllo"}' },
          { status: 200, keepAlive: true, body: 'hello, world' },
          { status: 204, keepAlive: true, body: '' },
          { status: 404, keepAlive: false, body: '' },
        ],
        `pieces of ${step} bytes`,
      );
    }
  });

  it('refuses what it does not understand', () => {
    const bad = (s: string) => () => parseAll(Buffer.from(s), 4);
    assert.throws(bad('SSH-2.0-OpenSSH\r\n\r\n'), Http1Error);
    assert.throws(bad('HTTP/1.1 200 OK\r\n\r\n'), /without Content-Length/);
    assert.throws(bad('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), /bad chunk size/);
    assert.throws(bad('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY'), /CRLF/);
  });
});

describe('Http1Pool and watchLines against an HTTPS server', () => {
  let dir: string;
  let pki: Pki;
  let server: Server;
  let origin: URL;
  const connections = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-bench-http1-'));
    pki = await ensurePki(dir, {
      hostnames: [],
      ips: [],
      host: { dnsNames: ['localhost'], ips: ['127.0.0.1'] },
    });
    server = createServer(
      {
        cert: pki.serving.cert,
        key: pki.serving.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        connections.add(`${req.socket.remotePort}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const done = () => inFlight--;
          if (req.url === '/echo') {
            setTimeout(() => {
              done();
              res.writeHead(201, { 'content-type': 'application/json' });
              res.end(
                JSON.stringify({
                  method: req.method,
                  body,
                  cn: (req.socket as TLSSocket).getPeerCertificate().subject?.CN,
                }),
              );
            }, 5);
          } else if (req.url === '/chunked') {
            done();
            res.writeHead(200);
            res.write('part one, ');
            setTimeout(() => res.end('part two'), 5);
          } else if (req.url === '/close') {
            done();
            res.writeHead(200, { connection: 'close', 'content-length': '2' });
            res.end('ok');
          } else if (req.url === '/hang') {
            // never answered
          } else if (req.url === '/watch') {
            done();
            res.writeHead(200, { 'content-type': 'application/json' });
            res.write('{"n":1}\n{"n":');
            setTimeout(() => res.write('2,"s":"ü'), 5);
            setTimeout(() => res.write('"}\n\n{"n":3}\n'), 10);
          } else {
            done();
            res.writeHead(404, { 'content-length': '9' });
            res.end('not found');
          }
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const identity = () => ({ ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });

  it('sends requests with a client certificate over at most `size` keep-alive connections', async () => {
    connections.clear();
    maxInFlight = 0;
    const pool = new Http1Pool(origin, identity(), 3, 5_000);
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          pool.request('POST', '/echo', { 'content-type': 'application/json' }, Buffer.from(`{"i":${i}}`)),
        ),
      );
      answers.forEach((r, i) => {
        assert.equal(r.status, 201);
        assert.deepEqual(JSON.parse(r.body.toString('utf8')), {
          method: 'POST',
          body: `{"i":${i}}`,
          cn: 'system:admin',
        });
      });
      assert.equal(connections.size, 3, 'three connections, reused');
      assert.equal(maxInFlight, 3);
      const chunked = await pool.request('GET', '/chunked', {});
      assert.deepEqual([chunked.status, chunked.body.toString()], [200, 'part one, part two']);
      const missing = await pool.request('GET', '/nothing', {});
      assert.deepEqual([missing.status, missing.body.toString()], [404, 'not found']);
    } finally {
      pool.close();
    }
  });

  it('replaces a connection the server closes, and fails a request that gets no answer in time', async () => {
    const pool = new Http1Pool(origin, identity(), 1, 300);
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await pool.request('GET', '/close', {})).body.toString(), 'ok');
      await assert.rejects(pool.request('GET', '/hang', {}), /no response in 300 ms/);
      assert.equal((await pool.request('POST', '/echo', {}, Buffer.from('x'))).status, 201, 'usable again');
      // The server closes the idle connection (as at its keep-alive timeout): the next request opens another.
      server.closeIdleConnections();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(
        (await pool.request('POST', '/echo', {}, Buffer.from('y'))).status,
        201,
        'after an idle close',
      );
    } finally {
      pool.close();
    }
  });

  it('streams lines across chunk boundaries, and refuses a watch that does not start with 200', async () => {
    const lines: string[] = [];
    let got3!: () => void;
    const three = new Promise<void>((resolve) => {
      got3 = resolve;
    });
    const w = await watchLines(origin, identity(), '/watch', { accept: 'application/json' }, (line) => {
      lines.push(line);
      if (lines.length === 3) got3();
    });
    await three;
    w.close();
    assert.deepEqual(lines, ['{"n":1}', '{"n":2,"s":"ü"}', '{"n":3}']);
    await assert.rejects(
      watchLines(origin, identity(), '/nothing', {}, () => {}),
      /HTTP 404: not found/,
    );
  });
});
