/**
 * Fakes for scheduler tests: an in-memory Informer, a FakeCluster whose RestClient applies writes
 * (binding, status patches, deletes, events) to an in-memory store and delivers the resulting
 * informer events asynchronously, like a watch would, and builders for pods and nodes.
 */
import { ApiError } from '../api/errors.ts';
import type {
  DeleteOptions,
  EventHandler,
  IndexFunc,
  Informer,
  KubeObject,
  Lister,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceRef,
  RestClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../client/types.ts';
import { FakeClock } from '../util/clock.ts';
import { silentLogger } from '../util/log.ts';
import { CycleState } from './framework/cycle_state.ts';
import { Framework, type PluginSpec } from './framework/runtime.ts';
import { Snapshot } from './framework/snapshot.ts';
import { type Code, codeOf } from './framework/status.ts';
import { Nominator } from './nominator.ts';
import { IN_TREE_REGISTRY } from './plugins/registry.ts';
import type {
  Container,
  Namespace,
  Node,
  Pod,
  PodCondition,
  PodDisruptionBudget,
  Taint,
  Toleration,
} from './types.ts';

function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : (obj.metadata.name ?? '');
}

/** An Informer over a map, driven by add/update/delete calls. Handlers run synchronously. */
export class FakeInformer<T extends KubeObject> implements Informer<T> {
  readonly #store = new Map<string, T>();
  readonly #handlers: EventHandler<T>[] = [];
  readonly #indexers = new Map<string, IndexFunc<T>>();
  #synced = true;

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    for (const obj of this.#store.values()) handler.onAdd?.(obj);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [k, f] of Object.entries(indexers)) this.#indexers.set(k, f);
  }

  lister(): Lister<T> {
    return {
      get: (key) => this.#store.get(key),
      list: () => [...this.#store.values()],
      byIndex: (index, value) => {
        const f = this.#indexers.get(index);
        return f ? [...this.#store.values()].filter((o) => f(o).includes(value)) : [];
      },
    };
  }

  run(_signal: AbortSignal): void {
    this.#synced = true;
  }

  synced(): Promise<void> {
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  add(obj: T): void {
    const old = this.#store.get(keyOf(obj));
    if (old) {
      this.update(obj);
      return;
    }
    this.#store.set(keyOf(obj), obj);
    for (const h of this.#handlers) h.onAdd?.(obj);
  }

  update(obj: T): void {
    const old = this.#store.get(keyOf(obj));
    if (!old) {
      this.add(obj);
      return;
    }
    this.#store.set(keyOf(obj), obj);
    for (const h of this.#handlers) h.onUpdate?.(old, obj);
  }

  delete(obj: T): void {
    const old = this.#store.get(keyOf(obj));
    if (!old) return;
    this.#store.delete(keyOf(obj));
    for (const h of this.#handlers) h.onDelete?.(old);
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }
}

/** A recorded write. */
export interface Call {
  verb: 'create' | 'update' | 'patch' | 'delete' | 'binding';
  resource: string;
  namespace: string;
  name: string;
  body?: unknown;
  patchType?: PatchType;
  subresource?: string;
}

/**
 * An in-memory cluster: informers for the scheduler's resources and a RestClient whose writes land
 * in them. Informer events are delivered in order on later macrotasks (`watchDelayMs`, default 0).
 */
export class FakeCluster {
  readonly pods = new FakeInformer<Pod>();
  readonly nodes = new FakeInformer<Node>();
  readonly namespaces = new FakeInformer<KubeObject>();
  readonly pdbs = new FakeInformer<KubeObject>();
  readonly priorityClasses = new FakeInformer<KubeObject & { value: number }>();
  readonly events: KubeObject[] = [];
  readonly calls: Call[] = [];
  watchDelayMs = 0;
  /** Makes the next bindings fail with this error (consumed one per binding). */
  failBindings: Error[] = [];
  #uid = 0;
  #rv = 0;
  #pending: (() => void)[] = [];
  #scheduled = false;

  informer(resource: string): FakeInformer<KubeObject> | undefined {
    const m: Record<string, FakeInformer<KubeObject>> = {
      pods: this.pods as unknown as FakeInformer<KubeObject>,
      nodes: this.nodes as unknown as FakeInformer<KubeObject>,
      namespaces: this.namespaces,
      poddisruptionbudgets: this.pdbs,
      priorityclasses: this.priorityClasses as unknown as FakeInformer<KubeObject>,
    };
    return m[resource];
  }

  /** Stamps uid/resourceVersion/creationTimestamp like the apiserver would. */
  stamp<T extends KubeObject>(obj: T): T {
    const o = structuredClone(obj);
    o.metadata.uid ??= `uid-${++this.#uid}`;
    o.metadata.resourceVersion = String(++this.#rv);
    o.metadata.creationTimestamp ??= new Date(Date.UTC(2026, 0, 1)).toISOString();
    return o;
  }

  /** Adds an object straight into its informer (synchronously), as if it already existed. */
  seed<T extends KubeObject>(resource: string, obj: T): T {
    const o = this.stamp(obj);
    this.informer(resource)?.add(o);
    return o;
  }

  #deliver(fn: () => void): void {
    this.#pending.push(fn);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      const batch = this.#pending.splice(0);
      for (const f of batch) f();
    }, this.watchDelayMs);
  }

  /** Resolves once every queued informer event has been delivered. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#scheduled)
      await new Promise((r) => setTimeout(r, this.watchDelayMs));
  }

  #current(resource: string, ns: string, name: string): KubeObject {
    const obj = this.informer(resource)?.get(ns ? `${ns}/${name}` : name);
    if (!obj) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    return obj;
  }

  readonly client: RestClient = {
    get: async <T extends KubeObject>(ref: ResourceRef, ns: string, name: string) =>
      structuredClone(this.#current(ref.resource, ns, name)) as T,
    list: async <T extends KubeObject>(ref: ResourceRef, ns: string, _opts?: ListOptions) => {
      const items = (this.informer(ref.resource)?.lister().list() ?? []).filter(
        (o) => !ns || o.metadata.namespace === ns,
      );
      return {
        items: structuredClone(items) as T[],
        resourceVersion: String(this.#rv),
      } satisfies ListResult<T>;
    },
    watch: <T extends KubeObject>(_ref: ResourceRef, _ns: string, _opts?: WatchOptions) =>
      ({
        async *[Symbol.asyncIterator]() {},
      }) as AsyncIterable<WatchEvent<T>>,
    create: async <T extends KubeObject>(ref: ResourceRef, ns: string, obj: T, _opts?: WriteOptions) => {
      this.calls.push({
        verb: 'create',
        resource: ref.resource,
        namespace: ns,
        name: obj.metadata.name ?? '',
        body: obj,
      });
      const o = this.stamp(obj);
      if (ref.resource === 'events') {
        this.events.push(o);
        return o;
      }
      this.#deliver(() => this.informer(ref.resource)?.add(o));
      return o;
    },
    update: async <T extends KubeObject>(ref: ResourceRef, ns: string, obj: T, _opts?: WriteOptions) => {
      this.calls.push({
        verb: 'update',
        resource: ref.resource,
        namespace: ns,
        name: obj.metadata.name ?? '',
        body: obj,
      });
      const o = this.stamp(obj);
      this.#deliver(() => this.informer(ref.resource)?.update(o));
      return o;
    },
    patch: async <T extends KubeObject>(
      ref: ResourceRef,
      ns: string,
      name: string,
      type: PatchType,
      body: unknown,
      opts?: PatchOptions,
    ) => {
      this.calls.push({
        verb: 'patch',
        resource: ref.resource,
        namespace: ns,
        name,
        body,
        patchType: type,
        subresource: opts?.subresource,
      });
      const cur = structuredClone(this.#current(ref.resource, ns, name)) as Pod;
      const status = (body as { status?: Record<string, unknown> }).status ?? {};
      const next: Record<string, unknown> = { ...(cur.status ?? {}) };
      for (const [k, v] of Object.entries(status)) {
        if (k === 'conditions') {
          const conds = [...((next.conditions as PodCondition[]) ?? [])];
          for (const c of v as PodCondition[]) {
            const i = conds.findIndex((x) => x.type === c.type);
            if (i >= 0) conds[i] = { ...conds[i]!, ...c };
            else conds.push(c);
          }
          next.conditions = conds;
        } else if (v === null) {
          delete next[k];
        } else {
          next[k] = v;
        }
      }
      cur.status = next;
      const o = this.stamp(cur);
      this.#deliver(() => this.informer(ref.resource)?.update(o));
      return o as unknown as T;
    },
    delete: async (ref: ResourceRef, ns: string, name: string, _opts?: DeleteOptions) => {
      this.calls.push({ verb: 'delete', resource: ref.resource, namespace: ns, name });
      const cur = this.#current(ref.resource, ns, name);
      this.#deliver(() => this.informer(ref.resource)?.delete(cur));
      return null;
    },
    createSubresource: async <T>(ref: ResourceRef, ns: string, name: string, sub: string, body: unknown) => {
      if (sub !== 'binding') throw new ApiError(404, 'NotFound', `subresource ${sub} not supported`);
      this.calls.push({ verb: 'binding', resource: ref.resource, namespace: ns, name, body });
      const injected = this.failBindings.shift();
      if (injected) throw injected;
      const cur = structuredClone(this.#current('pods', ns, name)) as Pod;
      if (cur.spec?.nodeName) {
        throw new ApiError(409, 'Conflict', `pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
      }
      const target = (body as { target: { name: string } }).target.name;
      cur.spec = { ...cur.spec, nodeName: target };
      const conds = (cur.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True' });
      cur.status = { ...cur.status, conditions: conds };
      const o = this.stamp(cur);
      this.#deliver(() => this.pods.update(o));
      return {} as T;
    },
  };

  /** Pods bound so far, by node name. */
  podsByNode(): Map<string, Pod[]> {
    const m = new Map<string, Pod[]>();
    for (const p of this.pods.lister().list()) {
      const n = p.spec?.nodeName;
      if (!n) continue;
      if (!m.has(n)) m.set(n, []);
      m.get(n)!.push(p);
    }
    return m;
  }
}

/** Polls `pred` (real time) until true or the timeout passes. */
export async function waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

// ---- builders ----

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string | number;
  ephemeralStorage?: string;
  extended?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
}

export function makeNode(name: string, o: NodeOpts = {}): Node {
  const allocatable: Record<string, string | number> = {
    cpu: o.cpu ?? '4',
    memory: o.memory ?? '8Gi',
    pods: o.pods ?? 110,
    ...(o.ephemeralStorage ? { 'ephemeral-storage': o.ephemeralStorage } : {}),
    ...o.extended,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable, capacity: allocatable, images: o.images },
  };
}

export interface PodOpts {
  namespace?: string;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  containers?: Container[];
  initContainers?: Container[];
  spec?: Pod['spec'];
  uid?: string;
  startTime?: string;
}

export function makePod(name: string, o: PodOpts = {}): Pod {
  const requests: Record<string, string> = { ...o.requests };
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const containers = o.containers ?? [
    { name: 'c', image: 'busybox', resources: Object.keys(requests).length ? { requests } : {} },
  ];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? `uid-${o.namespace ?? 'default'}-${name}`,
      labels: o.labels,
    },
    spec: {
      schedulerName: 'default-scheduler',
      containers,
      initContainers: o.initContainers,
      nodeName: o.nodeName,
      priority: o.priority,
      tolerations: o.tolerations,
      nodeSelector: o.nodeSelector,
      ...o.spec,
    },
    status: { phase: 'Pending', startTime: o.startTime },
  };
}

// ---- frameworks for plugin tests ----

export interface TestFrameworkOptions {
  plugins: PluginSpec[];
  nodes?: Node[];
  /** Pods placed on the node named in their spec.nodeName. */
  pods?: Pod[];
  namespaces?: Namespace[];
  pdbs?: PodDisruptionBudget[];
  cluster?: FakeCluster;
  random?: () => number;
}

/** A Framework with the given in-tree plugins over a snapshot of `nodes` and `pods`. */
export function testFramework(o: TestFrameworkOptions): {
  fw: Framework;
  snapshot: Snapshot;
  cluster: FakeCluster;
} {
  const cluster = o.cluster ?? new FakeCluster();
  for (const ns of o.namespaces ?? []) cluster.seed('namespaces', ns);
  for (const pdb of o.pdbs ?? []) cluster.seed('poddisruptionbudgets', pdb);
  for (const p of o.pods ?? [])
    if (!cluster.pods.get(`${p.metadata.namespace}/${p.metadata.name}`)) cluster.pods.add(p);
  const fw = new Framework({
    profile: { schedulerName: 'default-scheduler', plugins: o.plugins },
    registry: IN_TREE_REGISTRY,
    client: cluster.client,
    clock: new FakeClock(),
    logger: silentLogger,
    nominator: new Nominator(),
    podLister: cluster.pods.lister(),
    namespaceLister: cluster.namespaces.lister(),
    pdbLister: cluster.pdbs.lister() as Lister<PodDisruptionBudget>,
    random: o.random ?? (() => 0),
    recordEvent: (pod, type, reason, _action, message) => {
      cluster.events.push({
        metadata: { name: `${pod.metadata.name}.event`, namespace: pod.metadata.namespace },
        involvedObject: { name: pod.metadata.name },
        type,
        reason,
        message,
      });
    },
  });
  const snapshot = Snapshot.of(o.nodes ?? [], o.pods ?? []);
  fw.setSnapshot(snapshot);
  return { fw, snapshot, cluster };
}

/** PreFilter then Filter of the framework's plugins for `pod` on each node: code and message per node. */
export function filterAll(
  fw: Framework,
  snapshot: Snapshot,
  pod: Pod,
): Record<string, { code: Code; message: string }> {
  const state = new CycleState();
  const pre = fw.runPreFilterPlugins(state, pod, snapshot.list());
  const out: Record<string, { code: Code; message: string }> = {};
  for (const ni of snapshot.list()) {
    if (pre.status && !pre.status.isSuccess()) {
      out[ni.name] = { code: pre.status.code, message: pre.status.message() };
      continue;
    }
    if (pre.result && !pre.result.nodeNames.has(ni.name)) {
      out[ni.name] = { code: 3, message: 'not in PreFilterResult' };
      continue;
    }
    const s = fw.runFilterPluginsWithNominatedPods(state, pod, ni);
    out[ni.name] = { code: codeOf(s), message: s?.message() ?? '' };
  }
  return out;
}

/** PreScore, Score and NormalizeScore of the framework's plugins over every node: weighted totals by node. */
export function scoreAll(fw: Framework, snapshot: Snapshot, pod: Pod): Record<string, number> {
  const state = new CycleState();
  fw.runPreFilterPlugins(state, pod, snapshot.list());
  const nodes = snapshot.list();
  const pre = fw.runPreScorePlugins(state, pod, nodes);
  if (pre && !pre.isSuccess()) throw pre.asError();
  const r = fw.runScorePlugins(state, pod, nodes);
  if (!Array.isArray(r)) throw r.asError();
  return Object.fromEntries(r.map((s) => [s.nodeInfo.name, s.total]));
}

/** mulberry32: a small seeded PRNG with values in [0, 1), for reproducible tests and benchmarks. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
