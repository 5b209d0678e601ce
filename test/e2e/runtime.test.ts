/**
 * e2e: skiff's own containerd (ContainerdSupervisor), the CNI config, and image import, against the
 * real containerd, runc and CNI plugins. Skips when not root or containerd is missing.
 * Uses CNI network/bridge "skiffh1" and subnet 10.88.1.0/24.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import type { CriRuntime, PodSandboxConfig } from '../../src/kubelet/cri/types.ts';
import { buildDockerArchive } from '../../src/kubelet/images/archive.ts';
import type { ImagePullError } from '../../src/kubelet/images/errors.ts';
import { ImageGC } from '../../src/kubelet/images/gc.ts';
import { ImageImportError, importImageFile } from '../../src/kubelet/images/import.ts';
import { KubeletImageManager } from '../../src/kubelet/images/manager.ts';
import { importStartupImages } from '../../src/kubelet/images/startup.ts';
import { removeCniConfig, writeCniConfig } from '../../src/kubelet/runtime/cni.ts';
import { criConditions } from '../../src/kubelet/runtime/probe.ts';
import { containerdSkipReason, startTestContainerd, type TestContainerd } from '../helpers/containerd.ts';

const run = promisify(execFile);
const skip = containerdSkipReason();
const NET = { name: 'skiffh1', bridge: 'skiffh1', subnet: '10.88.1.0/24' };

let ctd: TestContainerd;
let cri: CriRuntime;

async function until<T>(fn: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function sandboxConfig(name: string): PodSandboxConfig {
  return {
    metadata: { name, uid: `uid-${name}`, namespace: 'h1', attempt: 0 },
    hostname: name,
    logDirectory: `${ctd.dataDir}/logs/${name}`,
    linux: {},
  };
}

before(async () => {
  if (skip) return;
  ctd = await startTestContainerd(NET);
  cri = createCriRuntime(ctd.socketPath);
});

after(async () => {
  if (skip) return;
  cri?.close();
  await ctd?.stop();
});

test('containerd comes up under the supervisor with the imported images listed by the CRI', {
  skip,
}, async () => {
  const version = await cri.version();
  assert.equal(version.runtimeName, 'containerd');
  assert.equal(version.runtimeApiVersion, 'v1');
  const tags = (await cri.listImages()).flatMap((i) => i.repoTags);
  assert.ok(tags.includes('skiff.local/busybox:latest'), tags.join(','));
  assert.ok(tags.includes('skiff.local/pause:3.10'), tags.join(','));
  assert.match(readFileSync(ctd.supervisor.paths.logFile, 'utf8'), /containerd successfully booted/);
});

test('a pod sandbox gets an IP on the CNI bridge from the node subnet', { skip }, async () => {
  const config = sandboxConfig('net');
  const id = await cri.runPodSandbox(config);
  try {
    const status = await cri.podSandboxStatus(id);
    assert.equal(status.state, 'SANDBOX_READY');
    assert.match(status.network?.ip ?? '', /^10\.88\.1\.\d+$/);
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', NET.bridge]);
    assert.match(stdout, /inet 10\.88\.1\.1\/24/);
  } finally {
    await cri.stopPodSandbox(id);
    await cri.removePodSandbox(id);
  }
});

test('containerd reloads the CNI conf_dir by itself', { skip }, async () => {
  await removeCniConfig(ctd.cniConfDir);
  await until(
    async () => ((await criConditions(ctd.socketPath)).get('NetworkReady') === false ? true : undefined),
    'NetworkReady false',
  );
  await writeCniConfig(ctd.cniConfDir, {
    podCIDRs: [NET.subnet],
    networkName: NET.name,
    bridge: NET.bridge,
    ipamDataDir: `${ctd.dataDir}/agent/cni/networks`,
  });
  await until(
    async () => ((await criConditions(ctd.socketPath)).get('NetworkReady') ? true : undefined),
    'NetworkReady true',
  );
});

test('image archives import by name; an archive with no image name is an error, not a silent no-op', {
  skip,
}, async () => {
  const { archive } = buildDockerArchive({
    ref: 'skiff.local/h1-import:v1',
    files: [{ type: 'file', path: 'hello', data: Buffer.from('hi') }],
    config: { Cmd: ['/hello'] },
  });
  const dir = `${ctd.dataDir}/scratch`;
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/h1.tar`, archive);
  assert.deepEqual(await importImageFile(ctd.socketPath, `${dir}/h1.tar`), ['skiff.local/h1-import:v1']);
  assert.ok(await cri.imageStatus('skiff.local/h1-import:v1'));

  // An OCI layout with no org.opencontainers.image.ref.name: ctr exits 0 and imports nothing.
  const { writeTar } = await import('../../src/kubelet/images/tar.ts');
  await writeFile(
    `${dir}/noname.tar`,
    writeTar([
      { type: 'file', path: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      { type: 'file', path: 'index.json', data: Buffer.from('{"schemaVersion":2,"manifests":[]}') },
    ]),
  );
  await assert.rejects(importImageFile(ctd.socketPath, `${dir}/noname.tar`), ImageImportError);
  await assert.rejects(importImageFile(ctd.socketPath, `${dir}/missing.tar`), ImageImportError);
});

test('start-up import: the pause image always, every archive in DIR/agent/images, bad ones reported', {
  skip,
}, async () => {
  const dir = `${ctd.dataDir}/agent/images`;
  const { writeFile } = await import('node:fs/promises');
  const { archive } = buildDockerArchive({
    ref: 'skiff.local/h1-startup:v1',
    files: [{ type: 'file', path: 'x', data: Buffer.from('x') }],
    config: {},
  });
  await writeFile(`${dir}/startup.tar`, archive);
  await writeFile(`${dir}/zz-broken.tar`, 'not a tar');
  await writeFile(`${dir}/README.txt`, 'ignored: not an archive name');
  const res = await importStartupImages({ socket: ctd.socketPath, dataDir: ctd.dataDir });
  assert.equal(res.imported[0], 'skiff.local/pause:3.10');
  assert.ok(res.imported.includes('skiff.local/h1-startup:v1'));
  assert.deepEqual(
    res.failed.map((f) => f.file),
    [`${dir}/zz-broken.tar`],
  );
  assert.ok(await cri.imageStatus('skiff.local/h1-startup:v1'));
});

test('ImageManager pulls from a plain-HTTP registry on 127.0.0.1 through the CRI, per pull policy', {
  skip:
    skip ??
    (!existsSync('/usr/bin/docker-registry') || !existsSync('/usr/bin/skopeo')
      ? 'no docker-registry/skopeo'
      : false),
}, async (t) => {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const dir = `${ctd.dataDir}/registry`;
  await mkdir(dir, { recursive: true });
  await writeFile(
    `${dir}/config.yml`,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = spawn('/usr/bin/docker-registry', ['serve', `${dir}/config.yml`], { stdio: 'ignore' });
  t.after(() => registry.kill('SIGKILL'));
  const image = `127.0.0.1:${port}/h1/busybox:v1`;
  const { TEST_IMAGE_CACHE } = await import('../helpers/containerd.ts');
  const { buildBusyboxImage } = await import('../../src/kubelet/images/builder.ts');
  const built = await buildBusyboxImage({ cacheDir: TEST_IMAGE_CACHE });
  await until(
    async () => (await fetch(`http://127.0.0.1:${port}/v2/`)).ok || undefined,
    'the registry to answer',
  );
  await run('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    `docker-archive:${built.file}`,
    `docker://${image}`,
  ]);

  const events: string[] = [];
  const manager = new KubeletImageManager({ images: cri, recordEvent: (_pod, e) => events.push(e.reason) });
  const pod = { metadata: { name: 'pull', namespace: 'h1', uid: 'uid-pull' } };
  assert.equal(await cri.imageStatus(image), undefined);
  const ref = await manager.ensure(pod, { name: 'c', image }, []);
  assert.match(ref, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await cri.imageStatus(image))?.id, ref);
  assert.deepEqual(events, ['Pulling', 'Pulled']);
  // IfNotPresent (tag v1): present now, so no second pull.
  events.length = 0;
  assert.equal(await manager.ensure(pod, { name: 'c', image }, []), ref);
  assert.deepEqual(events, ['Pulled']);
  // A tag the registry lacks: ErrImagePull, then ImagePullBackOff.
  const missing = { name: 'm', image: `127.0.0.1:${port}/h1/busybox:nope` };
  await assert.rejects(
    manager.ensure(pod, missing, []),
    (err: unknown) => (err as ImagePullError).reason === 'ErrImagePull',
  );
  await assert.rejects(
    manager.ensure(pod, missing, []),
    (err: unknown) => (err as ImagePullError).reason === 'ImagePullBackOff',
  );
});

test('image GC reads the real image filesystem', { skip }, async () => {
  const gc = new ImageGC({
    runtime: cri,
    pauseImage: 'skiff.local/pause:3.10',
    highThresholdPercent: 100,
    lowThresholdPercent: 100,
  });
  const result = await gc.garbageCollect();
  assert.ok(result.usagePercent > 0 && result.usagePercent <= 100);
  const inUse = await gc.detectImages();
  assert.equal(inUse.size, 0);
});

test('a killed containerd is restarted; running containers survive it', { skip }, async () => {
  const config = sandboxConfig('survivor');
  const sandbox = await cri.runPodSandbox(config);
  const container = await cri.createContainer(
    sandbox,
    {
      metadata: { name: 'sleep', attempt: 0 },
      image: { image: 'skiff.local/busybox:latest' },
      command: ['sleep', '3600'],
      logPath: 'sleep.log',
    },
    config,
  );
  await cri.startContainer(container);
  const before = await cri.containerStatus(container);
  assert.equal(before.state, 'CONTAINER_RUNNING');
  const initPid = Number(
    readFileSync(
      `${ctd.supervisor.paths.state}/io.containerd.runtime.v2.task/k8s.io/${container}/init.pid`,
      'utf8',
    ),
  );
  assert.ok(alive(initPid));

  const oldPid = ctd.supervisor.pid!;
  let restarted = false;
  ctd.supervisor.onRestart(() => {
    restarted = true;
  });
  process.kill(oldPid, 'SIGKILL');
  await until(async () => (restarted ? true : undefined), 'the supervisor to restart containerd');
  assert.notEqual(ctd.supervisor.pid, oldPid);
  assert.ok(alive(ctd.supervisor.pid!));
  const afterStatus = await until(async () => cri.containerStatus(container), 'the CRI after restart');
  assert.equal(afterStatus.state, 'CONTAINER_RUNNING', 'the container kept running');
  assert.equal(afterStatus.startedAt, before.startedAt, 'and was not restarted');
  assert.ok(alive(initPid));
  await cri.stopPodSandbox(sandbox);
  await cri.removePodSandbox(sandbox);
  assert.ok(!alive(initPid));
});

test('stop() leaves no process, mount, dir or bridge behind', { skip }, async (t) => {
  const extra = await startTestContainerd({ name: 'skiffh1b', bridge: 'skiffh1b', subnet: '10.88.11.0/24' });
  t.after(() => extra.stop()); // idempotent; cleans up even when an assertion fails first
  const xcri = createCriRuntime(extra.socketPath);
  const config = { ...sandboxConfig('leftover'), logDirectory: `${extra.dataDir}/logs` };
  const sandbox = await xcri.runPodSandbox(config);
  const c = await xcri.createContainer(
    sandbox,
    {
      metadata: { name: 'sleep', attempt: 0 },
      image: { image: 'skiff.local/busybox:latest' },
      command: ['sleep', '3600'],
      logPath: 'x.log',
    },
    config,
  );
  await xcri.startContainer(c);
  xcri.close();
  // A task the CRI does not know about (ctr's own): stop() must kill it, its shim and its socket.
  await run('ctr', [
    '-n',
    'k8s.io',
    '--address',
    extra.socketPath,
    'run',
    '-d',
    '--null-io',
    'skiff.local/busybox:latest',
    'h1raw',
    'sleep',
    '3600',
  ]).catch((err) => {
    throw new Error(`ctr run failed (${err.code}): ${err.stderr}`);
  });
  const shimSocket = `/run/containerd/s/${createHash('sha256').update(`${extra.socketPath}/k8s.io/h1raw`).digest('hex')}`;
  assert.ok(existsSync(shimSocket));
  const pid = extra.supervisor.pid!;
  // Left running on purpose: stop() must clean it all up.
  await extra.stop();
  assert.ok(!alive(pid), 'containerd is gone');
  const procs = await readdir('/proc');
  for (const p of procs.filter((p) => /^\d+$/.test(p))) {
    const cmd = await import('node:fs/promises')
      .then((fs) => fs.readFile(`/proc/${p}/cmdline`, 'utf8'))
      .catch(() => '');
    assert.ok(!cmd.includes(extra.socketPath) && !cmd.includes(extra.dataDir), `process ${p} left: ${cmd}`);
  }
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(extra.dataDir), 'no mounts left');
  assert.ok(!existsSync(extra.dataDir), 'data dir removed');
  assert.ok(!existsSync(shimSocket), 'shim socket removed');
  assert.ok(
    !existsSync('/run/containerd/runc/k8s.io/h1raw'),
    "runc's state (shared by every containerd) removed",
  );
  await assert.rejects(run('ip', ['link', 'show', 'skiffh1b']), 'bridge removed');
  const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S']);
  assert.ok(!stdout.includes('skiffh1b'), 'no iptables rules left');
});
