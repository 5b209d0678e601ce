/**
 * The node part of the kubelet against a real containerd 1.6:
 * - PodCgroups: a pod's cgroupParent, as ensure() returns it, is where containerd (cgroupfs driver)
 *   puts the pod's containers, so the pod-level limits apply to them; remove() cleans it up;
 * - NodeAgent: runtime version, Ready from CRI Status and node.status.images from the runtime.
 *
 * Needs root and containerd/runc/CNI (skips otherwise). Uses CNI network and bridge "skiffh6",
 * subnet 10.88.6.0/24, and the cgroup root /skiff-e2e-<pid>, all removed at the end.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { NODES } from '../../src/client/resources.ts';
import { HttpRestClient } from '../../src/client/rest.ts';
import { startTestApiServer } from '../../src/client/testing.ts';
import { detectCgroups, removeTree } from '../../src/kubelet/cm/cgroupfs.ts';
import { CgroupfsPodCgroups } from '../../src/kubelet/cm/pod-cgroups.ts';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import type { PodSandboxConfig } from '../../src/kubelet/cri/types.ts';
import { NodeAgent, type NodeObject } from '../../src/kubelet/node/agent.ts';
import { containerdSkipReason, startTestContainerd } from '../helpers/containerd.ts';

const ROOT = `skiff-e2e-${process.pid}`;

test('containers land under the pod cgroup; the node reports the runtime', async (t) => {
  const skip = containerdSkipReason();
  if (skip) return t.skip(skip);
  const layout = await detectCgroups();
  const ctd = await startTestContainerd({ name: 'skiffh6', bridge: 'skiffh6', subnet: '10.88.6.0/24' });
  const cri = createCriRuntime(ctd.socketPath);
  const cgroups = new CgroupfsPodCgroups({ rootName: ROOT, layout });
  const uid = `e2e-${process.pid}`;
  t.after(async () => {
    cri.close();
    await ctd.stop();
    await cgroups.remove(uid);
    for (const h of layout.hierarchies) await removeTree(join(h.mount, ROOT));
    for (const h of layout.hierarchies) assert.equal(existsSync(join(h.mount, ROOT)), false);
  });

  const pod: Pod = {
    metadata: { name: 'cg', namespace: 'default', uid },
    spec: {
      containers: [
        {
          name: 'main',
          image: ctd.images.busybox,
          resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '48Mi' } },
        },
      ],
    },
  };
  const parent = await cgroups.ensure(pod);
  assert.equal(parent, `/${ROOT}/burstable/pod${uid}`);

  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: 'cg', namespace: 'default', uid, attempt: 0 },
    hostname: 'cg',
    linux: { cgroupParent: parent },
  };
  const sandbox = await cri.runPodSandbox(sandboxConfig);
  const id = await cri.createContainer(
    sandbox,
    {
      metadata: { name: 'main', attempt: 0 },
      image: { image: ctd.images.busybox },
      command: ['sleep', '300'],
    },
    sandboxConfig,
  );
  await cri.startContainer(id);

  for (const controller of ['memory', 'cpu', 'pids']) {
    const h =
      layout.mode === 'v2'
        ? layout.hierarchies[0]
        : layout.hierarchies.find((x) => x.controllers.includes(controller));
    assert.ok(h);
    const dir = join(h.mount, parent, id);
    assert.ok(existsSync(dir), `container cgroup ${dir} exists under the pod cgroup`);
    const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);
    assert.ok(procs.length >= 1, `the container's process is in ${dir}`);
    const own = readFileSync(`/proc/${procs[0]}/cgroup`, 'utf8');
    assert.ok(own.includes(`${parent}/${id}`), `/proc/<pid>/cgroup names ${parent}/${id}`);
  }
  if (layout.mode === 'v1') {
    assert.equal(
      readFileSync(join('/sys/fs/cgroup/memory', parent, 'memory.limit_in_bytes'), 'utf8').trim(),
      String(48 * 1024 * 1024),
    );
    assert.equal(
      readFileSync(join('/sys/fs/cgroup/cpu', parent, 'cpu.cfs_quota_us'), 'utf8').trim(),
      '20000',
    );
  }
  const usage = await cgroups.usage(uid);
  assert.ok((usage?.processes ?? 0) >= 1);
  assert.ok((usage?.memoryWorkingSetBytes ?? 0) > 0);

  // The node as the agent reports it, from this runtime.
  const srv = await startTestApiServer();
  t.after(() => srv.close());
  const client = new HttpRestClient(srv.config);
  const agent = new NodeAgent({
    client,
    nodeName: 'h6-node',
    rootDir: ctd.dataDir,
    kubeletVersion: 'v1.35.0-skiff',
    runtimeVersion: async () => {
      const v = await cri.version();
      return `${v.runtimeName}://${v.runtimeVersion}`;
    },
    runtimeStatus: () => cri.status(),
    images: () => cri.listImages(),
  });
  await agent.start();
  agent.stop();
  const node = await client.get<NodeObject>(NODES, '', 'h6-node');
  assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\/1\.6\./);
  assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.ok(node.status?.images?.some((i) => i.names?.some((n) => n.includes('busybox'))));

  // Tear down the pod, then its cgroup: nothing left in any hierarchy.
  await cri.stopContainer(id, 0);
  await cri.removeContainer(id);
  await cri.stopPodSandbox(sandbox);
  await cri.removePodSandbox(sandbox);
  await cgroups.remove(uid);
  for (const h of layout.hierarchies)
    assert.equal(existsSync(join(h.mount, parent)), false, `${h.mount}${parent} removed`);
  assert.deepEqual(await cgroups.list(), []);
});
