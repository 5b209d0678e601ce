/**
 * The cluster keeps its desired state: a real `skiff server` (scheduler and controllers inside) with
 * simulated nodes (`skiff sim`), driven by the real kubectl.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SKIFF, TestCluster } from '../helpers/cluster.ts';

/** Polls `check` until it returns true (or a value), failing after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const r = await check();
      if (r !== false) return r;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startSim(kubeconfig: string, args: string[]): ChildProcess {
  return spawn(SKIFF, ['sim', '--kubeconfig', kubeconfig, ...args], { stdio: 'ignore' });
}

async function stopProcess(p: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

describe('workloads on simulated nodes', () => {
  let cluster: TestCluster;
  let sim: ChildProcess | undefined;
  let doomed: ChildProcess | undefined;
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, { input });
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));

  before(async () => {
    cluster = await TestCluster.start([
      '--node-monitor-grace-period',
      '6s',
      '--default-unreachable-toleration-seconds',
      '2',
      '--default-not-ready-toleration-seconds',
      '2',
    ]);
    sim = startSim(cluster.kubeconfig, [
      '--nodes',
      '10',
      '--name-prefix',
      'node-',
      '--cpu',
      '8',
      '--memory',
      '16Gi',
    ]);
    await eventually('10 Ready nodes', async () => {
      const nodes = await json(['get', 'nodes']);
      return nodes.items.length >= 10 || false;
    });
  });

  after(async () => {
    await stopProcess(sim);
    await stopProcess(doomed, 'SIGKILL');
    await cluster?.stop();
  });

  it('a 100-replica Deployment becomes Available on 10 nodes, spread within node capacity', async () => {
    await ok(['create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=100']);
    const out = await ok(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    assert.match(out, /successfully rolled out/);
    const pods = await json(['get', 'pods', '-l', 'app=web']);
    assert.equal(pods.items.length, 100);
    const perNode = new Map<string, number>();
    for (const p of pods.items) {
      assert.equal(p.status.phase, 'Running');
      perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    }
    assert.ok(perNode.size >= 5, `pods spread over ${perNode.size} nodes`);
  });

  it('a rolling update respects maxSurge and maxUnavailable, and rollout undo restores the template', async () => {
    await ok([
      'patch',
      'deployment',
      'web',
      '-p',
      '{"spec":{"replicas":20,"strategy":{"rollingUpdate":{"maxSurge":2,"maxUnavailable":1}}}}',
    ]);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    const samples: { total: number; ready: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = await json(['get', 'pods', '-l', 'app=web']);
        const live = pods.items.filter(
          (p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp,
        );
        const ready = live.filter((p: { status: { conditions?: { type: string; status: string }[] } }) =>
          p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        samples.push({ total: live.length, ready: ready.length });
      }
    })();
    await ok(['set', 'image', 'deployment/web', 'busybox=busybox:1.37']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    sampling = false;
    await sampler;
    assert.ok(samples.length > 2, 'sampled during the rollout');
    for (const s of samples) {
      assert.ok(s.total <= 22, `at most replicas + maxSurge pods: saw ${s.total}`);
      assert.ok(
        s.ready >= 19 || s.total > s.ready,
        `at least replicas - maxUnavailable ready: saw ${s.ready}`,
      );
    }
    await ok(['rollout', 'undo', 'deployment/web']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    const image = await ok([
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    assert.equal(image, 'busybox:1.36');
  });

  it('kubectl scale works both ways', async () => {
    await ok(['scale', 'deployment', 'web', '--replicas=5']);
    await eventually('5 pods', async () => {
      const pods = await json(['get', 'pods', '-l', 'app=web']);
      return (
        pods.items.filter((p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp)
          .length === 5 || false
      );
    });
    await ok(['scale', 'deployment', 'web', '--replicas=8']);
    await ok(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.equal(await ok(['get', 'deployment', 'web', '-o', 'jsonpath={.status.availableReplicas}']), '8');
  });

  it('a Job of 20 completions at parallelism 5 completes', async () => {
    await ok(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'batch' },
        spec: {
          completions: 20,
          parallelism: 5,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
        },
      }),
    );
    await ok(['wait', '--for=condition=Complete', 'job/batch', '--timeout=120s']);
    assert.equal(await ok(['get', 'job', 'batch', '-o', 'jsonpath={.status.succeeded}']), '20');
  });

  it('a node that stops heartbeating has its pods recreated on other nodes', async () => {
    doomed = startSim(cluster.kubeconfig, [
      '--nodes',
      '1',
      '--name-prefix',
      'doomed-',
      '--cpu',
      '64',
      '--memory',
      '256Gi',
    ]);
    await eventually(
      'the doomed node',
      async () => (await json(['get', 'nodes'])).items.length === 11 || false,
    );
    // The pods prefer the doomed node (a soft preference, so they may go elsewhere later).
    await ok(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'big' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'big' } },
          template: {
            metadata: { labels: { app: 'big' } },
            spec: {
              containers: [{ name: 'c', image: 'busybox' }],
              affinity: {
                nodeAffinity: {
                  preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                      weight: 100,
                      preference: {
                        matchExpressions: [
                          { key: 'kubernetes.io/hostname', operator: 'In', values: ['doomed-0'] },
                        ],
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      }),
    );
    await ok(['rollout', 'status', 'deployment/big', '--timeout=60s']);
    const before = await json(['get', 'pods', '-l', 'app=big']);
    const onDoomed = before.items.filter(
      (p: { spec: { nodeName: string } }) => p.spec.nodeName === 'doomed-0',
    );
    await stopProcess(doomed, 'SIGKILL');
    await eventually('the node turns NotReady', async () => {
      const node = await json(['get', 'node', 'doomed-0']);
      return (
        node.status.conditions.some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'Unknown',
        ) || false
      );
    });
    const taints = await ok(['get', 'node', 'doomed-0', '-o', 'jsonpath={.spec.taints[*].key}']);
    assert.match(taints, /node\.kubernetes\.io\/unreachable/);
    await eventually(
      '3 available replicas off the dead node',
      async () => {
        const pods = await json(['get', 'pods', '-l', 'app=big']);
        const good = pods.items.filter(
          (p: {
            spec: { nodeName: string };
            status: { phase: string };
            metadata: { deletionTimestamp?: string };
          }) =>
            p.spec.nodeName !== 'doomed-0' && p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
        );
        return good.length === 3 || false;
      },
      90_000,
    );
    assert.ok(onDoomed.length > 0, 'some pods ran on the doomed node');
    {
      const gone = await json(['get', 'pods', '-l', 'app=big']);
      for (const p of onDoomed) {
        const still = gone.items.find(
          (q: { metadata: { name: string } }) => q.metadata.name === p.metadata.name,
        );
        assert.ok(
          !still || still.metadata.deletionTimestamp,
          `pod ${p.metadata.name} on the dead node was evicted`,
        );
      }
    }
  });

  it('deleting a namespace removes everything in it', async () => {
    await ok(['create', 'namespace', 'scratch']);
    await ok(['create', 'deployment', 'tmp', '--image=busybox', '--replicas=3', '-n', 'scratch']);
    await ok(['create', 'configmap', 'cm', '-n', 'scratch']);
    await ok(['rollout', 'status', 'deployment/tmp', '-n', 'scratch', '--timeout=60s']);
    await ok(['delete', 'namespace', 'scratch', '--timeout=90s']);
    const r = await cluster.kubectl(['get', 'namespace', 'scratch']);
    assert.match(r.stderr, /not found/);
  });
});
