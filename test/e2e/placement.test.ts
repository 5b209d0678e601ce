/**
 * Where the scheduler puts pods, checked against kube-scheduler's documented behaviour: a real
 * `skiff server` with five simulated nodes of distinct sizes, labels, zones and taints, driven by
 * the real kubectl. Also: a foreground delete of a Deployment removes its dependents first.
 *
 *   node    cpu  labels                         taints
 *   sa-0      2  size=small, zone=a
 *   sb-0      2  size=small, zone=b
 *   ba-0     16  size=big,   zone=a
 *   bb-0     16  size=big,   zone=b
 *   gpu-0    16  gpu=true (no zone)              dedicated=gpu:NoSchedule
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SKIFF, TestCluster } from '../helpers/cluster.ts';

const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';
const UNTAINTED = ['sa-0', 'sb-0', 'ba-0', 'bb-0'];
const BIG = ['ba-0', 'bb-0'];
/** What kube-scheduler's FitError says about the tainted node when the pod does not tolerate it. */
const TAINTED = '1 node(s) had untolerated taint {dedicated: gpu}';
/**
 * kube-scheduler's preemption suffix when every node failed with UnschedulableAndUnresolvable (an
 * untolerated taint, a node selector/affinity or pod affinity mismatch, or a request above the
 * node's allocatable).
 */
const NOT_HELPFUL = ' preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.';

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Polls `check` until it returns a value other than false, failing after `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | false>, ms = 30_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startSim(kubeconfig: string, args: string[]): ChildProcess {
  return spawn(SKIFF, ['sim', '--kubeconfig', kubeconfig, ...args], { stdio: 'ignore' });
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

const container = (cpu?: string) => ({
  name: 'c',
  image: 'busybox',
  ...(cpu ? { resources: { requests: { cpu } } } : {}),
});

const tolerateGpu = [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }];

function nodeAffinity(key: string, operator: string, values?: string[]) {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }],
      },
    },
  };
}

/** One pod, and where kube-scheduler would put it: on one of `on`, or Pending with `pending`. */
interface Case {
  name: string;
  pod: string;
  labels?: Record<string, string>;
  spec: Record<string, unknown>;
  on?: string[];
  /** The FitError message kube-scheduler puts in the PodScheduled condition. */
  pending?: string;
}

const cases: Case[] = [
  {
    name: 'requests cpu 8: only a big node fits',
    pod: 'cpu8',
    spec: { containers: [container('8')] },
    on: BIG,
  },
  {
    name: 'requests cpu 100: nothing fits',
    pod: 'cpu100',
    spec: { containers: [container('100')] },
    pending: `0/5 nodes are available: ${TAINTED}, 4 Insufficient cpu.${NOT_HELPFUL}`,
  },
  {
    name: 'nodeSelector size=small',
    pod: 'sel-small',
    spec: { containers: [container()], nodeSelector: { size: 'small' } },
    on: ['sa-0', 'sb-0'],
  },
  {
    name: 'nodeSelector size=big',
    pod: 'sel-big',
    spec: { containers: [container()], nodeSelector: { size: 'big' } },
    on: BIG,
  },
  {
    name: 'nodeSelector size=huge matches no node',
    pod: 'sel-huge',
    spec: { containers: [container()], nodeSelector: { size: 'huge' } },
    pending: `0/5 nodes are available: ${TAINTED}, 4 node(s) didn't match Pod's node affinity/selector.${NOT_HELPFUL}`,
  },
  {
    name: 'required node affinity zone In [b]',
    pod: 'aff-in',
    spec: { containers: [container()], affinity: nodeAffinity(ZONE, 'In', ['b']) },
    on: ['sb-0', 'bb-0'],
  },
  {
    // NotIn also matches nodes without the label (gpu-0), but that one is tainted.
    name: 'required node affinity size NotIn [small]',
    pod: 'aff-notin',
    spec: { containers: [container()], affinity: nodeAffinity('size', 'NotIn', ['small']) },
    on: BIG,
  },
  {
    name: 'required node affinity gpu Exists, without a toleration',
    pod: 'aff-exists',
    spec: { containers: [container()], affinity: nodeAffinity('gpu', 'Exists') },
    pending: `0/5 nodes are available: ${TAINTED}, 4 node(s) didn't match Pod's node affinity/selector.${NOT_HELPFUL}`,
  },
  {
    name: 'required node affinity gpu Exists, with the toleration',
    pod: 'aff-exists-tol',
    spec: { containers: [container()], affinity: nodeAffinity('gpu', 'Exists'), tolerations: tolerateGpu },
    on: ['gpu-0'],
  },
  {
    name: 'nodeSelector gpu=true without a toleration',
    pod: 'gpu-notol',
    spec: { containers: [container()], nodeSelector: { gpu: 'true' } },
    pending: `0/5 nodes are available: ${TAINTED}, 4 node(s) didn't match Pod's node affinity/selector.${NOT_HELPFUL}`,
  },
  {
    name: 'nodeSelector gpu=true with the toleration',
    pod: 'gpu-tol',
    spec: { containers: [container()], nodeSelector: { gpu: 'true' }, tolerations: tolerateGpu },
    on: ['gpu-0'],
  },
  {
    name: 'the target of pod affinity, pinned to sa-0',
    pod: 'x',
    labels: { app: 'x' },
    spec: { containers: [container()], nodeSelector: { [HOST]: 'sa-0' } },
    on: ['sa-0'],
  },
  {
    name: 'required pod affinity to app=x on hostname: lands with x',
    pod: 'with-x',
    spec: {
      containers: [container()],
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'x' } }, topologyKey: HOST },
          ],
        },
      },
    },
    on: ['sa-0'],
  },
  {
    name: 'required pod affinity to app=nobody: nothing fits',
    pod: 'with-nobody',
    spec: {
      containers: [container()],
      affinity: {
        podAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'nobody' } }, topologyKey: HOST },
          ],
        },
      },
    },
    pending: `0/5 nodes are available: ${TAINTED}, 4 node(s) didn't match pod affinity rules.${NOT_HELPFUL}`,
  },
];

describe('pod placement on simulated nodes', () => {
  let cluster: TestCluster;
  const sims: ChildProcess[] = [];
  const ok = (args: string[], input?: string) => cluster.kubectlOk(args, { input });
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));
  const livePods = async (selector: string): Promise<Pod[]> =>
    (await json(['get', 'pods', '-l', selector])).items.filter((p: Pod) => !p.metadata.deletionTimestamp);
  const scheduled = (p: Pod) =>
    p.status.conditions?.find((c) => c.type === 'PodScheduled') ?? {
      type: 'PodScheduled',
      status: 'Unknown',
    };

  /** Waits until `name` is bound (returns its node) or marked Unschedulable (returns the message). */
  async function outcome(name: string): Promise<{ node?: string; message?: string }> {
    return eventually(`pod ${name} to be scheduled or found unschedulable`, async () => {
      const p: Pod = await json(['get', 'pod', name]);
      if (p.spec.nodeName) return { node: p.spec.nodeName };
      const c = scheduled(p);
      if (c.status === 'False' && c.reason === 'Unschedulable') return { message: c.message ?? '' };
      return false;
    });
  }

  /** Creates a Deployment of `replicas` busybox pods labelled app=`name` with `spec` merged in. */
  async function deployment(name: string, replicas: number, spec: Record<string, unknown>): Promise<void> {
    await ok(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels: { app: name } },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [container()], terminationGracePeriodSeconds: 1, ...spec },
          },
        },
      }),
    );
  }

  before(async () => {
    cluster = await TestCluster.start();
    const groups: [string, string, string, string][] = [
      ['sa-', '2', `size=small,${ZONE}=a`, ''],
      ['sb-', '2', `size=small,${ZONE}=b`, ''],
      ['ba-', '16', `size=big,${ZONE}=a`, ''],
      ['bb-', '16', `size=big,${ZONE}=b`, ''],
      ['gpu-', '16', 'gpu=true', 'dedicated=gpu:NoSchedule'],
    ];
    for (const [prefix, cpu, labels, taints] of groups) {
      const args = [
        '--nodes',
        '1',
        '--name-prefix',
        prefix,
        '--cpu',
        cpu,
        '--memory',
        '32Gi',
        '--labels',
        labels,
      ];
      sims.push(startSim(cluster.kubeconfig, taints ? [...args, '--taints', taints] : args));
    }
    await eventually('5 Ready nodes', async () => {
      const nodes = await json(['get', 'nodes']);
      const ready = nodes.items.filter((n: { status: { conditions?: { type: string; status: string }[] } }) =>
        n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === 5 || false;
    });
  });

  after(async () => {
    await Promise.all(sims.map(stopProcess));
    await cluster?.stop();
  });

  for (const c of cases) {
    it(`${c.name}: ${c.on ? `lands on ${c.on.join(' or ')}` : 'stays Pending'}`, async () => {
      await ok(
        ['create', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: c.pod, ...(c.labels ? { labels: c.labels } : {}) },
          spec: c.spec,
        }),
      );
      const r = await outcome(c.pod);
      if (c.on) {
        assert.ok(r.node, `pod ${c.pod} unschedulable: ${r.message}`);
        assert.ok(c.on.includes(r.node), `pod ${c.pod} landed on ${r.node}, expected one of ${c.on}`);
      } else {
        assert.equal(r.node, undefined, `pod ${c.pod} landed on ${r.node}, expected it to stay Pending`);
        assert.equal(r.message, c.pending);
      }
    });
  }

  it('reports FailedScheduling events with the FitError message', async () => {
    const event = await eventually('a FailedScheduling event for cpu100', async () => {
      const list = await json([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=cpu100,reason=FailedScheduling',
      ]);
      const first: { type: string; message: string } | undefined = list.items[0];
      return first ?? false;
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, `0/5 nodes are available: ${TAINTED}, 4 Insufficient cpu.${NOT_HELPFUL}`);
  });

  it('pods without a toleration never land on the tainted node', async () => {
    await deployment('plain', 8, {});
    await ok(['rollout', 'status', 'deployment/plain', '--timeout=60s']);
    const pods = await livePods('app=plain');
    assert.equal(pods.length, 8);
    for (const p of pods)
      assert.ok(UNTAINTED.includes(p.spec.nodeName ?? ''), `${p.metadata.name} on ${p.spec.nodeName}`);
  });

  it('required pod anti-affinity on hostname: one pod per node, the extra stays Pending', async () => {
    await deployment('anti', 3, {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchLabels: { app: 'anti' } }, topologyKey: HOST },
          ],
        },
      },
    });
    await ok(['rollout', 'status', 'deployment/anti', '--timeout=60s']);
    const three = await livePods('app=anti');
    assert.equal(three.length, 3);
    assert.equal(new Set(three.map((p) => p.spec.nodeName)).size, 3, 'three distinct nodes');

    // 5 replicas, 4 untainted nodes: 4 run on distinct nodes, 1 stays Pending.
    await ok(['scale', 'deployment', 'anti', '--replicas=5']);
    const { bound, pending } = await eventually('4 bound and 1 unschedulable anti pods', async () => {
      const pods = await livePods('app=anti');
      const bound = pods.filter((p) => p.spec.nodeName);
      const pending = pods.filter((p) => !p.spec.nodeName && scheduled(p).reason === 'Unschedulable');
      return (pods.length === 5 && bound.length === 4 && pending.length === 1 && { bound, pending }) || false;
    });
    assert.deepEqual(bound.map((p) => p.spec.nodeName).sort(), [...UNTAINTED].sort());
    const message = (pending[0] && scheduled(pending[0]).message) ?? '';
    // The anti-affinity failure is resolvable in principle (Unschedulable), so preemption looked for
    // lower-priority victims on those 4 nodes and found none.
    assert.equal(
      message,
      `0/5 nodes are available: ${TAINTED}, 4 node(s) didn't match pod anti-affinity rules. ` +
        'preemption: 0/5 nodes are available: 1 Preemption is not helpful for scheduling, ' +
        '4 No preemption victims found for incoming pod.',
    );
  });

  it('hard topology spread on zone, maxSkew 1 over 4 replicas: 2 and 2', async () => {
    await deployment('spread', 4, {
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: ZONE,
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: { app: 'spread' } },
        },
      ],
    });
    await ok(['rollout', 'status', 'deployment/spread', '--timeout=60s']);
    const pods = await livePods('app=spread');
    assert.equal(pods.length, 4);
    const zoneOf = (node: string) =>
      ['sa-0', 'ba-0'].includes(node) ? 'a' : ['sb-0', 'bb-0'].includes(node) ? 'b' : '?';
    const zones = pods.map((p) => zoneOf(p.spec.nodeName ?? '')).sort();
    assert.deepEqual(zones, ['a', 'a', 'b', 'b'], `nodes: ${pods.map((p) => p.spec.nodeName)}`);
  });

  it('a foreground delete removes the ReplicaSet and pods before the Deployment', async () => {
    await deployment('fg', 3, {});
    await ok(['rollout', 'status', 'deployment/fg', '--timeout=60s']);
    await ok(['delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false']);

    interface Sample {
      deployment: boolean;
      finalizers: string[];
      rs: number;
      pods: number;
    }
    const samples: Sample[] = [];
    await eventually(
      'the Deployment, its ReplicaSet and pods to be gone',
      async () => {
        // Read the Deployment first: anything seen after it was gone must be gone too.
        const d = await cluster.kubectl(['get', 'deployment', 'fg', '-o', 'json']);
        if (d.code !== 0 && !/NotFound|not found/.test(d.stderr)) throw new Error(d.stderr);
        const dep = d.code === 0 ? JSON.parse(d.stdout) : undefined;
        const rs = (await json(['get', 'rs', '-l', 'app=fg'])).items.length;
        const pods = (await json(['get', 'pods', '-l', 'app=fg'])).items.length;
        const s = { deployment: !!dep, finalizers: dep?.metadata.finalizers ?? [], rs, pods };
        samples.push(s);
        return (!s.deployment && s.rs === 0 && s.pods === 0) || false;
      },
      60_000,
    );
    const trace = samples.map((s) => JSON.stringify(s)).join('\n');
    assert.ok(
      samples.some((s) => s.deployment && s.finalizers.includes('foregroundDeletion') && s.rs + s.pods > 0),
      `the Deployment was seen with the foregroundDeletion finalizer while dependents existed:\n${trace}`,
    );
    for (const s of samples) {
      if (s.deployment)
        assert.ok(s.finalizers.includes('foregroundDeletion'), `finalizer missing:\n${trace}`);
      else assert.equal(s.rs + s.pods, 0, `dependents outlived the Deployment:\n${trace}`);
    }
  });
});
