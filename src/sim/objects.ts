/**
 * The objects a simulated kubelet writes: its Node (capacity, labels, addresses, nodeInfo,
 * conditions), its Lease in kube-node-lease, and the status of its pods (Running with every
 * condition and container status a kubelet reports; Succeeded for run-to-completion pods).
 */
import { createHash } from 'node:crypto';
import { parseQuantity, type Quantity } from '../api/quantity.ts';
import type { Container, Lease, SimNodeObject, SimPod, Taint } from './types.ts';

export const KUBELET_VERSION = 'v1.35.0-skiff-sim';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Seconds-precision RFC 3339 (metav1.Time). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Microsecond RFC 3339 (metav1.MicroTime, as Lease renewTime). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface NodeTemplate {
  cpu: string;
  memory: string;
  pods: number;
  ephemeralStorage: string;
  arch: string;
  labels: Record<string, string>;
  taints: Taint[];
}

/** The node's kubelet conditions, all healthy, heartbeat `now`, last transition `since`. */
export function nodeConditions(now: number, since: number) {
  const hb = rfc3339(now);
  const tr = rfc3339(since);
  const c = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: hb,
    lastTransitionTime: tr,
    reason,
    message,
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

function hex(s: string, len = 64): string {
  return createHash('sha256').update(s).digest('hex').slice(0, len);
}

/** The Node a simulated kubelet registers. */
export function buildNode(name: string, address: string, t: NodeTemplate, now: number): SimNodeObject {
  const capacity = {
    cpu: t.cpu,
    memory: t.memory,
    pods: String(t.pods),
    'ephemeral-storage': t.ephemeralStorage,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': t.arch,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': t.arch,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'skiff-sim',
        type: 'kwok',
        ...t.labels,
      },
      annotations: {
        'kwok.x-k8s.io/node': 'fake',
        'node.alpha.kubernetes.io/ttl': '0',
        'skiff.io/simulated': 'true',
      },
    },
    spec: t.taints.length > 0 ? { taints: t.taints.map((x) => ({ ...x })) } : {},
    status: {
      capacity,
      allocatable: { ...capacity },
      addresses: [
        { type: 'InternalIP', address },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: hex(`machine/${name}`, 32),
        systemUUID: uuid(hex(`system/${name}`, 32)),
        bootID: uuid(hex(`boot/${name}/${now}`, 32)),
        kernelVersion: '6.8.0-skiff-sim',
        osImage: 'skiff simulated node',
        containerRuntimeVersion: 'sim://1.0.0',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: t.arch,
      },
      conditions: nodeConditions(now, now),
      images: [],
    },
  };
}

function uuid(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The node's heartbeat Lease, owned by the Node (so it goes when the node does). */
export function buildLease(
  name: string,
  nodeUid: string | undefined,
  durationSeconds: number,
  now: number,
): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

/** Whether the pod runs to completion: a Job's pod, or restartPolicy Never/OnFailure. */
export function runsToCompletion(pod: SimPod): boolean {
  if (pod.metadata.ownerReferences?.some((o) => o.kind === 'Job')) return true;
  const policy = pod.spec?.restartPolicy;
  return policy === 'Never' || policy === 'OnFailure';
}

/** qos.GetPodQOS (container cpu/memory requests and limits; pod-level resources when set). */
export function qosClass(pod: SimPod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = pod.spec ?? {};
  const relevant = (r: Record<string, string | number> | undefined): [string, Quantity][] => {
    const out: [string, Quantity][] = [];
    for (const [k, v] of Object.entries(r ?? {})) {
      if (k !== 'cpu' && k !== 'memory') continue;
      const q = quantity(v);
      if (q && q.sign() > 0) out.push([k, q]);
    }
    return out;
  };
  const podLevel = spec.resources;
  const sources =
    podLevel && (relevant(podLevel.requests).length > 0 || relevant(podLevel.limits).length > 0)
      ? [podLevel]
      : [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c) => c.resources ?? {});
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  const add = (m: Map<string, Quantity>, k: string, q: Quantity) => {
    const prev = m.get(k);
    m.set(k, prev ? prev.add(q) : q);
  };
  let guaranteed = true;
  for (const r of sources) {
    for (const [k, q] of relevant(r.requests)) add(requests, k, q);
    const l = relevant(r.limits);
    for (const [k, q] of l) add(limits, k, q);
    if (!l.some(([k]) => k === 'cpu') || !l.some(([k]) => k === 'memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [k, q] of requests) if (limits.get(k)?.cmp(q) !== 0) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

function quantity(v: string | number): Quantity | undefined {
  try {
    return parseQuantity(v);
  } catch {
    return undefined;
  }
}

/** The image as the runtime reports it: docker.io/library/nginx:latest for nginx. */
export function normalizeImage(image: string): string {
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0 || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    name = `docker.io/${slash < 0 ? 'library/' : ''}${name}`;
  }
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

function imageID(image: string): string {
  const repo = image.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  return `${repo}@sha256:${hex(`image/${image}`)}`;
}

function containerID(podUid: string, name: string): string {
  return `sim://${hex(`container/${podUid}/${name}`)}`;
}

export interface RunningInfo {
  podIPs: string[];
  hostIP: string;
  now: number;
}

function condition(type: string, status: string, at: string, reason?: string) {
  return { type, status, lastProbeTime: null, lastTransitionTime: at, ...(reason ? { reason } : {}) };
}

function scheduledCondition(pod: SimPod, at: string) {
  const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  return existing ?? condition('PodScheduled', 'True', at);
}

/** The status a kubelet reports once every container of the pod has started. */
export function runningStatus(pod: SimPod, info: RunningInfo): NonNullable<SimPod['status']> {
  const at = rfc3339(info.now);
  const uid = pod.metadata.uid ?? pod.metadata.name ?? '';
  const image = (c: Container) => normalizeImage(c.image ?? 'pause');
  const initStatuses = (pod.spec?.initContainers ?? []).map((c) => {
    const sidecar = c.restartPolicy === 'Always';
    return {
      name: c.name,
      image: image(c),
      imageID: imageID(image(c)),
      containerID: containerID(uid, c.name),
      ready: sidecar,
      started: sidecar,
      restartCount: 0,
      state: sidecar
        ? { running: { startedAt: at } }
        : {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: at,
              finishedAt: at,
              containerID: containerID(uid, c.name),
            },
          },
      lastState: {},
    };
  });
  const statuses = (pod.spec?.containers ?? []).map((c) => ({
    name: c.name,
    image: image(c),
    imageID: imageID(image(c)),
    containerID: containerID(uid, c.name),
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: at } },
    lastState: {},
  }));
  return {
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers', 'True', at),
      condition('Initialized', 'True', at),
      condition('Ready', 'True', at),
      condition('ContainersReady', 'True', at),
      scheduledCondition(pod, at),
    ],
    hostIP: info.hostIP,
    hostIPs: [{ ip: info.hostIP }],
    podIP: info.podIPs[0] ?? '',
    podIPs: info.podIPs.map((ip) => ({ ip })),
    startTime: pod.status?.startTime ?? at,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: pod.status?.qosClass ?? qosClass(pod),
  };
}

/** The status of a run-to-completion pod whose containers all exited 0. */
export function succeededStatus(pod: SimPod, now: number): NonNullable<SimPod['status']> {
  const at = rfc3339(now);
  const uid = pod.metadata.uid ?? pod.metadata.name ?? '';
  const running = pod.status ?? {};
  const startedAt = (name: string): string => {
    const list = (running.containerStatuses ?? []) as {
      name: string;
      state?: { running?: { startedAt?: string } };
    }[];
    return list.find((s) => s.name === name)?.state?.running?.startedAt ?? running.startTime ?? at;
  };
  const statuses = (pod.spec?.containers ?? []).map((c) => {
    const img = normalizeImage(c.image ?? 'pause');
    return {
      name: c.name,
      image: img,
      imageID: imageID(img),
      containerID: containerID(uid, c.name),
      ready: false,
      started: false,
      restartCount: 0,
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: startedAt(c.name),
          finishedAt: at,
          containerID: containerID(uid, c.name),
        },
      },
      lastState: {},
    };
  });
  return {
    ...running,
    phase: 'Succeeded',
    conditions: [
      condition('PodReadyToStartContainers', 'False', at),
      condition('Initialized', 'True', running.startTime ?? at, 'PodCompleted'),
      condition('Ready', 'False', at, 'PodCompleted'),
      condition('ContainersReady', 'False', at, 'PodCompleted'),
      scheduledCondition(pod, at),
    ],
    containerStatuses: statuses,
  };
}
