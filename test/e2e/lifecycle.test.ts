/**
 * Pod lifecycles leave nothing behind: after many pods have run and been deleted, the node has no
 * sandbox or container left in the runtime, no pod cgroup, no volume or log directory, no IP lease
 * and no network namespace of theirs. SKIFF_LIFECYCLE_PODS scales it (default 60; thousands for a
 * soak run).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import { type NodeRecord, nodeRecordPath } from '../../src/kubelet/kubelet.ts';
import { BUSYBOX, TestCluster } from '../helpers/cluster.ts';

const CAN_RUN = process.getuid?.() === 0 && existsSync('/usr/bin/containerd') && existsSync('/usr/sbin/runc');
const skip = CAN_RUN ? false : 'needs root, containerd and runc (scripts/setup.sh installs them)';
const PODS = Number(process.env.SKIFF_LIFECYCLE_PODS ?? 60);
const BATCH = 15;

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

describe('pod lifecycles', { skip, timeout: 20 * 60_000 }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await TestCluster.startWithNode({ bridge: 'skifflc0', clusterCidr: '10.76.0.0/16' });
  });
  after(async () => {
    await cluster?.stop();
  });

  test(`${PODS} pods run and are deleted without leaking anything`, async () => {
    await cluster.kubectlOk(['create', 'namespace', 'churn']);
    const deadline = Date.now() + 60_000;
    while ((await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'churn'])).code !== 0) {
      assert.ok(Date.now() < deadline, 'the default service account appears');
      await new Promise((r) => setTimeout(r, 200));
    }
    const pod = (i: number) => `
apiVersion: v1
kind: Pod
metadata: {name: p${i}, namespace: churn}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sh, -c, 'echo run ${i} > /data/out; cat /etc/cfg/k']
    volumeMounts: [{name: data, mountPath: /data}, {name: cfg, mountPath: /etc/cfg}, {name: mem, mountPath: /mem}]
  volumes:
  - {name: data, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: cfg, configMap: {name: cfg}}
`;
    await cluster.kubectlOk(['create', 'configmap', 'cfg', '-n', 'churn', '--from-literal=k=v']);
    for (let start = 0; start < PODS; start += BATCH) {
      const n = Math.min(BATCH, PODS - start);
      const docs = Array.from({ length: n }, (_, k) => pod(start + k)).join('\n---\n');
      await cluster.kubectlOk(['apply', '-f', '-'], { input: docs });
      const until = Date.now() + 120_000;
      for (;;) {
        const phases = (
          await cluster.kubectlOk(['get', 'pods', '-n', 'churn', '-o', 'jsonpath={.items[*].status.phase}'])
        )
          .split(' ')
          .filter(Boolean);
        if (phases.length === n && phases.every((p) => p === 'Succeeded')) break;
        assert.ok(Date.now() < until, `batch at ${start} did not finish: ${phases.join(',')}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await cluster.kubectlOk(['delete', 'pods', '--all', '-n', 'churn', '--wait=true', '--timeout=120s']);
    }

    // Let the kubelet's housekeeping run (every 2 s) after the last deletions.
    await new Promise((r) => setTimeout(r, 5000));
    const record = JSON.parse(readFileSync(nodeRecordPath(cluster.dataDir), 'utf8')) as NodeRecord;
    const cri = createCriRuntime(record.socket);
    try {
      const sandboxes = await cri.listPodSandbox();
      const containers = await cri.listContainers();
      assert.deepEqual(
        sandboxes.filter((s) => s.metadata.namespace === 'churn').map((s) => s.metadata.name),
        [],
        'no sandbox left',
      );
      assert.equal(containers.filter((c) => c.labels['io.kubernetes.pod.namespace'] === 'churn').length, 0);
    } finally {
      cri.close();
    }
    const agent = join(cluster.dataDir, 'agent');
    assert.deepEqual(entries(join(agent, 'kubelet', 'pods')), [], 'no pod volume directory left');
    assert.deepEqual(
      entries(join(agent, 'logs', 'pods')).filter((d) => d.startsWith('churn_')),
      [],
      'no pod log directory left',
    );
    for (const controller of ['memory', 'cpu', 'pids']) {
      const root = `/sys/fs/cgroup/${controller}/${record.cgroupRoot}`;
      const pods = [root, join(root, 'burstable'), join(root, 'besteffort')].flatMap((d) =>
        entries(d).filter((e) => e.startsWith('pod')),
      );
      assert.deepEqual(pods, [], `no pod cgroup left in ${controller}`);
    }
    const leases = entries(join('/var/lib/cni/networks', record.cniNetwork)).filter((f) =>
      /^\d+\.\d+\.\d+\.\d+$/.test(f),
    );
    assert.deepEqual(leases, [], 'no pod IP lease left');
    assert.deepEqual(
      entries(join(agent, 'containerd', 'state', 'io.containerd.grpc.v1.cri', 'netns')),
      [],
      'no network namespace left',
    );
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.equal(
      mounts.split('\n').filter((l) => l.includes(join(agent, 'kubelet', 'pods'))).length,
      0,
      'no volume mount left',
    );
  });
});
