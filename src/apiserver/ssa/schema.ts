/**
 * What server-side apply needs to know about a kind's shape: which lists are atomic, sets or maps
 * (keyed by which fields), which objects are atomic, which object keys are struct fields. In
 * Kubernetes this comes from the OpenAPI extensions `x-kubernetes-list-type`,
 * `x-kubernetes-list-map-keys` and `x-kubernetes-map-type` (with `patchStrategy`/`patchMergeKey` as
 * the fallback for built-in lists); here three implementations provide it:
 *
 * - {@link builtinSchema}: built-in kinds, from the strategic-merge-patch tree (`smp-schema.ts`) plus
 *   the places where Kubernetes' list-map keys or list/map types differ from the patch tags.
 * - {@link openApiSchema} / {@link crdSchema}: an OpenAPI v3 schema (a CRD's `openAPIV3Schema`, or a
 *   definition of the built-in OpenAPI document with `$ref`s resolved by the caller).
 * - {@link deducedSchema}: anything else: objects merge key by key, lists are atomic.
 */
import type { Json } from '../patch/json.ts';
import { isObject } from '../patch/json.ts';
import { type FieldMeta, fieldMeta, type SchemaNode, smpSchemaFor } from '../patch/smp-schema.ts';

export type ListType = 'atomic' | 'set' | 'map';
export type MapType = 'granular' | 'atomic';

/**
 * The schema of one value (the root of an object, or anything below it). The walk asks a node about
 * the value found at its place: `listType()` if it is a list, `mapType()`/`isField()` if it is an
 * object, and descends with `field(key)` (object entries) or `item()` (list elements).
 */
export interface SsaSchema {
  /** How a list at this place merges: replaced whole, a set of scalars, or a map keyed by {@link listMapKeys}. */
  listType(): ListType;
  /** The key fields of a `map` list (x-kubernetes-list-map-keys). */
  listMapKeys(): readonly string[];
  /** The default of a key field an item leaves out (e.g. a port's `protocol`, "TCP"), if any. */
  listMapKeyDefault(key: string): Json | undefined;
  /** How an object at this place merges: key by key, or replaced whole (x-kubernetes-map-type). */
  mapType(): MapType;
  /**
   * Whether `key` is a named (struct) field of an object here rather than a key of a map. A map key is
   * owned as a whole (`"f:key": {".": {}, ...}`); a struct field only through what it holds.
   */
  isField(key: string): boolean;
  /** The schema of an object entry. */
  field(key: string): SsaSchema;
  /** The schema of a list element. */
  item(): SsaSchema;
  /**
   * The fields an object here holds even when they are unset, because Kubernetes' Go types keep them
   * rather than omit them, with that value: `{}` for a struct that is not a pointer (`spec`, `status`,
   * `template`, a container's `resources`), `[]` for a list without `omitempty` (a pod's
   * `containers`). Kubernetes compares Go objects, where such a field is never "added" as a whole
   * when its parent exists; comparing JSON objects with these filled in agrees.
   */
  zeroFields(): Readonly<Record<string, Json>>;
}

// ---------------------------------------------------------------------------------------------
// Deduced: what structured-merge-diff uses for values without a schema.

class Deduced implements SsaSchema {
  listType(): ListType {
    return 'atomic';
  }
  listMapKeys(): readonly string[] {
    return [];
  }
  listMapKeyDefault(): Json | undefined {
    return undefined;
  }
  mapType(): MapType {
    return 'granular';
  }
  isField(): boolean {
    return false;
  }
  field(): SsaSchema {
    return this;
  }
  item(): SsaSchema {
    return this;
  }
  zeroFields(): Readonly<Record<string, Json>> {
    return NONE;
  }
}

const NONE: Readonly<Record<string, Json>> = Object.freeze({});

/** Objects merge key by key (every key a map key), lists are atomic: structured-merge-diff's deduced type. */
export const deducedSchema: SsaSchema = new Deduced();

// ---------------------------------------------------------------------------------------------
// Built-in kinds: the strategic-merge-patch tree plus an overlay of server-side-apply differences.

/** Where Kubernetes' OpenAPI says something the patch tags do not (or say differently). */
interface Overlay {
  readonly list?: ListType;
  readonly keys?: readonly string[];
  readonly keyDefaults?: Readonly<Record<string, Json>>;
  readonly map?: MapType;
  /** What the Go type holds when the field is unset and not omitted (`{}` or `[]`). */
  readonly zero?: Json;
  /** Overlays of the value's fields (an object's, or a list element's). */
  readonly fields?: Readonly<Record<string, Overlay>>;
}

/**
 * Struct fields that are atomic wherever they appear in built-in kinds (`x-kubernetes-map-type:
 * atomic` on their type): label selectors, node selectors, object references.
 */
const ATOMIC_OBJECT_FIELDS: ReadonlySet<string> = new Set([
  'selector',
  'labelSelector',
  'namespaceSelector',
  'objectSelector',
  'podSelector',
  'nodeSelector',
  'scopeSelector',
  'configMapKeyRef',
  'secretKeyRef',
  'fieldRef',
  'resourceFieldRef',
  'roleRef',
  'scaleTargetRef',
  'dataSource',
  'involvedObject',
  'regarding',
  'related',
  'targetRef',
]);

/** Lists whose elements are atomic objects (LocalObjectReference, OwnerReference, ObjectReference). */
const ATOMIC_ITEM_LISTS: ReadonlySet<string> = new Set(['imagePullSecrets', 'ownerReferences', 'secrets']);

const PRESENT: Overlay = { zero: {} };
const TCP: Readonly<Record<string, Json>> = { protocol: 'TCP' };

const container: Overlay = {
  fields: {
    ports: { keys: ['containerPort', 'protocol'], keyDefaults: TCP },
    resources: { zero: {}, fields: { claims: { list: 'map', keys: ['name'] } } },
  },
};

const podSpec: Overlay = {
  zero: {},
  fields: {
    containers: { ...container, zero: [] },
    initContainers: container,
    ephemeralContainers: container,
    topologySpreadConstraints: { keys: ['topologyKey', 'whenUnsatisfiable'] },
    affinity: {
      fields: {
        nodeAffinity: { fields: { requiredDuringSchedulingIgnoredDuringExecution: { map: 'atomic' } } },
      },
    },
  },
};

const podTemplate: Overlay = { zero: {}, fields: { metadata: PRESENT, spec: podSpec } };

const root = (fields: Record<string, Overlay> = {}): Overlay => ({
  fields: { metadata: PRESENT, spec: PRESENT, status: PRESENT, ...fields },
});

const workload = (spec: Record<string, Overlay> = {}, status: Record<string, Overlay> = {}): Overlay =>
  root({
    spec: { zero: {}, fields: { template: podTemplate, ...spec } },
    status: { zero: {}, fields: status },
  });

const conditionsByType: Overlay = { list: 'map', keys: ['type'] };

const overlays: ReadonlyMap<string, Overlay> = new Map([
  ['/Pod', root({ spec: podSpec, status: { zero: {}, fields: { hostIPs: { list: 'atomic' } } } })],
  ['/PodTemplate', root({ template: podTemplate })],
  ['/ReplicationController', workload()],
  [
    '/Service',
    root({ spec: { zero: {}, fields: { ports: { keys: ['port', 'protocol'], keyDefaults: TCP } } } }),
  ],
  ['/PersistentVolumeClaim', root({ spec: { zero: {}, fields: { resources: PRESENT } } })],
  ['apps/Deployment', workload({ strategy: PRESENT })],
  ['apps/ReplicaSet', workload()],
  ['apps/StatefulSet', workload({ updateStrategy: PRESENT })],
  ['apps/DaemonSet', workload({ updateStrategy: PRESENT })],
  [
    'batch/Job',
    workload(
      {},
      {
        conditions: { list: 'atomic' },
        uncountedTerminatedPods: { fields: { failed: { list: 'set' }, succeeded: { list: 'set' } } },
      },
    ),
  ],
  [
    'batch/CronJob',
    root({
      spec: {
        zero: {},
        fields: {
          jobTemplate: {
            zero: {},
            fields: { metadata: PRESENT, spec: { zero: {}, fields: { template: podTemplate } } },
          },
        },
      },
    }),
  ],
  [
    'certificates.k8s.io/CertificateSigningRequest',
    root({ status: { zero: {}, fields: { conditions: conditionsByType } } }),
  ],
  [
    'apiextensions.k8s.io/CustomResourceDefinition',
    root({ status: { zero: {}, fields: { conditions: conditionsByType } } }),
  ],
  [
    'storage.k8s.io/CSIDriver',
    root({ spec: { zero: {}, fields: { volumeLifecycleModes: { list: 'set' } } } }),
  ],
]);

const defaultOverlay = root();

class Builtin implements SsaSchema {
  readonly #name: string;
  readonly #meta: FieldMeta | undefined;
  readonly #fields: SchemaNode | undefined;
  readonly #overlay: Overlay | undefined;
  /**
   * Children made before, kept for the fields the schema knows (a bounded set): schemas are
   * immutable, and every write walks the same ones. Map keys (labels, data) are made afresh.
   */
  #fieldCache: Map<string, SsaSchema> | undefined;
  #itemCache: SsaSchema | undefined;
  #zero: Readonly<Record<string, Json>> | undefined;

  constructor(
    name: string,
    meta: FieldMeta | undefined,
    fields: SchemaNode | undefined,
    overlay: Overlay | undefined,
  ) {
    this.#name = name;
    this.#meta = meta;
    this.#fields = fields;
    this.#overlay = overlay;
  }

  listType(): ListType {
    if (this.#overlay?.list) return this.#overlay.list;
    if (this.#meta?.strategy === 'merge') return this.#meta.mergeKey ? 'map' : 'set';
    return 'atomic';
  }
  listMapKeys(): readonly string[] {
    if (this.#overlay?.keys) return this.#overlay.keys;
    return this.#meta?.mergeKey ? [this.#meta.mergeKey] : [];
  }
  listMapKeyDefault(key: string): Json | undefined {
    const d = this.#overlay?.keyDefaults;
    return d && Object.hasOwn(d, key) ? d[key] : undefined;
  }
  mapType(): MapType {
    if (this.#overlay?.map) return this.#overlay.map;
    if (this.#meta?.strategy === 'replace' || ATOMIC_OBJECT_FIELDS.has(this.#name)) return 'atomic';
    return 'granular';
  }
  isField(): boolean {
    return true;
  }
  field(key: string): SsaSchema {
    const cached = this.#fieldCache?.get(key);
    if (cached) return cached;
    const meta = fieldMeta(this.#fields, key);
    const ov = this.#overlay?.fields;
    const overlay = ov && Object.hasOwn(ov, key) ? ov[key] : undefined;
    const child = new Builtin(key, meta, meta?.fields, overlay);
    if (meta !== undefined || overlay !== undefined) {
      this.#fieldCache ??= new Map();
      this.#fieldCache.set(key, child);
    }
    return child;
  }
  item(): SsaSchema {
    if (ATOMIC_ITEM_LISTS.has(this.#name)) return atomicItem;
    if (this.#itemCache) return this.#itemCache;
    const fields = this.#overlay?.fields;
    this.#itemCache = new Builtin('', undefined, this.#meta?.fields, fields ? { fields } : undefined);
    return this.#itemCache;
  }
  zeroFields(): Readonly<Record<string, Json>> {
    if (this.#zero) return this.#zero;
    const ov = this.#overlay?.fields;
    let out: Record<string, Json> = NONE;
    if (ov) {
      out = {};
      for (const [k, o] of Object.entries(ov)) if (o.zero !== undefined) out[k] = o.zero;
      // Shared by every caller from now on: read only.
      Object.freeze(out);
    }
    this.#zero = out;
    return out;
  }
}

const atomicItem = new Builtin('', undefined, undefined, { map: 'atomic' });

/**
 * The schema of a built-in kind, or `undefined` when the group is not built in (a custom resource:
 * use {@link crdSchema}). Lists follow the patch tags (a merge key makes a map list, a merge strategy
 * over scalars a set, anything else is atomic) except where Kubernetes' list-map keys differ (ports
 * keyed by port and protocol, topology spread constraints by key and `whenUnsatisfiable`) or the list
 * type does (job conditions and pod `hostIPs` are atomic); label selectors, node selectors and object
 * references are atomic objects.
 */
export function builtinSchema(apiVersion: string, kind: string): SsaSchema | undefined {
  const fields = smpSchemaFor(apiVersion, kind);
  if (!fields) return undefined;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return new Builtin('', undefined, fields, overlays.get(`${group}/${kind}`) ?? defaultOverlay);
}

// ---------------------------------------------------------------------------------------------
// OpenAPI v3 schemas (CRDs, or the built-in document).

/** The parts of an OpenAPI v3 schema object read here. */
export interface OpenApiSchemaObject {
  type?: string;
  $ref?: string;
  allOf?: OpenApiSchemaObject[];
  properties?: Record<string, OpenApiSchemaObject>;
  additionalProperties?: OpenApiSchemaObject | boolean;
  items?: OpenApiSchemaObject;
  default?: unknown;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  [other: string]: unknown;
}

/** Resolves a `$ref` (e.g. `#/components/schemas/io.k8s.api.core.v1.PodSpec`). */
export type RefResolver = (ref: string) => OpenApiSchemaObject | undefined;

class OpenApi implements SsaSchema {
  readonly #s: OpenApiSchemaObject;
  readonly #resolve: RefResolver | undefined;
  /** Replaces the schema of `metadata` at the root (ObjectMeta for custom resources). */
  readonly #metadata: SsaSchema | undefined;
  /** Children made before, by property (bounded by the schema); see Builtin. */
  #fieldCache: Map<string, SsaSchema> | undefined;
  #additionalCache: SsaSchema | undefined;
  #itemCache: SsaSchema | undefined;

  constructor(s: OpenApiSchemaObject, resolve: RefResolver | undefined, metadata?: SsaSchema) {
    this.#s = s;
    this.#resolve = resolve;
    this.#metadata = metadata;
  }

  /** The schema with `$ref` and single-element `allOf` wrappers looked through. */
  #target(): OpenApiSchemaObject {
    let s = this.#s;
    for (let i = 0; i < 32; i++) {
      if (s.$ref && this.#resolve) {
        const r = this.#resolve(s.$ref);
        if (!r) break;
        s = r;
      } else if (!s.properties && !s.items && s.allOf?.length === 1 && s.allOf[0]) {
        s = s.allOf[0];
      } else break;
    }
    return s;
  }

  /** An extension, on the wrapper (a property) or on the definition it refers to. */
  #ext(name: string): unknown {
    return this.#s[name] ?? this.#target()[name];
  }

  listType(): ListType {
    const lt = this.#ext('x-kubernetes-list-type');
    if (lt === 'atomic' || lt === 'set' || lt === 'map') return lt;
    const strategy = this.#ext('x-kubernetes-patch-strategy');
    if (typeof strategy === 'string' && strategy.split(',').includes('merge')) {
      return this.#ext('x-kubernetes-patch-merge-key') ? 'map' : 'set';
    }
    return 'atomic';
  }
  listMapKeys(): readonly string[] {
    const keys = this.#ext('x-kubernetes-list-map-keys');
    if (Array.isArray(keys)) return keys.filter((k): k is string => typeof k === 'string');
    const mk = this.#ext('x-kubernetes-patch-merge-key');
    return typeof mk === 'string' ? [mk] : [];
  }
  listMapKeyDefault(key: string): Json | undefined {
    const item = this.item();
    if (!(item instanceof OpenApi)) return undefined;
    const itemProps = item.#target().properties;
    const p = itemProps && Object.hasOwn(itemProps, key) ? itemProps[key] : undefined;
    return p?.default === undefined ? undefined : (p.default as Json);
  }
  mapType(): MapType {
    return this.#ext('x-kubernetes-map-type') === 'atomic' ? 'atomic' : 'granular';
  }
  isField(key: string): boolean {
    if (this.#metadata && (key === 'metadata' || key === 'apiVersion' || key === 'kind')) return true;
    const props = this.#target().properties;
    return !!props && Object.hasOwn(props, key);
  }
  field(key: string): SsaSchema {
    if (this.#metadata && key === 'metadata') return this.#metadata;
    const cached = this.#fieldCache?.get(key);
    if (cached) return cached;
    const t = this.#target();
    if (t.properties && Object.hasOwn(t.properties, key)) {
      const child = new OpenApi(t.properties[key] as OpenApiSchemaObject, this.#resolve);
      this.#fieldCache ??= new Map();
      this.#fieldCache.set(key, child);
      return child;
    }
    if (isObject(t.additionalProperties as Json)) {
      this.#additionalCache ??= new OpenApi(t.additionalProperties as OpenApiSchemaObject, this.#resolve);
      return this.#additionalCache;
    }
    return deducedSchema;
  }
  item(): SsaSchema {
    if (this.#itemCache) return this.#itemCache;
    const items = this.#target().items;
    const child = items ? new OpenApi(items, this.#resolve) : deducedSchema;
    this.#itemCache = child;
    return child;
  }
  zeroFields(): Readonly<Record<string, Json>> {
    return NONE;
  }
}

/**
 * A schema over an OpenAPI v3 schema object: `properties` are struct fields, `additionalProperties`
 * map keys, unknown keys (x-kubernetes-preserve-unknown-fields) deduced; lists follow
 * x-kubernetes-list-type (else a merge patch strategy, else atomic), objects x-kubernetes-map-type.
 * `resolve` looks up `$ref`s (not needed for CRD schemas, which have none).
 */
export function openApiSchema(schema: OpenApiSchemaObject, resolve?: RefResolver): SsaSchema {
  return new OpenApi(schema, resolve);
}

/**
 * The schema of a custom resource from its version's `openAPIV3Schema` (`undefined` when the version
 * has none: every field is then deduced). `metadata` is ObjectMeta, as for built-in kinds (labels and
 * annotations are maps, finalizers a set, ownerReferences a map keyed by uid).
 */
export function crdSchema(openAPIV3Schema: OpenApiSchemaObject | undefined): SsaSchema {
  const metadata = (builtinSchema('v1', 'ConfigMap') as SsaSchema).field('metadata');
  return new OpenApi(
    openAPIV3Schema ?? { 'x-kubernetes-preserve-unknown-fields': true },
    undefined,
    metadata,
  );
}
