/**
 * Test helper: a real API server in this process (HTTPS on 127.0.0.1, a free port, admin client
 * certificate), bootstrapped like `skiff server` does, and the client config to reach it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type Pki } from '../apiserver/auth/pki.ts';
import { ServiceAccountTokens } from '../apiserver/auth/serviceaccount/index.ts';
import { bootstrapCluster } from '../apiserver/bootstrap.ts';
import { type ApiServer, createApiServer } from '../apiserver/index.ts';
import type { ApiServerOptions } from '../apiserver/server.ts';
import { MemoryStore } from '../storage/memory/store.ts';
import type { Store } from '../storage/store.ts';
import type { ConnectionConfig } from './rest.ts';

export interface TestApiServer {
  /** Admin credentials for {@link HttpRestClient}. */
  config: ConnectionConfig;
  api: ApiServer;
  store: Store;
  port: number;
  /**
   * Stops the API server and starts a new one on the same port and store (the datastore keeps its
   * state; the new server's watch caches start empty, as after a real restart). `beforeListen` runs
   * before it accepts connections, with the new server.
   */
  restart(beforeListen?: (api: ApiServer) => Promise<void>): Promise<void>;
  /** Stops the server and closes the store. */
  close(): Promise<void>;
}

export interface TestApiServerOptions {
  /** Default: a fresh MemoryStore. Closed by close(). */
  store?: Store;
  /** How often idle watches get bookmarks, ms (default 60 s, as the server). */
  bookmarkIntervalMs?: number;
  /**
   * Serve service account tokens as `skiff server` does (TokenRequest, bearer authentication of
   * them, the ServiceAccount admission plugin on pods — pods then need their service account).
   */
  serviceAccounts?: boolean;
  /** Handlers for paths outside the API, served without authentication (as `skiff server`'s join endpoint). */
  publicHandlers?: ApiServerOptions['publicHandlers'];
  /** Admission plugins turned off (as `skiff server --disable-admission-plugins`). */
  disabledAdmissionPlugins?: ApiServerOptions['disabledAdmissionPlugins'];
}

let pkiPromise: Promise<Pki> | null = null;

/** One PKI per process: issuing certificates is the slow part, and any server may share them. */
function testPki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-client-test-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return ensurePki(dir, { hostnames: [], ips: [], host: { dnsNames: ['localhost'], ips: ['127.0.0.1'] } });
  })();
  return pkiPromise;
}

export async function startTestApiServer(opts: TestApiServerOptions = {}): Promise<TestApiServer> {
  const pki = await testPki();
  const store = opts.store ?? new MemoryStore({ ttlSweepIntervalMs: 0 });
  const make = (port: number) =>
    createApiServer({
      store,
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca.cert },
      port,
      host: '127.0.0.1',
      bookmarkIntervalMs: opts.bookmarkIntervalMs,
      publicHandlers: opts.publicHandlers,
      disabledAdmissionPlugins: opts.disabledAdmissionPlugins,
      serviceAccounts: opts.serviceAccounts
        ? new ServiceAccountTokens({ signingKey: pki.serviceAccount.privateKey })
        : undefined,
    });
  let api = make(0);
  const port = await api.listen();
  await bootstrapCluster(api.registry, api.catalog);
  api.setReady(true);
  const handle: TestApiServer = {
    config: {
      server: `https://127.0.0.1:${port}`,
      ca: pki.ca.cert,
      cert: pki.admin.cert,
      key: pki.admin.key,
    },
    api,
    store,
    port,
    async restart(beforeListen) {
      await api.close();
      api = make(port);
      handle.api = api;
      await beforeListen?.(api);
      await api.listen();
      api.setReady(true);
    },
    async close() {
      await api.close();
      await store.close();
    },
  };
  return handle;
}

/**
 * Resolves once `cond()` holds, checking every few ms of real time; fails after `timeoutMs` with
 * `what` (and the last value of `cond` when it returns one).
 */
export async function eventually(cond: () => unknown, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
