/**
 * Bad requests never stop the server: a malformed percent-escape in a request's path is a 400 Status
 * (on plain requests and upgrades alike), and a failure that escapes a handler is a 500.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { startTestApiServer, type TestApiServer } from '../../client/testing.ts';

describe('malformed percent-escapes in the path', () => {
  let srv: TestApiServer;
  let tls: { ca: string; cert: string; key: string };

  before(async () => {
    // A public handler whose failure escapes the handler's own error answer: what it throws has a
    // `message` that throws when read.
    const poison = Object.defineProperty({}, 'message', {
      get() {
        throw new Error('poisoned message');
      },
    });
    srv = await startTestApiServer({
      publicHandlers: new Map([
        [
          '/boom',
          async () => {
            throw poison;
          },
        ],
      ]),
    });
    tls = srv.config as typeof tls;
  });
  after(() => srv.close());

  function get(path: string): Promise<{ code: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.port, path, ...tls }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer`)));
      req.end();
    });
  }

  it('answers a request with a 400 Status and keeps serving', async () => {
    for (const path of [
      '/api/v1/namespaces/%zz/pods',
      '/apis/apps/v1/namespaces/default/deployments/%E0%A4%A',
    ]) {
      const r = await get(path);
      assert.equal(r.code, 400, `${path}: ${r.body}`);
      const status = JSON.parse(r.body) as { kind: string; reason: string; message: string };
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'BadRequest');
      assert.match(status.message, /percent-encoding/);
    }
    assert.equal((await get('/api/v1/namespaces/default')).code, 200);
  });

  it('answers an upgrade (exec) with a 400', async () => {
    const head = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: srv.port, ...tls, servername: 'localhost' }, () => {
        s.write(
          'GET /api/v1/namespaces/default/pods/p%zz/exec?command=true HTTP/1.1\r\nHost: localhost\r\n' +
            'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
      });
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        got += c;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('no answer to the upgrade')));
    });
    assert.match(head, /^HTTP\/1\.1 400 /);
    assert.match(head, /percent-encoding/);
  });

  it('answers a failure that escapes the handler with a 500 and keeps serving', async () => {
    const r = await get('/boom');
    assert.equal(r.code, 500, r.body);
    assert.equal((JSON.parse(r.body) as { reason: string }).reason, 'InternalError');
    assert.equal((await get('/api/v1/namespaces/default')).code, 200);
  });
});
