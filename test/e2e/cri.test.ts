/**
 * The CRI client (src/kubelet/cri/client.ts) against a real containerd 1.6: sandboxes with CNI,
 * containers through their lifecycle, exit codes and reasons (Error, Completed, OOMKilled), exec,
 * the streaming URLs and the protocols their server accepts, stats, images, and clean removal
 * (netns and IP released). Facts it measures are printed as test diagnostics ("fact: …").
 *
 * Needs root and containerd/runc/CNI (skips otherwise). Uses CNI network and bridge "skiffh2",
 * subnet 10.88.2.0/24, and the cgroup parent /skiffh2-e2e, all removed at the end.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import { CriError, isNotFound } from '../../src/kubelet/cri/errors.ts';
import type {
  ContainerConfig,
  ContainerStatus,
  CriRuntime,
  LinuxContainerResources,
  NamespaceMode,
  PodSandboxConfig,
} from '../../src/kubelet/cri/types.ts';
import {
  containerdSkipReason,
  startTestContainerd,
  TEST_IMAGE_CACHE,
  type TestContainerd,
} from '../helpers/containerd.ts';

const run = promisify(execFile);

const NETWORK = 'skiffh2';
const SUBNET_PREFIX = '10.88.2.';
const CGROUP_PARENT = '/skiffh2-e2e';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Polls `fn` until it returns a value other than undefined. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface UpgradeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Bytes received after a 101 (within `listenMs`), or the body of a non-101 answer. */
  data: Buffer;
}

/** Sends a GET with upgrade headers to `url`; reports the status and what came back. */
function tryUpgrade(url: string, headers: Record<string, string>, listenMs = 1_000): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: { Connection: 'Upgrade', ...headers } });
    req.on('upgrade', (res, socket: Socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', () => {});
      const done = () => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) });
      };
      socket.on('close', done);
      setTimeout(done, listenMs);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Server-to-client websocket frames (unmasked): opcode and payload. */
function parseWsFrames(buf: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let off = 0;
  while (off + 2 <= buf.length) {
    const opcode = buf[off]! & 0x0f;
    let len = buf[off + 1]! & 0x7f;
    let hdr = 2;
    if (len === 126) {
      len = buf.readUInt16BE(off + 2);
      hdr = 4;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(off + 2));
      hdr = 10;
    }
    if (off + hdr + len > buf.length) break;
    frames.push({ opcode, payload: buf.subarray(off + hdr, off + hdr + len) });
    off += hdr + len;
  }
  return frames;
}

function wsHeaders(protocol: string): Record<string, string> {
  return {
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Protocol': protocol,
  };
}

function spdyHeaders(protocol: string): Record<string, string> {
  return { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol };
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Mount points of network namespaces (nsfs) at or under `dir`. */
async function nsfsMounts(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[4]?.startsWith(`${dir}/`) && f[f.indexOf('-') + 1] === 'nsfs')
    .map((f) => f[4]!);
}

/** Removes the test's cgroup parent in every v1 hierarchy (children first). */
async function removeCgroups(): Promise<void> {
  for (const hierarchy of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const base = join(CGROUP_ROOT, hierarchy, CGROUP_PARENT);
    if (!existsSync(base)) continue;
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) await walk(join(dir, e.name));
      }
      await rmdir(dir).catch((err: Error) => console.warn(`cri e2e: rmdir ${dir}: ${err.message}`));
    };
    await walk(base);
  }
}

test('CRI client against containerd', { timeout: 240_000 }, async (t: TestContext) => {
  const skip = containerdSkipReason();
  if (skip) return t.skip(skip);

  const fact = (s: string) => t.diagnostic(`fact: ${s}`);
  const timings = new Map<string, number[]>();
  let rt: CriRuntime | undefined;
  const timed = async <T>(name: string, fn: (rt: CriRuntime) => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn(rt!);
    } finally {
      const list = timings.get(name) ?? [];
      list.push(Math.round(performance.now() - t0));
      timings.set(name, list);
    }
  };

  let ctd: TestContainerd | undefined;
  t.after(async () => {
    rt?.close();
    await ctd?.stop();
    await removeCgroups();
    t.diagnostic(`CRI call timings (ms): ${[...timings].map(([k, v]) => `${k} ${v.join('/')}`).join(', ')}`);
  });

  const t0 = performance.now();
  ctd = await startTestContainerd({ name: NETWORK, bridge: 'skiffh2', subnet: `${SUBNET_PREFIX}0/24` });
  fact(`test containerd ready (images imported, NetworkReady) in ${Math.round(performance.now() - t0)} ms`);
  rt = createCriRuntime(ctd.socketPath, { timeoutMs: 60_000 });
  const busybox = ctd.images.busybox;
  const leaseDir = join(ctd.dataDir, 'agent', 'cni', 'networks', NETWORK);
  const podUid = `uid-${randomBytes(4).toString('hex')}`;
  const logDirectory = join(ctd.dataDir, 'pods', `default_h2pod_${podUid}`);
  await mkdir(logDirectory, { recursive: true });

  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'h2pod', uid: podUid, namespace: 'default', attempt: 0 },
    hostname: 'h2pod',
    logDirectory,
    dnsConfig: {
      servers: ['10.96.0.10'],
      searches: ['default.svc.cluster.local', 'svc.cluster.local'],
      options: ['ndots:5'],
    },
    labels: { 'io.kubernetes.pod.uid': podUid, app: 'h2' },
    annotations: { note: 'cri e2e' },
    linux: { cgroupParent: `${CGROUP_PARENT}/pod${podUid}` },
  };
  /** A container config as the kubelet builds one: its own PID namespace (the CRI default, 0, is POD). */
  const container = (
    name: string,
    command: string[],
    opts: { resources?: LinuxContainerResources; pid?: NamespaceMode } = {},
  ): ContainerConfig => ({
    metadata: { name, attempt: 0 },
    image: { image: busybox },
    command,
    envs: [{ key: 'FOO', value: 'bar' }],
    labels: { 'io.kubernetes.container.name': name, 'io.kubernetes.pod.uid': podUid },
    annotations: { 'io.kubernetes.container.restartCount': '0' },
    logPath: `${name}/0.log`,
    linux: {
      resources: opts.resources,
      securityContext: { namespaceOptions: { network: 'POD', pid: opts.pid ?? 'CONTAINER', ipc: 'POD' } },
    },
  });
  const waitExited = (id: string, timeoutMs = 20_000) =>
    until<ContainerStatus>(
      `container ${id} to exit`,
      async () => {
        const s = await rt!.containerStatus(id);
        return s.state === 'CONTAINER_EXITED' ? s : undefined;
      },
      timeoutMs,
    );

  let sandboxId = '';
  let sandboxIp = '';
  let netnsBefore: string[] = [];
  let mainId = '';

  await t.test('version and status', async () => {
    const v = await timed('Version', (r) => r.version());
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
    fact(`Version: ${JSON.stringify(v)}`);
    const conds = await timed('Status', (r) => r.status());
    const byType = new Map(conds.map((c) => [c.type, c.status]));
    assert.equal(byType.get('RuntimeReady'), true);
    assert.equal(byType.get('NetworkReady'), true);
  });

  await t.test('runPodSandbox gives the sandbox an IP in the subnet', async () => {
    netnsBefore = await nsfsMounts(ctd!.dataDir);
    sandboxId = await timed('RunPodSandbox', (r) => r.runPodSandbox(sandboxConfig));
    assert.match(sandboxId, /^[0-9a-f]{64}$/);
    const st = await timed('PodSandboxStatus', (r) => r.podSandboxStatus(sandboxId));
    assert.equal(st.state, 'SANDBOX_READY');
    assert.equal(st.metadata.uid, podUid);
    assert.deepEqual(st.labels, sandboxConfig.labels);
    assert.deepEqual(st.annotations, sandboxConfig.annotations);
    assert.ok(st.createdAt > 1e18, `createdAt in ns: ${st.createdAt}`);
    sandboxIp = st.network?.ip ?? '';
    assert.ok(sandboxIp.startsWith(SUBNET_PREFIX), `sandbox IP ${sandboxIp}`);
    fact(`sandbox IP ${sandboxIp}; additionalIps ${JSON.stringify(st.network?.additionalIps)}`);
    const netnsAfter = await nsfsMounts(ctd!.dataDir);
    const created = netnsAfter.filter((n) => !netnsBefore.includes(n));
    assert.equal(created.length, 1, `one new netns mount under ${ctd!.dataDir}`);
    fact(`netns mounted at ${created[0]}`);
    assert.ok(existsSync(join(leaseDir, sandboxIp)), 'host-local lease file for the IP');
    const list = await timed('ListPodSandbox', (r) => r.listPodSandbox({ labelSelector: { app: 'h2' } }));
    assert.deepEqual(
      list.map((s) => s.id),
      [sandboxId],
    );
    assert.equal((await rt!.listPodSandbox({ state: { state: 'SANDBOX_NOTREADY' } })).length, 0);
  });

  await t.test('a container runs, logs, execs, and stops', async () => {
    const cfg = container('main', ['sh', '-c', 'echo hello; echo oops >&2; exec sleep 3600']);
    mainId = await timed('CreateContainer', (r) => r.createContainer(sandboxId, cfg, sandboxConfig));
    const created = await rt!.containerStatus(mainId);
    assert.equal(created.state, 'CONTAINER_CREATED');
    await timed('StartContainer', (r) => r.startContainer(mainId));
    const st = await timed('ContainerStatus', (r) => r.containerStatus(mainId));
    assert.equal(st.state, 'CONTAINER_RUNNING');
    assert.ok(st.startedAt >= st.createdAt);
    assert.equal(st.logPath, join(logDirectory, 'main/0.log'));
    fact(
      `ContainerStatus of a running container: image=${st.image.image} imageRef=${st.imageRef} reason='${st.reason}'`,
    );

    const log = await until('log lines', async () => {
      const text = await readFile(st.logPath, 'utf8').catch(() => '');
      return text.includes('hello') && text.includes('oops') ? text : undefined;
    });
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F hello$/m);
    assert.match(log, /^\S+ stderr F oops$/m);
    fact(
      `containerd created the container's log dir itself; CRI log lines look like ${JSON.stringify(log.split('\n')[0])}`,
    );

    const ex = await timed('ExecSync', (r) =>
      r.execSync(mainId, ['sh', '-c', 'echo $FOO; hostname; cat /etc/resolv.conf; echo e >&2; exit 7'], 10),
    );
    assert.equal(ex.exitCode, 7);
    const out = ex.stdout.toString();
    assert.match(out, /^bar\nh2pod\n/);
    assert.match(out, /nameserver 10\.96\.0\.10/);
    assert.match(out, /search default\.svc\.cluster\.local svc\.cluster\.local/);
    assert.match(out, /options ndots:5/);
    assert.equal(ex.stderr.toString(), 'e\n');
    const ip = await rt!.execSync(mainId, ['ip', '-4', '-o', 'addr', 'show', 'eth0'], 10);
    assert.match(ip.stdout.toString(), new RegExp(`inet ${sandboxIp.replace(/\./g, '\\.')}/24`));

    // Resource updates land in the container's cgroup (cgroupfs: <cgroupParent>/<containerId>).
    const memFile = join(
      CGROUP_ROOT,
      'memory',
      sandboxConfig.linux!.cgroupParent!,
      mainId,
      'memory.limit_in_bytes',
    );
    assert.ok(existsSync(memFile), `container cgroup at ${memFile}`);
    await timed('UpdateContainerResources', (r) =>
      r.updateContainerResources(mainId, { memoryLimitInBytes: 64 * 1024 * 1024, cpuShares: 512 }),
    );
    assert.equal((await readFile(memFile, 'utf8')).trim(), String(64 * 1024 * 1024));
    fact(
      `container cgroup (cgroupfs) is /sys/fs/cgroup/<ctrl>${sandboxConfig.linux!.cgroupParent}/<containerId>`,
    );
    await timed('ReopenContainerLog', (r) => r.reopenContainerLog(mainId));

    const stats = await timed('ContainerStats', (r) => r.containerStats(mainId));
    assert.equal(stats?.attributes.id, mainId);
    assert.ok((stats?.memory?.workingSetBytes?.value ?? 0) > 0, 'working set reported');
    const all = await timed('ListContainerStats', (r) => r.listContainerStats({ podSandboxId: sandboxId }));
    assert.deepEqual(
      all.map((s) => s.attributes.id),
      [mainId],
    );
    const listed = await timed('ListContainers', (r) =>
      r.listContainers({ podSandboxId: sandboxId, state: { state: 'CONTAINER_RUNNING' } }),
    );
    assert.deepEqual(
      listed.map((c) => c.id),
      [mainId],
    );
    assert.deepEqual(listed[0]!.labels, cfg.labels);
    fact(`ListContainers item image=${listed[0]!.image.image} imageRef=${listed[0]!.imageRef}`);
    assert.equal(
      (await rt!.listContainers({ labelSelector: { 'io.kubernetes.container.name': 'nope' } })).length,
      0,
    );
  });

  await t.test('streaming URLs and the protocols their server accepts', async () => {
    const execUrl = await timed('Exec', (r) =>
      r.exec({ containerId: mainId, cmd: ['echo', 'streamed'], stdout: true, stderr: true }),
    );
    const attachUrl = await timed('Attach', (r) =>
      r.attach({ containerId: mainId, stdout: true, stderr: true }),
    );
    const pfUrl = await timed('PortForward', (r) => r.portForward(sandboxId, [80]));
    fact(`Exec URL ${execUrl}; Attach URL ${attachUrl}; PortForward URL ${pfUrl}`);
    assert.match(execUrl, /^http:\/\/127\.0\.0\.1:\d+\/exec\/\S+$/);
    assert.match(attachUrl, /^http:\/\/127\.0\.0\.1:\d+\/attach\/\S+$/);
    assert.match(pfUrl, /^http:\/\/127\.0\.0\.1:\d+\/portforward\/\S+$/);

    const freshExec = () =>
      rt!.exec({ containerId: mainId, cmd: ['echo', 'streamed'], stdout: true, stderr: true });
    const results: string[] = [];
    const record = (what: string, r: UpgradeResult) => {
      const proto = r.headers['sec-websocket-protocol'] ?? r.headers['x-stream-protocol-version'] ?? '';
      results.push(`${what} → ${r.status}${proto ? ` (${proto})` : ''}`);
      return r;
    };

    // websocket, v4.channel.k8s.io: the server runs the command and sends stdout on channel 1
    // and the status on channel 3.
    const ws4 = record(
      'exec websocket v4.channel.k8s.io',
      await tryUpgrade(execUrl, wsHeaders('v4.channel.k8s.io')),
    );
    assert.equal(ws4.status, 101);
    const frames = parseWsFrames(ws4.data);
    const channels = frames
      .filter((f) => f.opcode === 2 && f.payload.length > 1)
      .map((f) => `${f.payload[0]}:${JSON.stringify(f.payload.subarray(1).toString())}`);
    fact(`exec over websocket v4: frames (channel:payload) ${channels.join(' | ')}`);
    assert.ok(
      frames.some((f) => f.payload[0] === 1 && f.payload.subarray(1).toString() === 'streamed\n'),
      'stdout on channel 1',
    );
    assert.ok(
      frames.some((f) => f.payload[0] === 3 && f.payload.subarray(1).toString().includes('Success')),
      'status on channel 3',
    );

    record(
      'exec websocket v5.channel.k8s.io',
      await tryUpgrade(await freshExec(), wsHeaders('v5.channel.k8s.io')),
    );
    const spdy = record(
      'exec SPDY/3.1 v4.channel.k8s.io',
      await tryUpgrade(await freshExec(), spdyHeaders('v4.channel.k8s.io')),
    );
    assert.equal(spdy.status, 101);
    record('exec URL reused after use', await tryUpgrade(execUrl, wsHeaders('v4.channel.k8s.io')));
    record(
      'attach websocket v4.channel.k8s.io',
      await tryUpgrade(
        await rt!.attach({ containerId: mainId, stdout: true, stderr: true }),
        wsHeaders('v4.channel.k8s.io'),
        300,
      ),
    );
    record(
      'portforward SPDY/3.1 portforward.k8s.io',
      await tryUpgrade(pfUrl, spdyHeaders('portforward.k8s.io'), 300),
    );
    const pfWs = record(
      'portforward websocket v4.channel.k8s.io',
      await tryUpgrade(
        `${await rt!.portForward(sandboxId, [80])}?ports=80`,
        wsHeaders('v4.channel.k8s.io'),
        500,
      ),
    );
    fact(
      `portforward over websocket (v4, ?ports=80, nothing listening): frames ${parseWsFrames(pfWs.data)
        .map((f) =>
          f.opcode === 2 && f.payload.length > 3
            ? `ch${f.payload[0]}:${JSON.stringify(f.payload.subarray(1).toString().slice(0, 60))}…`
            : `op${f.opcode}:${f.payload.toString('hex')}`,
        )
        .join(' | ')}`,
    );
    record(
      'portforward websocket portforward.k8s.io',
      await tryUpgrade(
        `${await rt!.portForward(sandboxId, [80])}?port=80`,
        wsHeaders('portforward.k8s.io'),
        300,
      ),
    );
    fact(`streaming upgrades: ${results.join('; ')}`);
  });

  await t.test('stop: SIGTERM ignored by PID 1 → 137 after the grace period; trapped → exit 0', async () => {
    const t1 = performance.now();
    await timed('StopContainer', (r) => r.stopContainer(mainId, 2));
    const stopMs = Math.round(performance.now() - t1);
    const st = await rt!.containerStatus(mainId);
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.exitCode, 137);
    assert.ok(stopMs >= 1_900, `waited for the grace period (${stopMs} ms)`);
    fact(
      `StopContainer(timeout 2) of 'sleep' as PID 1: ${stopMs} ms, exitCode ${st.exitCode}, reason '${st.reason}'`,
    );
    await rt!.stopContainer(mainId, 2); // idempotent on an exited container

    const trapId = await rt!.createContainer(
      sandboxId,
      container('trap', ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']),
      sandboxConfig,
    );
    await rt!.startContainer(trapId);
    await new Promise((r) => setTimeout(r, 200)); // let sh install the trap
    const t2 = performance.now();
    await rt!.stopContainer(trapId, 10);
    const trapMs = Math.round(performance.now() - t2);
    const ts = await rt!.containerStatus(trapId);
    assert.equal(ts.exitCode, 0);
    assert.ok(trapMs < 5_000, `exited on SIGTERM (${trapMs} ms)`);
    fact(`StopContainer of a container trapping TERM: ${trapMs} ms, exitCode 0, reason '${ts.reason}'`);

    // With the pod's shared PID namespace (CRI default POD), sleep is not PID 1 and dies of SIGTERM.
    const sharedId = await rt!.createContainer(
      sandboxId,
      container('shared', ['sleep', '3600'], { pid: 'POD' }),
      sandboxConfig,
    );
    await rt!.startContainer(sharedId);
    const t3 = performance.now();
    await rt!.stopContainer(sharedId, 10);
    const shared = await rt!.containerStatus(sharedId);
    assert.equal(shared.exitCode, 143);
    fact(
      `StopContainer of 'sleep' in the pod PID namespace (pid POD, the proto default): ${Math.round(performance.now() - t3)} ms, exitCode 143, reason '${shared.reason}'`,
    );
    await rt!.removeContainer(sharedId);

    await timed('RemoveContainer', (r) => r.removeContainer(trapId));
    await assert.rejects(rt!.containerStatus(trapId), isNotFound);
    await rt!.removeContainer(trapId).then(
      () => fact('RemoveContainer of a removed container: OK (idempotent)'),
      (e: CriError) => fact(`RemoveContainer of a removed container: ${e.codeName}`),
    );
    await rt!.stopContainer(trapId, 1).then(
      () => fact('StopContainer of a removed container: OK'),
      (e: CriError) => fact(`StopContainer of a removed container: ${e.codeName} (${e.details})`),
    );
  });

  await t.test('security context, working dir, args and mounts reach the container', async () => {
    const hostDir = join(ctd!.dataDir, 'h2-volume');
    await mkdir(hostDir, { recursive: true });
    await writeFile(join(hostDir, 'data.txt'), 'from the host\n');
    const base = container('secure', ['sh', '-c']);
    const cfg: ContainerConfig = {
      ...base,
      args: [
        'id; pwd; cat /vol/data.txt; touch /rootfs-write 2>&1 || echo rootfs-ro; touch /vol/x 2>&1 || echo vol-ro; echo masked=$(grep -c -e " /proc/keys " -e " /sys/firmware " /proc/self/mountinfo); grep ^NoNewPrivs /proc/self/status; grep ^CapEff /proc/self/status; exec sleep 3600',
      ],
      workingDir: '/tmp',
      mounts: [{ containerPath: '/vol', hostPath: hostDir, readonly: true }],
      linux: {
        ...base.linux,
        securityContext: {
          ...base.linux?.securityContext,
          runAsUser: { value: 1000 },
          runAsGroup: { value: 2000 },
          supplementalGroups: [3000],
          readonlyRootfs: true,
          noNewPrivs: true,
          capabilities: { addCapabilities: [], dropCapabilities: ['ALL'] },
          // The kubelet's defaults (ProcMount Default). Without them containerd 1.6 masks nothing
          // (measured: /proc/keys and /sys/firmware visible). Paths missing here (/proc/kcore) are fine.
          maskedPaths: [
            '/proc/asound',
            '/proc/acpi',
            '/proc/kcore',
            '/proc/keys',
            '/proc/latency_stats',
            '/proc/timer_list',
            '/proc/timer_stats',
            '/proc/sched_debug',
            '/proc/scsi',
            '/sys/firmware',
            '/sys/devices/virtual/powercap',
          ],
          readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
        },
      },
    };
    const id = await rt!.createContainer(sandboxId, cfg, sandboxConfig);
    await rt!.startContainer(id);
    const st = await rt!.containerStatus(id);
    const log = await until('secure container output', async () => {
      const text = await readFile(st.logPath, 'utf8').catch(() => '');
      return text.includes('CapEff') ? text : undefined;
    });
    const out = log
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ').slice(3).join(' '));
    fact(`secure container output: ${JSON.stringify(out)}`);
    assert.match(out[0] ?? '', /^uid=1000 gid=2000 groups=.*3000/);
    assert.equal(out[1], '/tmp');
    assert.equal(out[2], 'from the host');
    assert.ok(out.includes('rootfs-ro'), 'read-only root filesystem');
    assert.ok(out.includes('vol-ro'), 'read-only mount');
    assert.ok(out.includes('masked=2'), 'maskedPaths applied');
    assert.ok(out.some((l) => /^NoNewPrivs:\s+1$/.test(l)));
    assert.ok(out.some((l) => /^CapEff:\s+0+$/.test(l)));
    assert.deepEqual(
      st.mounts.map((m) => [m.containerPath, m.hostPath, m.readonly]),
      [['/vol', hostDir, true]],
    );
    await rt!.removeContainer(id);
  });

  await t.test('exit codes and reasons', async () => {
    const failId = await rt!.createContainer(
      sandboxId,
      container('fail', ['sh', '-c', 'exit 3']),
      sandboxConfig,
    );
    await rt!.startContainer(failId);
    const failed = await waitExited(failId);
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.reason, 'Error');
    assert.ok(failed.startedAt > 0 && failed.finishedAt > 0);
    fact(
      `fast exit: createdAt ${failed.createdAt} startedAt ${failed.startedAt} finishedAt ${failed.finishedAt} (finished-started ${Math.round((failed.finishedAt - failed.startedAt) / 1e6)} ms)`,
    );

    const okId = await rt!.createContainer(sandboxId, container('ok', ['true']), sandboxConfig);
    await rt!.startContainer(okId);
    const ok = await waitExited(okId);
    assert.deepEqual([ok.exitCode, ok.reason], [0, 'Completed']);
    fact(`exit 3 → reason '${failed.reason}' message '${failed.message}'; exit 0 → reason '${ok.reason}'`);

    await rt!.execSync(failId, ['true'], 5).then(
      () => assert.fail('ExecSync on an exited container succeeded'),
      (e: unknown) => {
        assert.ok(e instanceof CriError);
        fact(`ExecSync on an exited container: ${e.codeName} (${e.details})`);
      },
    );
    await rt!.startContainer(okId).then(
      () => assert.fail('StartContainer of an exited container succeeded'),
      (e: unknown) => {
        assert.ok(e instanceof CriError);
        fact(`StartContainer of an exited container: ${e.codeName} (${e.details})`);
      },
    );
    await rt!.createContainer(sandboxId, container('ok', ['true']), sandboxConfig).then(
      () => fact('CreateContainer with a name+attempt already used: accepted'),
      (e: CriError) => fact(`CreateContainer with a name+attempt already used: ${e.codeName} (${e.details})`),
    );
    await rt!.removeContainer(failId);
    await rt!.removeContainer(okId);
    fact(
      `after RemoveContainer the log file ${failed.logPath} is ${existsSync(failed.logPath) ? 'kept (the kubelet deletes logs)' : 'deleted'}`,
    );
  });

  await t.test('a memory limit OOM-kills with reason OOMKilled', async () => {
    const oomId = await rt!.createContainer(
      sandboxId,
      container('oom', ['sh', '-c', 'tail /dev/zero'], {
        resources: { memoryLimitInBytes: 16 * 1024 * 1024 },
      }),
      sandboxConfig,
    );
    await rt!.startContainer(oomId);
    const t1 = performance.now();
    const st = await waitExited(oomId, 60_000);
    fact(
      `OOM: exitCode ${st.exitCode}, reason '${st.reason}', message '${st.message}', seen ${Math.round(performance.now() - t1)} ms after start`,
    );
    assert.equal(st.reason, 'OOMKilled');
    assert.equal(st.exitCode, 137);
    await rt!.removeContainer(oomId);
  });

  await t.test('images', async () => {
    const images = await timed('ListImages', (r) => r.listImages());
    const bb = images.find((i) => i.repoTags.includes(busybox));
    assert.ok(bb, `busybox ${busybox} listed`);
    assert.ok(bb.size > 0);
    const status = await timed('ImageStatus', (r) => r.imageStatus(busybox));
    assert.equal(status?.id, bb.id);
    fact(
      `ImageStatus(${busybox}): id=${status?.id} repoDigests=${JSON.stringify(status?.repoDigests)} size=${status?.size}`,
    );
    assert.equal((await rt!.imageStatus(status!.id))?.id, bb.id, 'ImageStatus by id');
    assert.equal(await rt!.imageStatus('skiff.local/absent:1'), undefined);
    // containerd always asks the registry, even for an image it has: callers check ImageStatus first.
    await rt!.pullImage(busybox).then(
      (ref) => fact(`PullImage of a present image whose registry is unreachable: OK ${ref}`),
      (e: CriError) =>
        fact(`PullImage of a present image whose registry is unreachable: ${e.codeName} (${e.details})`),
    );

    const t1 = performance.now();
    const err = await rt!.pullImage('127.0.0.1:1/absent:latest').then(
      () => assert.fail('pull of an unreachable registry succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CriError);
    fact(
      `PullImage from a closed port: ${err.codeName} after ${Math.round(performance.now() - t1)} ms (${err.details})`,
    );

    const fs = await timed('ImageFsInfo', (r) => r.imageFsInfo());
    assert.ok(fs.length >= 1);
    assert.equal(typeof fs[0]?.usedBytes?.value, 'number');
    assert.ok((fs[0]?.timestamp ?? 0) > 1e18);
    fact(
      `ImageFsInfo: mountpoint ${fs[0]?.fsId?.mountpoint}, usedBytes ${fs[0]?.usedBytes?.value}, inodesUsed ${fs[0]?.inodesUsed?.value} (containerd refreshes snapshot usage in the background)`,
    );
  });

  await t.test('a host-network sandbox has no IP of its own and no netns', async () => {
    const before = await nsfsMounts(ctd!.dataDir);
    const hostCfg: PodSandboxConfig = {
      ...sandboxConfig,
      metadata: { ...sandboxConfig.metadata, name: 'h2host', uid: `${podUid}-host` },
      hostname: '',
      labels: { app: 'h2-host' },
      linux: {
        cgroupParent: `${CGROUP_PARENT}/pod${podUid}-host`,
        securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
      },
    };
    const id = await timed('RunPodSandbox(hostNetwork)', (r) => r.runPodSandbox(hostCfg));
    const st = await rt!.podSandboxStatus(id);
    assert.equal(st.state, 'SANDBOX_READY');
    fact(`host-network sandbox: network ip '${st.network?.ip ?? ''}'`);
    assert.deepEqual(await nsfsMounts(ctd!.dataDir), before, 'no netns for a host-network sandbox');
    await rt!.stopPodSandbox(id);
    await rt!.removePodSandbox(id);
  });

  await t.test('stopping and removing the sandbox releases netns and IP', async () => {
    const lastId = await rt!.createContainer(sandboxId, container('last', ['sleep', '3600']), sandboxConfig);
    await rt!.startContainer(lastId);
    await timed('StopPodSandbox', (r) => r.stopPodSandbox(sandboxId));
    const st = await rt!.podSandboxStatus(sandboxId);
    assert.equal(st.state, 'SANDBOX_NOTREADY');
    fact(`after StopPodSandbox: sandbox network ip '${st.network?.ip ?? ''}'`);
    const last = await rt!.containerStatus(lastId);
    assert.equal(last.state, 'CONTAINER_EXITED');
    fact(`StopPodSandbox killed its running container: exitCode ${last.exitCode} reason '${last.reason}'`);
    await rt!.stopPodSandbox(sandboxId); // idempotent
    assert.ok(!existsSync(join(leaseDir, sandboxIp)), 'IP released at stop');

    await timed('RemovePodSandbox', (r) => r.removePodSandbox(sandboxId));
    await assert.rejects(rt!.podSandboxStatus(sandboxId), isNotFound);
    await assert.rejects(rt!.containerStatus(lastId), isNotFound);
    const netnsAfter = await nsfsMounts(ctd!.dataDir);
    assert.deepEqual(netnsAfter.sort(), [...netnsBefore].sort(), 'netns removed');
    assert.equal((await rt!.listPodSandbox()).length, 0);
    await rt!.removePodSandbox(sandboxId).then(
      () => fact('RemovePodSandbox of a removed sandbox: OK (idempotent)'),
      (e: CriError) => fact(`RemovePodSandbox of a removed sandbox: ${e.codeName}`),
    );
    await rt!.stopPodSandbox(sandboxId).then(
      () => fact('StopPodSandbox of a removed sandbox: OK'),
      (e: CriError) => fact(`StopPodSandbox of a removed sandbox: ${e.codeName} (${e.details})`),
    );
  });

  await t.test('pulls from a plain-HTTP registry on 127.0.0.1; a missing image is an error', async (st) => {
    const port = await freePort();
    const regDir = join(ctd!.dataDir, 'registry');
    await mkdir(regDir, { recursive: true });
    const config = join(regDir, 'config.yml');
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const registry = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    st.after(() => {
      registry.kill('SIGKILL');
    });
    const base = `127.0.0.1:${port}`;
    await until('registry up', async () =>
      (await fetch(`http://${base}/v2/`).catch(() => undefined))?.ok ? true : undefined,
    );
    const archive = (await readdir(TEST_IMAGE_CACHE)).find(
      (f) => f.startsWith('busybox-') && f.endsWith('.tar'),
    );
    assert.ok(archive, 'busybox archive in the image cache');
    await run('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      `docker-archive:${join(TEST_IMAGE_CACHE, archive)}`,
      `docker://${base}/h2/busybox:v1`,
    ]);

    const ref = `${base}/h2/busybox:v1`;
    const imageRef = await timed('PullImage(registry)', (r) => r.pullImage(ref));
    const status = await rt!.imageStatus(ref);
    assert.ok(status, 'pulled image present');
    fact(
      `PullImage(${ref}) → ${imageRef} (${imageRef === status.id ? 'the image id' : 'not the image id'}); repoTags ${JSON.stringify(status.repoTags)} repoDigests ${JSON.stringify(status.repoDigests)}`,
    );
    assert.ok(status.repoDigests.some((d) => d.startsWith(`${base}/h2/busybox@sha256:`)));

    const missing = await rt!.pullImage(`${base}/h2/absent:v1`).then(
      () => assert.fail('pull of a missing image succeeded'),
      (e: unknown) => e,
    );
    assert.ok(missing instanceof CriError);
    fact(`PullImage of a tag the registry lacks: ${missing.codeName} (${missing.details})`);

    await timed('RemoveImage', (r) => r.removeImage(ref));
    assert.equal(await rt!.imageStatus(ref), undefined);
    // The pushed image is the imported busybox (same id): RemoveImage drops every tag of the image.
    const other = await rt!.imageStatus(busybox);
    fact(
      `RemoveImage by one tag of an image with two tags: the other tag (${busybox}) is ${other ? 'kept' : 'gone too'}`,
    );
    await rt!.removeImage(ref).then(
      () => fact('RemoveImage of a removed image: OK (idempotent)'),
      (e: CriError) => fact(`RemoveImage of a removed image: ${e.codeName}`),
    );
  });
});
