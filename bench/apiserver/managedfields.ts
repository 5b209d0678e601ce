/**
 * Microbenchmark of field tracking on ordinary writes (`updateManagedFields`, src/apiserver/ssa): the
 * create of the scheduler benchmark's pod as the registry stores it (after defaulting and service
 * account admission), and an update of a Deployment (a scale plus a label), each timed with the path
 * the API server takes and with the general path (`updateManagedFieldsGeneral`, no create shortcut)
 * in the same run, interleaved round by round. Prints median µs/op and the ratio, with the node
 * version and the load average.
 *
 *   flock /tmp/skiff-bench.lock node_modules/.bin/node bench/apiserver/managedfields.ts [--rounds 15] [--ops 2000]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/apiserver/object.ts';
import { updateManagedFieldsGeneral } from '../../src/apiserver/ssa/fieldmanager.ts';
import {
  builtinSchema,
  resetFieldsFor,
  type UpdateOptions,
  updateManagedFields,
} from '../../src/apiserver/ssa/index.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    ops: { type: 'string', default: '2000' },
  },
});
const rounds = Number(args.rounds);
const ops = Number(args.ops);

/** The bench pod (bench/scheduler/objects.ts, kind 'basic') as stored after defaulting. */
function benchPod(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'sched-bench',
      uid: `0b5e1c0e-0000-4000-8000-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'bench-basic' },
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access-abcde',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.10',
          resources: { requests: { cpu: '100m', memory: '128Mi' } },
          volumeMounts: [
            {
              name: 'kube-api-access-abcde',
              readOnly: true,
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
}

/** A Deployment as stored, with the managed fields of its create (by kubectl) and of its controller. */
function storedDeployment(): KubeObject {
  const d: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: '6f1d7b0a-0000-4000-8000-000000000001',
      resourceVersion: '100',
      generation: 1,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'skiff.local/busybox:stable',
              command: ['httpd', '-f', '-p', '8080'],
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              resources: { limits: { cpu: '500m' }, requests: { cpu: '100m', memory: '64Mi' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'IfNotPresent',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    },
  };
  const opts = deployOpts('kubectl-create', '2026-01-01T00:00:00Z');
  updateManagedFields(null, d, opts);
  const withStatus = structuredClone(d);
  updateManagedFields(d, withStatus, {
    ...opts,
    manager: 'kube-controller-manager',
    subresource: 'status',
    resetFields: resetFieldsFor({ subresource: 'status', hasStatusSubresource: true }),
  });
  return withStatus;
}

const podSchema = builtinSchema('v1', 'Pod')!;
const deploySchema = builtinSchema('apps/v1', 'Deployment')!;

function podOpts(): UpdateOptions {
  return {
    manager: 'bench',
    operation: 'Update',
    apiVersion: 'v1',
    schema: podSchema,
    now: '2026-01-01T00:00:01Z',
    resetFields: resetFieldsFor({ hasStatusSubresource: true }),
  };
}

function deployOpts(manager: string, now: string): UpdateOptions {
  return {
    manager,
    operation: 'Update',
    apiVersion: 'apps/v1',
    schema: deploySchema,
    now,
    resetFields: resetFieldsFor({ hasStatusSubresource: true }),
  };
}

type Fn = typeof updateManagedFields;

/** µs per op of `n` pod creates (fresh objects made outside the timed loop). */
function timeCreates(fn: Fn, n: number): number {
  const pods = Array.from({ length: n }, (_, i) => benchPod(i));
  const opts = podOpts();
  const t0 = process.hrtime.bigint();
  for (const p of pods) fn(null, p, opts);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/** µs per op of `n` Deployment updates by kubectl-edit (scale and a new label). */
function timeUpdates(fn: Fn, old: KubeObject, n: number): number {
  const news = Array.from({ length: n }, (_, i) => {
    const d = structuredClone(old);
    (d.spec as { replicas: number }).replicas = 4 + (i % 5);
    (d.metadata.labels as Record<string, string>).tier = 'frontend';
    return d;
  });
  const opts = deployOpts('kubectl-edit', '2026-01-01T00:05:00Z');
  const t0 = process.hrtime.bigint();
  for (const d of news) fn(old, d, opts);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

// Same output first: the measured paths must agree on these inputs.
{
  const a = benchPod(0);
  const b = benchPod(0);
  updateManagedFields(null, a, podOpts());
  updateManagedFieldsGeneral(null, b, podOpts());
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('pod create: the paths disagree');
}
const stored = storedDeployment();

const cases: { name: string; run: (fn: Fn) => number }[] = [
  { name: 'pod create (bench pod, defaulted)', run: (fn) => timeCreates(fn, ops) },
  { name: 'Deployment update (scale + label)', run: (fn) => timeUpdates(fn, stored, ops) },
];
const paths: { name: string; fn: Fn }[] = [
  { name: 'general', fn: updateManagedFieldsGeneral },
  { name: 'server', fn: updateManagedFields },
];

// Warm-up, then interleaved rounds.
for (const c of cases) for (const p of paths) c.run(p.fn);
const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    for (const p of paths) {
      const key = `${c.name}\u0000${p.name}`;
      const list = results.get(key) ?? [];
      list.push(c.run(p.fn));
      results.set(key, list);
    }
  }
}

const [l1, l5] = loadavg();
console.log(`# updateManagedFields microbenchmark`);
console.log(
  `node ${process.version}, ${rounds} rounds × ${ops} ops, load average ${l1?.toFixed(2)} / ${l5?.toFixed(2)} (1/5 min)`,
);
console.log('');
console.log('| case | general path µs/op | server path µs/op | ratio |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const g = median(results.get(`${c.name}\u0000general`) ?? []);
  const s = median(results.get(`${c.name}\u0000server`) ?? []);
  console.log(`| ${c.name} | ${g.toFixed(2)} | ${s.toFixed(2)} | ${(g / s).toFixed(2)}× |`);
}
