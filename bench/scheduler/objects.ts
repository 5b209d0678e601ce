/**
 * The nodes and pods of the scheduler benchmarks (run.ts through the API server, framework.ts
 * in-process), as kube-scheduler's scheduler_perf makes them (its templates node-default.yaml and
 * pod-default.yaml): 4 CPU / 32Gi / 110-pod nodes, spread here over `zones` zones and half labelled
 * `bench.skiff.io/half=yes`; pods of one `pause` container with port 80 and 100m / 500Mi as requests
 * and limits, of one of four kinds.
 */
import type { Node, Pod } from '../../src/scheduler/types.ts';
import { buildNode } from '../../src/sim/objects.ts';

export type PodKind = 'basic' | 'affinity' | 'anti' | 'spread';

/** Node `node-i`, as `skiff sim` registers one. */
export function benchNode(i: number, zones: number, nowMs: number): Node {
  return buildNode(
    `node-${i}`,
    `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    {
      cpu: '4',
      memory: '32Gi',
      pods: 110,
      ephemeralStorage: '1Ti',
      arch: 'amd64',
      labels: {
        'topology.kubernetes.io/zone': `zone-${i % zones}`,
        ...(i % 2 === 0 ? { 'bench.skiff.io/half': 'yes' } : {}),
      },
      taints: [],
    },
    nowMs,
  ) as unknown as Node;
}

/**
 * A pod's labels and spec for `kind`: basic (requests only), affinity (required node affinity to
 * the labelled half), anti (required anti-affinity to its own kind per hostname), spread (zone
 * topology spread, maxSkew 1, DoNotSchedule).
 */
export function benchPodSpec(kind: PodKind): {
  labels: Record<string, string>;
  spec: NonNullable<Pod['spec']>;
} {
  const labels: Record<string, string> = { app: `bench-${kind}` };
  const spec: NonNullable<Pod['spec']> = {
    containers: [
      {
        name: 'pause',
        image: 'registry.k8s.io/pause:3.10',
        ports: [{ containerPort: 80 }],
        resources: {
          limits: { cpu: '100m', memory: '500Mi' },
          requests: { cpu: '100m', memory: '500Mi' },
        },
      },
    ],
  };
  const selector = { matchLabels: labels };
  if (kind === 'affinity') {
    spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'bench.skiff.io/half', operator: 'In', values: ['yes'] }] },
          ],
        },
      },
    };
  } else if (kind === 'anti') {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: selector, topologyKey: 'kubernetes.io/hostname' },
        ],
      },
    };
  } else if (kind === 'spread') {
    spec.topologySpreadConstraints = [
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: selector,
      },
    ];
  }
  return { labels, spec };
}
