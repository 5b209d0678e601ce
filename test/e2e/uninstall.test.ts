/**
 * `skiff uninstall`'s clean-up (src/kubelet/runtime/cleanup.ts uninstallNode) against a real
 * containerd: a pod with a hostPort and a running container, its node stopped (containerd down,
 * the container still running, as after `skiff agent` exits), then uninstallNode; nothing may be
 * left: no process tied to the socket, no container process, no mount under the data dir, no
 * bridge, no netns, no nat rule with the network's name, no pod cgroup, no lease, no cached
 * result, no data dir — and kube-proxy's SKIFF- chains are gone (in a netns of the test's own).
 *
 * A second test stops containerd for good (it cannot be used): everything goes by force instead —
 * runc, PIDs, umount, and the nat rules by the network's tag.
 *
 * Needs root and containerd/runc/CNI (skips otherwise). Uses CNI network and bridge "skiffh9",
 * subnet 10.88.9.0/24, hostPort 39109, the cgroup root /skiffh9-e2e and the netns skiffh9-proxy.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import type { PodSandboxConfig } from '../../src/kubelet/cri/types.ts';
import type { NodeRecord } from '../../src/kubelet/kubelet.ts';
import {
  mountsUnder,
  processesMentioning,
  tasksIn,
  uninstallNode,
} from '../../src/kubelet/runtime/cleanup.ts';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { containerdSkipReason, startTestContainerd } from '../helpers/containerd.ts';

const run = promisify(execFile);

const NETWORK = 'skiffh9';
const CGROUP_ROOT = 'skiffh9-e2e';
const HOST_PORT = 39109;
const PROXY_NETNS = 'skiffh9-proxy';
const CGROUP = `/sys/fs/cgroup/memory/${CGROUP_ROOT}`;
const TAG = `name: \\"${NETWORK}\\"`;

async function natRules(): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-t', 'nat', '-S']);
  return stdout.split('\n').filter((l) => l.includes(TAG));
}

async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Processes whose network namespace is `ns` (`net:[inode]`). */
async function processesInNetns(ns: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    if ((await readlink(`/proc/${e}/ns/net`).catch(() => '')) === ns) pids.push(Number(e));
  }
  return pids;
}

/** A node with one pod, as the kubelet leaves it when it stops: containerd down, containers running. */
async function stoppedNode(t: TestContext) {
  const ctd = await startTestContainerd({ name: NETWORK, bridge: NETWORK, subnet: '10.88.9.0/24' });
  t.after(() => ctd.stop());
  const { dataDir, socketPath } = ctd;

  // A pod as the kubelet runs one: cgroup under the node's root, a hostPort, a running container.
  const rt = createCriRuntime(socketPath, { timeoutMs: 60_000 });
  const uid = `uid-${randomBytes(4).toString('hex')}`;
  const logDirectory = join(dataDir, 'agent', 'logs', 'pods', `default_h9_${uid}`);
  await mkdir(logDirectory, { recursive: true });
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'h9', uid, namespace: 'default', attempt: 0 },
    hostname: 'h9',
    logDirectory,
    labels: { 'io.kubernetes.pod.uid': uid },
    portMappings: [{ protocol: 'TCP', containerPort: 8080, hostPort: HOST_PORT }],
    linux: { cgroupParent: `/${CGROUP_ROOT}/pod${uid}` },
  };
  let sandboxId: string;
  try {
    sandboxId = await rt.runPodSandbox(sandboxConfig);
    const containerId = await rt.createContainer(
      sandboxId,
      {
        metadata: { name: 'main', attempt: 0 },
        image: { image: ctd.images.busybox },
        command: ['sleep', '3600'],
        logPath: 'main/0.log',
        linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
      },
      sandboxConfig,
    );
    await rt.startContainer(containerId);
  } finally {
    rt.close();
  }

  // What the pod made, before.
  const tasks = await tasksIn(ctd.supervisor.paths.state);
  assert.equal(tasks.length, 2, 'the sandbox and the container');
  const pids = tasks.map((task) => task.pid);
  const netns = await readlink(`/proc/${pids[0]}/ns/net`);
  assert.match(netns, /^net:\[\d+\]$/);
  assert.ok((await natRules()).length >= 3, 'masquerade and hostPort rules');
  assert.ok((await mountsUnder(dataDir)).length >= 3, 'rootfs overlays, shm, netns');
  await run('ip', ['link', 'show', 'dev', NETWORK]);
  const leases = join(dataDir, 'agent', 'cni', 'networks', NETWORK);
  assert.ok((await readdir(leases)).some((f) => f.startsWith('10.88.9.')));
  const results = (await readdir('/var/lib/cni/results')).filter((f) => f.includes(sandboxId));
  assert.ok(results.length >= 1, "libcni's cached results");
  assert.ok(existsSync(CGROUP));

  const record: NodeRecord = {
    nodeName: 'h9',
    cniBridge: NETWORK,
    cniNetwork: NETWORK,
    cgroupRoot: CGROUP_ROOT,
    socket: socketPath,
  };
  await writeFile(join(dataDir, 'agent', 'node.json'), JSON.stringify(record));
  await ctd.supervisor.stop();
  for (const pid of pids) assert.ok(await alive(pid), 'containers outlive containerd');
  return { ctd, sandboxId, pids, netns, results, record };
}

/** Asserts nothing of the node is left. */
async function assertNothingLeft(node: Awaited<ReturnType<typeof stoppedNode>>): Promise<void> {
  const { dataDir, socketPath } = node.ctd;
  assert.deepEqual(await processesMentioning(socketPath), [], 'no shim or containerd');
  for (const pid of node.pids) assert.equal(await alive(pid), false, `container process ${pid} gone`);
  assert.deepEqual(await mountsUnder(dataDir), [], 'no mount under the data dir');
  await assert.rejects(run('ip', ['link', 'show', 'dev', NETWORK]), 'no bridge');
  assert.deepEqual(await processesInNetns(node.netns), [], 'no process in the pod netns');
  assert.ok(
    !(await readFile('/proc/self/mountinfo', 'utf8')).includes(node.netns),
    'the pod netns is not mounted',
  );
  assert.deepEqual(await natRules(), [], `no nat rule tagged ${NETWORK}`);
  assert.equal(existsSync(CGROUP), false, 'no pod cgroup');
  for (const f of node.results)
    assert.equal(existsSync(join('/var/lib/cni/results', f)), false, `${f} removed`);
  assert.equal(existsSync(dataDir), false, 'no data dir');
  const { stdout: listening } = await run('ss', ['-Hltn', `sport = :${HOST_PORT}`]);
  assert.equal(listening.trim(), '', 'no hostPort listener');
}

test('uninstallNode leaves nothing of a node behind', { timeout: 240_000 }, async (t) => {
  const skip = containerdSkipReason();
  if (skip) return t.skip(skip);
  // kube-proxy's chains, in a netns of our own (the host's SKIFF- chains may belong to other tests).
  await run('ip', ['netns', 'delete', PROXY_NETNS]).catch(() => {});
  await run('ip', ['netns', 'add', PROXY_NETNS]);
  t.after(() => run('ip', ['netns', 'delete', PROXY_NETNS]).catch(() => {}));
  const inProxyNs = (...args: string[]) => run('ip', ['netns', 'exec', PROXY_NETNS, ...args]);
  await inProxyNs('iptables', '-w', '-t', 'nat', '-N', 'SKIFF-SERVICES');
  await inProxyNs('iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-j', 'SKIFF-SERVICES');
  const node = await stoppedNode(t);

  const t0 = performance.now();
  const summary = await uninstallNode({
    dataDir: node.ctd.dataDir,
    proxyRules: new ExecIptablesRunner({ netns: PROXY_NETNS }),
    sharedCniChains: false, // other tests' networks may use portmap's chains
  });
  t.diagnostic(`uninstallNode took ${Math.round(performance.now() - t0)} ms`);
  assert.deepEqual(summary.problems, []);
  assert.deepEqual(summary.sandboxes, [node.sandboxId], 'removed through the CRI (containerd started again)');
  assert.deepEqual(summary.iptables, { rules: 0, chains: [] }, 'CNI DEL removed the rules');
  assert.equal(summary.bridge, true);
  assert.deepEqual(summary.proxy, { jumps: 1, chains: 1 });
  assert.equal(summary.dataRemoved, true);
  await assertNothingLeft(node);
  const { stdout: proxyRules } = await inProxyNs('iptables-save', '-t', 'nat');
  assert.doesNotMatch(proxyRules, /SKIFF-/, "kube-proxy's chains gone");

  // Idempotent.
  const again = await uninstallNode({
    dataDir: node.ctd.dataDir,
    proxyRules: new ExecIptablesRunner({ netns: PROXY_NETNS }),
    sharedCniChains: false,
    node: node.record,
  });
  assert.deepEqual(again.problems, []);
  assert.deepEqual(again.sandboxes, []);
  assert.equal(again.bridge, false);
  assert.deepEqual(again.paths, []);
});

test('without a usable containerd, everything goes by force', { timeout: 240_000 }, async (t) => {
  const skip = containerdSkipReason();
  if (skip) return t.skip(skip);
  const node = await stoppedNode(t);
  // The stopped supervisor stands for a containerd that cannot start: no CRI step at all.
  const summary = await uninstallNode({
    dataDir: node.ctd.dataDir,
    supervisor: node.ctd.supervisor,
    proxyRules: false,
    sharedCniChains: false,
  });
  assert.deepEqual(summary.problems, []);
  assert.deepEqual(summary.sandboxes, []);
  assert.equal(summary.tasks.length, 2, 'the sandbox and the container, force-deleted with runc');
  assert.ok(summary.iptables.rules >= 3, `the nat rules, by the network's tag (${summary.iptables.rules})`);
  assert.ok(summary.mounts.length >= 3, 'rootfs overlays, shm, netns unmounted');
  await assertNothingLeft(node);
});
