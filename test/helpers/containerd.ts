/**
 * Test helper: a real containerd for e2e tests — READY TO USE (H1).
 *
 *   import { containerdSkipReason, startTestContainerd } from '../helpers/containerd.ts';
 *
 *   test('…', async (t) => {
 *     const skip = containerdSkipReason();
 *     if (skip) return t.skip(skip);
 *     const ctd = await startTestContainerd({ name: 'skiffh2', bridge: 'skiffh2', subnet: '10.88.2.0/24' });
 *     t.after(() => ctd.stop());
 *     // ctd.socketPath: the CRI endpoint (unix socket); images ctd.images.busybox and
 *     // ctd.images.pause are present in the k8s.io namespace; the CNI network is loaded
 *     // (NetworkReady is true), so RunPodSandbox gives pods an IP in `subnet`.
 *   });
 *
 * Each caller passes a CNI network name, a bridge name (≤ 15 chars) and a /24 of its own so tests
 * running in parallel never share a bridge, an IP range or host-local's lease dir.
 *
 * What it starts: skiff's ContainerdSupervisor in a fresh temp dir (its own root, state, socket;
 * netns mounts under its state dir; host-local leases under its data dir), with the busybox and
 * pause images built offline (cached in $TMPDIR/skiff-image-cache) and imported, and a CNI
 * conflist (bridge + host-local on `subnet`, portmap).
 *
 * `stop()` cleans up through skiff's own `uninstallNode` (src/kubelet/runtime/cleanup.ts, what
 * `skiff uninstall` runs): every pod sandbox is stopped and removed through the CRI (CNI DEL
 * releases IPs, veths and iptables rules), containerd is stopped, any container or shim process
 * still tied to this containerd is killed by PID, every mount under the temp dir is unmounted, the
 * temp dir, the bridge, host-local's leases, libcni's cached results and any nat rule left with
 * this network's name are removed. Left alone, since other tests may be using them: kube-proxy's
 * SKIFF- chains, portmap's shared CNI-HOSTPORT-* chains and any cgroup. It is idempotent and never
 * throws (it reports leftovers through `console.warn`).
 *
 * If a test process died before stop(), `reclaimTestContainerd(dataDir, sameOptions)` adopts the
 * containerd it left running (pid file) and cleans up the same way.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, buildPauseImage } from '../../src/kubelet/images/builder.ts';
import { importImages } from '../../src/kubelet/images/import.ts';
import { uninstallNode } from '../../src/kubelet/runtime/cleanup.ts';
import { writeCniConfig } from '../../src/kubelet/runtime/cni.ts';
import { ContainerdSupervisor } from '../../src/kubelet/runtime/containerd.ts';
import { criConditions } from '../../src/kubelet/runtime/probe.ts';

export interface TestContainerdOptions {
  /** CNI network name, unique to the caller (also used in the temp dir's name). */
  name: string;
  /** Linux bridge name (≤ 15 characters), unique to the caller. */
  bridge: string;
  /** Pod subnet, unique to the caller, e.g. "10.88.1.0/24". */
  subnet: string;
  /** The pause image ref (default skiff.local/pause:3.10). */
  pauseImage?: string;
}

export interface TestContainerd {
  /** containerd's gRPC socket: the CRI endpoint. */
  socketPath: string;
  /** The temp data dir (containerd under dataDir/agent/containerd). */
  dataDir: string;
  /** CNI conf_dir containerd watches. */
  cniConfDir: string;
  /** The supervisor, for tests that kill containerd or need its pid. */
  supervisor: ContainerdSupervisor;
  /** Refs of the imported images. */
  images: { busybox: string; pause: string };
  /** Cleans up everything (see the file comment). Idempotent; never throws. */
  stop(): Promise<void>;
}

/** Why e2e tests needing containerd cannot run here, or undefined when they can. */
export function containerdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd, runc, CNI)';
  const missing = [
    '/usr/bin/containerd',
    '/usr/bin/ctr',
    '/usr/sbin/runc',
    '/usr/lib/cni/bridge',
    '/bin/busybox',
    '/usr/bin/catatonit',
  ].filter((p) => !existsSync(p));
  if (missing.length > 0) return `missing ${missing.join(', ')} (run scripts/setup.sh)`;
  return undefined;
}

/** Where built image archives are cached between test runs. */
export const TEST_IMAGE_CACHE = join(tmpdir(), 'skiff-image-cache');

/** Starts containerd with images and a CNI network; see the file comment. */
export async function startTestContainerd(opts: TestContainerdOptions): Promise<TestContainerd> {
  if (opts.bridge.length > 15) throw new Error(`bridge name ${opts.bridge} longer than 15 characters`);
  const dataDir = await mkdtemp(join(tmpdir(), `skiff-ctd-${opts.name}-`));
  const supervisor = new ContainerdSupervisor({ dataDir, pauseImage: opts.pauseImage });
  const cniConfDir = supervisor.paths.cniConfDir;
  let stopped: Promise<void> | undefined;
  const ctd: TestContainerd = {
    socketPath: supervisor.socketPath,
    dataDir,
    cniConfDir,
    supervisor,
    images: { busybox: '', pause: '' },
    stop: () => {
      stopped ??= cleanUp(dataDir, supervisor, opts);
      return stopped;
    },
  };
  try {
    const [busybox, pause] = await Promise.all([
      buildBusyboxImage({ cacheDir: TEST_IMAGE_CACHE }),
      buildPauseImage({ cacheDir: TEST_IMAGE_CACHE, ref: opts.pauseImage }),
      supervisor.start(),
    ]);
    await importImages(supervisor.socketPath, [busybox.file, pause.file]);
    ctd.images = { busybox: busybox.ref, pause: pause.ref };
    await writeCniConfig(cniConfDir, {
      podCIDRs: [opts.subnet],
      networkName: opts.name,
      bridge: opts.bridge,
      ipamDataDir: join(dataDir, 'agent', 'cni', 'networks'),
    });
    await waitNetworkReady(supervisor.socketPath);
  } catch (err) {
    await ctd.stop();
    throw err;
  }
  return ctd;
}

/**
 * Cleans up after a test process that died before calling stop(): adopts the containerd still
 * running on `dataDir` (if any) and does everything stop() does. `opts` must be the options that
 * started it.
 */
export async function reclaimTestContainerd(dataDir: string, opts: TestContainerdOptions): Promise<void> {
  // Without a supervisor, uninstallNode adopts the containerd left running (or starts one).
  await cleanUp(dataDir, undefined, opts);
}

/** Waits until containerd has loaded the CNI config (CRI condition NetworkReady). */
async function waitNetworkReady(socket: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const conds = await criConditions(socket).catch(() => new Map<string, boolean>());
    if (conds.get('NetworkReady') === true) return;
    if (Date.now() > deadline) throw new Error(`containerd did not load the CNI config in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Everything stop() removes (see the file comment). */
async function cleanUp(
  dataDir: string,
  supervisor: ContainerdSupervisor | undefined,
  opts: TestContainerdOptions,
): Promise<void> {
  try {
    const summary = await uninstallNode({
      dataDir,
      supervisor,
      readyTimeoutMs: 5000,
      node: { nodeName: opts.name, cniBridge: opts.bridge, cniNetwork: opts.name },
      cgroups: false,
      proxyRules: false,
      sharedCniChains: false,
    });
    for (const problem of summary.problems) console.warn(`test containerd: ${problem}`);
    if (summary.iptables.chains.length > 0)
      console.warn(`test containerd: removed leftover iptables chains ${summary.iptables.chains.join(', ')}`);
  } catch (err) {
    console.warn(`test containerd: clean-up failed: ${(err as Error).message}`);
  }
}
