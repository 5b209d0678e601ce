/**
 * The loopback transport of `skiff server`: its scheduler, controller manager and other in-process
 * components reach the API server over in-memory connections authenticated by a per-process token,
 * never over its own HTTPS port; that token is no credential anywhere else.
 *
 * 1. A real `skiff server` with `skiff sim` nodes: a Deployment becomes available (controllers and
 *    scheduler at work) while the server process holds no TCP connection to its own port and listens
 *    on nothing but its network ports (no unix socket, no extra TCP port a local process could use).
 * 2. The API server in this process, on SQLite in a data dir, logging everything: the loopback token
 *    works on loopback connections only (401 over HTTPS) and appears in no file and no log line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiError } from '../../src/api/errors.ts';
import { loadKubeconfig } from '../../src/apiserver/auth/kubeconfig.ts';
import { ensurePki } from '../../src/apiserver/auth/pki.ts';
import { bootstrapCluster } from '../../src/apiserver/bootstrap.ts';
import { createApiServer } from '../../src/apiserver/index.ts';
import { fromKubeconfig } from '../../src/client/kubeconfig.ts';
import { CONFIG_MAPS, DEPLOYMENTS, NAMESPACES, PODS, SERVICE_ACCOUNTS } from '../../src/client/resources.ts';
import { HttpRestClient } from '../../src/client/rest.ts';
import type { KubeObject } from '../../src/client/types.ts';
import { SqliteStore } from '../../src/storage/sqlite/store.ts';
import { SKIFF, TestCluster } from '../helpers/cluster.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(100);
  }
}

/** The pid of the `skiff server` process serving `dataDir` (bin/skiff execs node, so it is node's). */
function serverPid(dataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('server') && argv.includes(dataDir)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no skiff server process for ${dataDir}`);
}

/** Inodes of the sockets process `pid` holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

interface TcpSocket {
  localPort: number;
  remotePort: number;
  state: string;
  inode: string;
}

/** TCP sockets of the process's network namespace (/proc/PID/net/tcp and tcp6). */
function tcpSockets(pid: number): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const file of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${file}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      out.push({
        localPort: Number.parseInt(f[1]!.split(':')[1]!, 16),
        remotePort: Number.parseInt(f[2]!.split(':')[1]!, 16),
        state: f[3]!,
        inode: f[9]!,
      });
    }
  }
  return out;
}

const TCP_ESTABLISHED = '01';
const TCP_LISTEN = '0A';
/** /proc/net/unix flag __SO_ACCEPTCON: a listening unix socket. */
const UNIX_ACCEPTCON = 0x10000;

describe('skiff server: in-process components over the loopback transport', () => {
  const children = new Set<ChildProcess>();
  let cluster: TestCluster | undefined;
  after(async () => {
    for (const c of children) c.kill('SIGTERM');
    await cluster?.stop();
  });

  it('runs controllers and the scheduler without a single connection to its own HTTPS port', async () => {
    cluster = await TestCluster.start(['--disable-dns']);
    const port = Number(new URL(cluster.server).port);
    const sim = spawn(
      SKIFF,
      ['sim', '--kubeconfig', cluster.kubeconfig, '--nodes', '2', '--name-prefix', 'lb-'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.add(sim);
    const client = fromKubeconfig(cluster.kubeconfig, { component: 'loopback-it' });
    try {
      await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lb' } });
      // The service account controller, then the root CA publisher (its CA passed to it directly).
      await until('the default ServiceAccount', 30_000, async () =>
        (await client.get(SERVICE_ACCOUNTS, 'lb', 'default')).metadata.uid ? true : undefined,
      );
      const rootCa = await until('kube-root-ca.crt', 30_000, async () => {
        const c = await client.get<KubeObject & { data?: Record<string, string> }>(
          CONFIG_MAPS,
          'lb',
          'kube-root-ca.crt',
        );
        return c.data?.['ca.crt'];
      });
      assert.equal(rootCa.trim(), loadKubeconfig(cluster.kubeconfig).ca?.trim(), 'the cluster CA');
      await client.create(DEPLOYMENTS, 'lb', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'skiff.local/busybox:1.36' }] },
          },
        },
      } as never);
      await until('3 available replicas', 60_000, async () => {
        const d = (await client.get(DEPLOYMENTS, 'lb', 'web')) as { status?: { availableReplicas?: number } };
        return d.status?.availableReplicas === 3 ? true : undefined;
      });
      const pods = await client.list<KubeObject & { spec?: { nodeName?: string } }>(PODS, 'lb');
      assert.equal(pods.items.length, 3);
      assert.ok(pods.items.every((p) => p.spec?.nodeName?.startsWith('lb-')));

      const pid = serverPid(cluster.dataDir);
      const own = socketInodes(pid);
      const tcp = tcpSockets(pid);
      const toOwnPort = tcp.filter(
        (s) => s.state === TCP_ESTABLISHED && s.remotePort === port && own.has(s.inode),
      );
      assert.deepEqual(toOwnPort, [], 'the server is no HTTPS client of itself');
      const served = tcp.filter((s) => s.state === TCP_ESTABLISHED && s.localPort === port).length;
      assert.ok(served >= 2, `the sim and this test are still served over HTTPS (${served} connections)`);
      const listening = tcp.filter((s) => s.state === TCP_LISTEN && own.has(s.inode)).map((s) => s.localPort);
      assert.deepEqual([...new Set(listening)], [port], 'no TCP port but the HTTPS one');
      const unixListening = readFileSync(`/proc/${pid}/net/unix`, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => own.has(f[6]!) && (Number.parseInt(f[3]!, 16) & UNIX_ACCEPTCON) !== 0);
      assert.deepEqual(unixListening, [], 'no unix socket another process could connect to');
    } finally {
      client.close();
      sim.kill('SIGTERM');
    }
  });
});

describe('the loopback token', () => {
  it('authenticates loopback connections only, and is written to no file and no log line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-loopback-'));
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = pino({ level: 'trace', base: undefined }, sink);
    const store = new SqliteStore({ path: join(dir, 'state.db'), retainRevisions: 100, logger });
    const pki = await ensurePki(dir, {
      hostnames: [],
      ips: [],
      host: { dnsNames: ['localhost'], ips: ['127.0.0.1'] },
    });
    const api = createApiServer({
      store,
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca.cert },
      host: '127.0.0.1',
      port: 0,
      logger,
    });
    try {
      const port = await api.listen();
      await bootstrapCluster(api.registry, api.catalog);
      api.setReady(true);
      const loopback = api.loopbackClientConfig();
      logger.info({ config: loopback }, 'a careless log line with the loopback config in it');
      const token = loopback.authorization().slice('Bearer '.length);
      const inProcess = new HttpRestClient(loopback, { component: 'it' });
      await inProcess.create(CONFIG_MAPS, 'default', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x' },
      });
      await assert.rejects(inProcess.get(CONFIG_MAPS, 'default', 'missing'), (e) => e instanceof ApiError);
      inProcess.close();

      const overHttps = new HttpRestClient({ server: `https://127.0.0.1:${port}`, ca: pki.ca.cert, token });
      await assert.rejects(
        overHttps.get(CONFIG_MAPS, 'default', 'x'),
        (e) => e instanceof ApiError && e.code === 401,
        'the HTTPS port refuses the loopback token',
      );
      overHttps.close();

      await api.close();
      await store.close();
      assert.ok(lines.length > 0, 'the server logged at trace level');
      assert.ok(!lines.join('').includes(token), 'the token is in a log line');
      const files = (function walk(d: string): string[] {
        return readdirSync(d).flatMap((n) => {
          const p = join(d, n);
          return statSync(p).isDirectory() ? walk(p) : [p];
        });
      })(dir);
      assert.ok(files.some((f) => f.endsWith('state.db')));
      for (const f of files) {
        assert.ok(!readFileSync(f).includes(token), `the token is in ${f}`);
      }
    } finally {
      await api.close().catch(() => {});
      await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
