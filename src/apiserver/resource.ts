/**
 * What the API server knows about a resource: its names and scope (for URLs and discovery) and its
 * strategy (the per-kind rules for defaults, validation and what an update may change), in the
 * manner of k8s.io/apiserver's generic registry and each kind's `strategy.go`.
 */
import type { FieldError } from '../api/errors.ts';
import type { KubeObject } from './object.ts';
import type { Printer } from './table/table.ts';

/** The context of one write. */
export interface WriteContext {
  /** The namespace from the URL ('' for cluster-scoped). */
  namespace: string;
  /** The requesting user's name, for managedFields and audit. */
  user: string;
  /** Milliseconds since the epoch, from the server's clock. */
  now: number;
  /** The subresource the write came through ('' for the main resource; status, scale, binding,
   * finalize, ephemeralcontainers). */
  subresource: string;
}

/** Per-kind rules. Every hook is optional except where stated; a hook must not do I/O. */
export interface Strategy {
  /** Whether the resource has a status subresource: then the main resource ignores status changes
   * and the status subresource ignores everything else. */
  readonly statusSubresource: boolean;
  /** Subresources besides `status` through which status may change too (pods/binding sets the
   * PodScheduled condition with the node name, in one write, as Kubernetes does). */
  readonly statusWritableFrom?: readonly string[];
  /** Whether metadata.generation is kept (set to 1 on create, +1 for every change outside metadata and status). */
  readonly generation: boolean;
  /** Whether PUT may create an object that does not exist (Kubernetes allows it for a few kinds). */
  readonly allowCreateOnUpdate?: boolean;
  /** Fills in defaults, in place. Runs on create and update (and on the result of a patch). */
  defaults?(obj: KubeObject): void;
  /** Adjusts a new object before validation, in place (e.g. resets status). */
  prepareForCreate?(obj: KubeObject, ctx: WriteContext): void;
  /** Adjusts an updated object before validation, in place, given the stored one. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject, ctx: WriteContext): void;
  /** Field errors of a new object (metadata is validated by the registry). */
  validate?(obj: KubeObject, ctx: WriteContext): FieldError[];
  /** Field errors of an update, e.g. immutable fields (validate() also runs on the new object). */
  validateUpdate?(obj: KubeObject, old: KubeObject, ctx: WriteContext): FieldError[];
  /**
   * The grace period of a delete in seconds, given the one requested (if any). Above 0 the object
   * stays with a deletionTimestamp until its node agent confirms (pods). Absent means 0.
   */
  gracePeriod?(obj: KubeObject, requested: number | undefined): number;
  /**
   * Called when a delete finds the object; may mark it as being deleted (in place) and return true
   * to keep it instead of removing it, as namespaces do while their spec.finalizers are pending.
   */
  deferDelete?(obj: KubeObject, now: number): boolean;
  /** Seconds objects of this kind live after their last write (Events: an hour), if limited. */
  ttlSeconds?(): number;
  /** Values of the kind's selectable fields beyond metadata.name and metadata.namespace. */
  fieldValues?(obj: KubeObject): Record<string, string>;
}

/** The scale subresource's mapping onto the object (autoscaling/v1 Scale). */
export interface ScaleSpec {
  /** JSON path of the replica count in spec, e.g. ['spec', 'replicas']. */
  specReplicas: string[];
  statusReplicas: string[];
  /** Path of the label selector: a LabelSelector object (built-ins) or a string (CRDs). */
  labelSelector?: string[];
}

/** A served resource. */
export interface ResourceDef {
  /** API group, '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the URL segment. */
  readonly resource: string;
  readonly kind: string;
  readonly listKind: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  /** Verbs on the main resource, as discovery lists them. */
  readonly verbs: readonly string[];
  /** Subresources other than status and scale (e.g. log, exec, binding, eviction). */
  readonly extraSubresources: readonly string[];
  readonly scale?: ScaleSpec;
  readonly strategy: Strategy;
  /** Field names (besides metadata.name/namespace) accepted in field selectors. */
  readonly selectableFields: readonly string[];
  /** The table printer, when the resource carries its own (custom resources). */
  readonly printer?: Printer;
  /** Whether it is a custom resource (served from a CustomResourceDefinition). */
  readonly custom?: boolean;
  /** A custom resource version's openAPIV3Schema (for the OpenAPI documents). */
  readonly schema?: unknown;
  /** Paths of fields its schema does not declare (custom resources; built-ins use the bundled schemas). */
  readonly unknownFields?: (obj: unknown) => string[];
}

export const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
] as const;

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** The storage key prefix of a resource: `/registry/<group or core>/<resource>/`. */
export function storagePrefix(def: Pick<ResourceDef, 'group' | 'resource'>): string {
  return `/registry/${def.group || 'core'}/${def.resource}/`;
}

/** The storage key of one object. */
export function storageKey(
  def: Pick<ResourceDef, 'group' | 'resource' | 'namespaced'>,
  namespace: string,
  name: string,
): string {
  return def.namespaced ? `${storagePrefix(def)}${namespace}/${name}` : `${storagePrefix(def)}${name}`;
}
