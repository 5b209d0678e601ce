/**
 * The create shortcut ({@link createdFieldsV1}, taken by updateManagedFields) against the general path
 * (updateManagedFieldsGeneral, which compares `{}` with the new object): the objects they leave,
 * managedFields included, must be the same to the byte, for real objects of several kinds, for
 * seeded random mutations of them, and for seeded random objects under a schema with every list and
 * map type and zero values of every shape.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../object.ts';
import type { Json, JsonObject } from '../patch/json.ts';
import { createdFieldsV1, fieldTrie } from './created.ts';
import {
  resetFieldsFor,
  type UpdateOptions,
  updateManagedFields,
  updateManagedFieldsGeneral,
} from './fieldmanager.ts';
import {
  builtinSchema,
  crdSchema,
  deducedSchema,
  type ListType,
  type MapType,
  openApiSchema,
  type SsaSchema,
} from './schema.ts';

// ---------------------------------------------------------------------------------------------
// Fixtures: real objects of several kinds, as stored.

const pod = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-0',
    namespace: 'default',
    uid: 'u-1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: 'web', tier: 'frontend' },
    annotations: { note: 'x<y>&z' },
    finalizers: ['example.com/a', 'example.com/b'],
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-1', controller: true },
    ],
  },
  spec: {
    volumes: [
      { name: 'data', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'a', path: 'a' }], defaultMode: 420 } },
      {
        name: 'kube-api-access-x',
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            {
              downwardAPI: {
                items: [
                  { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                ],
              },
            },
          ],
        },
      },
    ],
    initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
    containers: [
      {
        name: 'app',
        image: 'nginx:1',
        args: ['a', 'b'],
        ports: [
          { containerPort: 80, name: 'http' },
          { containerPort: 53, protocol: 'UDP' },
          { containerPort: 53, protocol: 'TCP' },
        ],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
          { name: 'C', value: '' },
        ],
        envFrom: [{ configMapRef: { name: 'cfg' } }],
        resources: { limits: { cpu: '1' }, requests: { cpu: '100m', memory: '128Mi' } },
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'cfg', mountPath: '/cfg', readOnly: true },
        ],
        livenessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 10 },
        securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      },
      { name: 'sidecar', image: 'busybox' },
    ],
    imagePullSecrets: [{ name: 'regcred' }],
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
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
        },
      },
    },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: 'web' } },
      },
    ],
    nodeSelector: { disk: 'ssd' },
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    securityContext: {},
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
  },
  status: { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'True' }] },
});

const deployment = (): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', generation: 1, labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { a: 'b' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'busybox',
            command: ['httpd', '-f'],
            ports: [{ containerPort: 8080 }],
            env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          },
        ],
        restartPolicy: 'Always',
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    revisionHistoryLimit: 10,
  },
  status: {
    replicas: 3,
    conditions: [{ type: 'Available', status: 'True' }],
  },
});

const service = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', annotations: { a: '1' } },
  spec: {
    type: 'ClusterIP',
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
    ],
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    ipFamilies: ['IPv4'],
    sessionAffinity: 'None',
  },
  status: { loadBalancer: {} },
});

const configMap = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', namespace: 'default', labels: { a: 'b' } },
  // Byte order: 'Ａ' (U+FF21) sorts before '𝔘' (U+1D518), though not in UTF-16 code units.
  data: { 'a.conf': 'x=1', 'b.conf': '', ä: 'unicode', 𝔘: 'astral', Ａ: 'fullwidth', z: 'z' },
  binaryData: { bin: 'AAE=' },
});

const widgetSchema = crdSchema({
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name', 'proto'],
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, proto: { type: 'string', default: 'TCP' } },
          },
        },
        hosts: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        tags: { type: 'array', items: { type: 'string' } },
        sel: { type: 'object', 'x-kubernetes-map-type': 'atomic' },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
});

const widget = (): JsonObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'default', labels: { a: 'b' } },
  spec: {
    ports: [{ name: 'http' }, { name: 'http', proto: 'UDP' }, { name: 'grpc', port: 9 }],
    hosts: ['b', 'a', 'c'],
    tags: ['x', 'x'],
    sel: { a: { b: 1 } },
    extra: { anything: [1, { two: 2 }], more: {} },
  },
  status: { ready: true },
});

/** An object of a kind nobody declared: everything deduced (objects granular, lists atomic). */
const unknownKind = (): JsonObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Gadget',
  metadata: { name: 'g', uid: 'x', resourceVersion: '1', labels: { a: 'b' } },
  spec: { a: { b: [1, 2], c: {} }, d: [], e: null },
  status: { f: 1 },
  𝔘: 'astral',
  Ａ: 'fullwidth',
});

interface Kind {
  readonly name: string;
  readonly make: () => JsonObject;
  readonly schema: SsaSchema;
  readonly apiVersion: string;
}

const kinds: readonly Kind[] = [
  { name: 'Pod', make: pod, schema: builtinSchema('v1', 'Pod')!, apiVersion: 'v1' },
  {
    name: 'Deployment',
    make: deployment,
    schema: builtinSchema('apps/v1', 'Deployment')!,
    apiVersion: 'apps/v1',
  },
  { name: 'Service', make: service, schema: builtinSchema('v1', 'Service')!, apiVersion: 'v1' },
  { name: 'ConfigMap', make: configMap, schema: builtinSchema('v1', 'ConfigMap')!, apiVersion: 'v1' },
  { name: 'Widget (CRD)', make: widget, schema: widgetSchema, apiVersion: 'example.com/v1' },
  {
    name: 'Widget (CRD without a schema)',
    make: widget,
    schema: crdSchema(undefined),
    apiVersion: 'example.com/v1',
  },
  { name: 'Gadget (deduced)', make: unknownKind, schema: deducedSchema, apiVersion: 'example.com/v1' },
];

/** The option sets a create is run with: each endpoint's reset fields, odd managers and times. */
function optionSets(k: Kind): UpdateOptions[] {
  const base: UpdateOptions = {
    manager: 'kubectl-create',
    operation: 'Update',
    apiVersion: k.apiVersion,
    schema: k.schema,
    now: '2026-01-01T00:00:00Z',
  };
  return [
    base,
    { ...base, resetFields: resetFieldsFor({ hasStatusSubresource: true }) },
    {
      ...base,
      subresource: 'status',
      resetFields: resetFieldsFor({ subresource: 'status', hasStatusSubresource: true }),
    },
    { ...base, manager: '', now: '', resetFields: [['metadata', 'labels'], ['spec', 'template'], []] },
    { ...base, apiVersion: '', resetFields: [['spec', 'containers'], ['data']] },
  ];
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness.

/** mulberry32: a small seeded PRNG, [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

const NAMES = [
  'a',
  'b',
  'name',
  'key',
  'k',
  'p',
  'zobj',
  'zlist',
  'zscalar',
  'set',
  'map',
  'atom',
  'atomz',
  'amap',
];

/** A random JSON value (with `undefined` possible as an object's value), at most `depth` deep. */
function randomValue(r: Rand, depth: number): Json | undefined {
  const x = r();
  if (depth <= 0 || x < 0.35) {
    return pick(r, [null, 0, 1, -0, 1.5, '', 'x', 'y', '<&>', true, false, undefined, {}, []] as const);
  }
  if (x < 0.65) {
    const o: JsonObject = {};
    const n = Math.floor(r() * 4);
    for (let i = 0; i < n; i++) o[pick(r, NAMES)] = randomValue(r, depth - 1) as Json;
    return o;
  }
  const n = Math.floor(r() * 4);
  const list: Json[] = [];
  for (let i = 0; i < n; i++) {
    const y = r();
    if (y < 0.5) {
      // A list-map item: keys often missing, often repeated.
      const item: JsonObject = {};
      if (r() < 0.8) item.name = pick(r, ['a', 'b', 'c']);
      if (r() < 0.5) item.k = pick(r, ['a', 'b', 1, 2]);
      if (r() < 0.3) item.p = pick(r, ['TCP', 'UDP']);
      if (r() < 0.5) item[pick(r, NAMES)] = randomValue(r, depth - 1) as Json;
      list.push(item);
    } else if (y < 0.6 && list.length > 0) {
      list.push(structuredClone(list[Math.floor(r() * list.length)] as Json));
    } else {
      list.push(randomValue(r, depth - 1) ?? null);
    }
  }
  return list;
}

/** Where a value sits: its parent and key, for mutating it. */
type Slot = { parent: JsonObject | Json[]; key: string | number };

function slots(v: Json | undefined, out: Slot[] = []): Slot[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i });
      slots(x, out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: k });
      slots(v[k], out);
    }
  }
  return out;
}

/** Changes `obj` at a few random places: new values, deletions, duplicated or re-keyed list items. */
function mutate(r: Rand, obj: JsonObject): void {
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const all = slots(obj);
    if (all.length === 0) return;
    const { parent, key } = pick(r, all);
    const x = r();
    if (Array.isArray(parent)) {
      const idx = key as number;
      if (x < 0.3) parent.push(structuredClone(parent[idx] as Json));
      else if (x < 0.45) parent.splice(idx, 1);
      else parent[idx] = (randomValue(r, 2) ?? null) as Json;
    } else {
      const k = key as string;
      if (x < 0.25) delete parent[k];
      else if (x < 0.35) parent[k] = undefined as unknown as Json;
      else if (x < 0.5)
        parent[pick(r, ['name', 'protocol', 'containerPort', 'port', 'key'])] = pick(r, [
          'a',
          80,
          'TCP',
          null,
        ]);
      else parent[k] = randomValue(r, 3) as Json;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A schema with every kind of list and map, and zero values of every shape, chosen by field name.

class TestSchema implements SsaSchema {
  readonly #name: string;
  readonly #zero: Readonly<Record<string, Json>>;
  constructor(name: string, zero: Readonly<Record<string, Json>>) {
    this.#name = name;
    this.#zero = zero;
  }
  listType(): ListType {
    if (this.#name.startsWith('set')) return 'set';
    if (this.#name.startsWith('map') || this.#name === 'zlist' || this.#name === '') return 'map';
    return 'atomic';
  }
  listMapKeys(): readonly string[] {
    return this.#name === '' ? ['name'] : ['name', 'k', 'p'];
  }
  listMapKeyDefault(key: string): Json | undefined {
    return key === 'p' ? 'TCP' : undefined;
  }
  mapType(): MapType {
    return this.#name.startsWith('amap') ? 'atomic' : 'granular';
  }
  isField(key: string): boolean {
    return key.length > 1;
  }
  field(key: string): SsaSchema {
    return new TestSchema(key, this.#zero);
  }
  item(): SsaSchema {
    return new TestSchema(`${this.#name}[]`, this.#zero);
  }
  zeroFields(): Readonly<Record<string, Json>> {
    return this.#zero;
  }
}

/** Zero values the shortcut handles: empty containers, scalars, null, an atomic map's `{}`. */
const HANDLED_ZERO: Readonly<Record<string, Json>> = {
  zobj: {},
  zlist: [],
  zscalar: 0,
  amap: {},
  atomz: [],
  set: [],
  b: null,
};

// ---------------------------------------------------------------------------------------------

/** Runs both paths on copies of `obj` (copies keep `undefined` values); returns their JSON. */
function both(obj: JsonObject, opts: UpdateOptions): { fast: string; general: string } {
  const a = structuredClone(obj) as unknown as KubeObject;
  const b = structuredClone(obj) as unknown as KubeObject;
  updateManagedFields(null, a, opts);
  updateManagedFieldsGeneral(null, b, opts);
  return { fast: JSON.stringify(a), general: JSON.stringify(b) };
}

function assertSame(obj: JsonObject, opts: UpdateOptions, what: string): void {
  const { fast, general } = both(obj, opts);
  assert.equal(fast, general, `${what}\nobject: ${JSON.stringify(obj)}`);
}

const STRIP = fieldTrie([['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name']]);

describe('create shortcut = general path', () => {
  for (const k of kinds) {
    it(`${k.name}: the object as created`, () => {
      const obj = k.make();
      // The shortcut does apply to every real schema (it does not decline).
      assert.notEqual(createdFieldsV1(obj, k.schema, undefined, STRIP), undefined);
      for (const [i, opts] of optionSets(k).entries()) assertSame(obj, opts, `${k.name}, options ${i}`);
    });

    it(`${k.name}: 300 seeded random mutations`, () => {
      const r = prng(0x5eed + k.name.length);
      const sets = optionSets(k);
      for (let i = 0; i < 300; i++) {
        const obj = k.make();
        mutate(r, obj);
        assertSame(obj, pick(r, sets), `${k.name}, mutation ${i}`);
      }
    });
  }

  it('empty and near-empty objects', () => {
    const s = builtinSchema('v1', 'Pod')!;
    const base: UpdateOptions = { manager: 'm', operation: 'Update', apiVersion: 'v1', schema: s, now: 'T' };
    const objects: JsonObject[] = [
      {},
      { metadata: {} },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
      { metadata: { name: 'p', labels: {} } },
      { spec: {}, status: {} },
      { spec: { containers: [] } },
      { spec: { containers: [{}] } },
      { spec: { containers: [{ name: 'a' }, { name: 'a' }] } },
      { spec: { containers: ['x'] } },
      { spec: { containers: {} } },
      { spec: 'x' },
      { spec: [] },
      { spec: null },
      { spec: undefined as unknown as Json },
      { spec: { containers: undefined as unknown as Json } },
      { status: { phase: 'Pending' } },
      { metadata: { uid: 'u', managedFields: [] } },
    ];
    for (const obj of objects) {
      for (const resetFields of [undefined, resetFieldsFor({ hasStatusSubresource: true })]) {
        assertSame(obj, { ...base, ...(resetFields ? { resetFields } : {}) }, 'near-empty');
      }
    }
  });

  it('creates that send managed fields (the general path, both ways)', () => {
    const k = kinds[3] as Kind;
    const sent = [
      [],
      [{}],
      'garbage',
      [
        {
          manager: 'x',
          operation: 'Update',
          apiVersion: 'v1',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { 'f:z': {} } },
        },
      ],
    ];
    for (const mf of sent) {
      const obj = k.make();
      (obj.metadata as JsonObject).managedFields = mf as Json;
      assertSame(obj, optionSets(k)[0] as UpdateOptions, `sent ${JSON.stringify(mf)}`);
    }
  });

  it('500 seeded random objects under every list and map type, with zero values', () => {
    const r = prng(42);
    const s = new TestSchema('root', HANDLED_ZERO);
    const opts: UpdateOptions = {
      manager: 'm',
      operation: 'Update',
      apiVersion: 'v1',
      schema: s,
      now: 'T',
      resetFields: [['zobj', 'a'], ['b']],
    };
    let taken = 0;
    for (let i = 0; i < 500; i++) {
      const obj = (randomValue(r, 5) ?? {}) as JsonObject;
      const root: JsonObject =
        obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? obj : { a: obj };
      for (const k of ['zobj', 'zlist', 'set', 'map', 'atom', 'atomz', 'amap']) {
        if (r() < 0.4) root[k] = randomValue(r, 4) as Json;
      }
      if (createdFieldsV1(root, s, undefined, STRIP) !== undefined) taken++;
      assertSame(root, opts, `random object ${i}`);
    }
    assert.equal(taken, 500);
  });

  it('declines zero values it does not handle, and the result stays the same', () => {
    const s = new TestSchema('root', { zobj: { a: 1 } });
    const opts: UpdateOptions = { manager: 'm', operation: 'Update', apiVersion: 'v1', schema: s, now: 'T' };
    assert.equal(createdFieldsV1({ zobj: { b: 2 } }, s, undefined, STRIP), undefined);
    assertSame({ zobj: { b: 2 } }, opts, 'declined');
    assertSame({ x: { zobj: { b: 2 } } }, opts, 'zero value below an added field');
  });

  it('the OpenAPI schema of a built-in kind', () => {
    const s = openApiSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            items: {
              type: 'array',
              'x-kubernetes-patch-strategy': 'merge',
              'x-kubernetes-patch-merge-key': 'name',
              items: { type: 'object' },
            },
            tags: { type: 'array', 'x-kubernetes-patch-strategy': 'merge', items: { type: 'string' } },
          },
        },
      },
    });
    const r = prng(7);
    const opts: UpdateOptions = { manager: 'm', operation: 'Update', apiVersion: 'v1', schema: s, now: 'T' };
    for (let i = 0; i < 200; i++) {
      const obj: JsonObject = { spec: { items: randomValue(r, 3) as Json, tags: randomValue(r, 2) as Json } };
      assertSame(obj, opts, `openapi ${i}`);
    }
  });
});
