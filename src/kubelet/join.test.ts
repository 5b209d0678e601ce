import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newJoinToken } from '../api/jointoken.ts';
import { joinHandlers } from '../apiserver/auth/join.ts';
import { ensurePki, type Pki } from '../apiserver/auth/pki.ts';
import { type ApiServer, createApiServer } from '../apiserver/index.ts';
import { MemoryStore } from '../storage/memory/store.ts';
import { silentLogger } from '../util/log.ts';
import { ensureNodeCredentials, fetchNodeCredentials, JoinError, loadCredentials } from './join.ts';

describe('joining a node', () => {
  let dir: string;
  let pki: Pki;
  let api: ApiServer;
  let server: string;
  let token: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-join-'));
    pki = await ensurePki(join(dir, 'server'), {
      hostnames: [],
      ips: [],
      host: { dnsNames: ['localhost'], ips: ['127.0.0.1'] },
    });
    token = newJoinToken(pki.ca.cert);
    api = createApiServer({
      store: new MemoryStore({ ttlSweepIntervalMs: 0 }),
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca.cert },
      port: 0,
      host: '127.0.0.1',
      publicHandlers: joinHandlers({ ca: pki.ca, token }),
    });
    server = `https://127.0.0.1:${await api.listen()}`;
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the token gets node credentials signed by the cluster CA', async () => {
    const c = await fetchNodeCredentials(server, token, { nodeName: 'worker-1', ips: ['10.1.2.3'] });
    assert.equal(c.ca, pki.ca.cert);
    const ca = new X509Certificate(pki.ca.cert);
    const client = new X509Certificate(c.client.cert);
    assert.equal(client.subject, 'O=system:nodes\nCN=system:node:worker-1');
    assert.ok(client.verify(ca.publicKey));
    const serving = new X509Certificate(c.serving.cert);
    assert.ok(serving.verify(ca.publicKey));
    assert.ok(serving.checkIP('10.1.2.3'));
    assert.ok(serving.checkHost('worker-1'));
  });

  test('a wrong secret is refused with 401; a token for another CA is refused before sending it', async () => {
    const wrong = token.replace(/:server:.*/, ':server:nope');
    await assert.rejects(fetchNodeCredentials(server, wrong, { nodeName: 'x' }), JoinError);
    const otherCa = newJoinToken('another CA');
    await assert.rejects(
      fetchNodeCredentials(server, otherCa, { nodeName: 'x' }),
      /does not match the join token/,
    );
  });

  test('bad requests get a 422 naming the field', async () => {
    await assert.rejects(fetchNodeCredentials(server, token, { nodeName: 'Bad_Name' }), /HTTP 422.*nodeName/);
  });

  test('credentials are stored and reused for the same node', async () => {
    const agentDir = join(dir, 'agent');
    const first = await ensureNodeCredentials({
      agentDir,
      server,
      token,
      nodeName: 'w2',
      ips: ['10.0.0.9'],
      logger: silentLogger,
    });
    assert.deepEqual(loadCredentials(agentDir, 'w2', ['10.0.0.9']), first);
    assert.equal(loadCredentials(agentDir, 'other', []), undefined);
    assert.equal(loadCredentials(agentDir, 'w2', ['10.9.9.9']), undefined);
  });
});
