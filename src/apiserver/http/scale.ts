/**
 * The scale subresource (autoscaling/v1 Scale) of deployments, replicasets, statefulsets and custom
 * resources that declare one.
 */
import { ApiError, FieldError } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceDef } from '../resource.ts';
import { selectorToString } from './selectors.ts';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: KubeObject['metadata'];
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

function read(obj: KubeObject, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function write(obj: KubeObject, path: readonly string[], value: unknown): void {
  let cur: Record<string, unknown> = obj;
  for (const p of path.slice(0, -1)) {
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** The Scale view of an object. */
export function getScale(def: ResourceDef, obj: KubeObject): Scale {
  const spec = def.scale!;
  const replicas = read(obj, spec.specReplicas);
  const statusReplicas = read(obj, spec.statusReplicas);
  const scale: Scale = {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: typeof replicas === 'number' ? replicas : 0 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0 },
  };
  if (spec.labelSelector) {
    const sel = read(obj, spec.labelSelector);
    if (typeof sel === 'string') scale.status.selector = sel;
    else if (isPlainObject(sel)) scale.status.selector = selectorToString(sel);
  }
  return scale;
}

/**
 * Writes spec.replicas from a Scale: either a Scale body (PUT) or a function producing one from the
 * current object (PATCH). A resourceVersion in the Scale must match the object's.
 */
export async function scaleSubresourceUpdate(
  registry: Registry,
  def: ResourceDef,
  namespace: string,
  name: string,
  input: unknown | ((current: KubeObject) => unknown),
  opts: { dryRun: boolean; user: string },
): Promise<Scale> {
  const { object } = await registry.patch(
    def,
    namespace,
    name,
    (current) => {
      if (!current) throw ApiError.notFound({ group: def.group, resource: def.resource }, name);
      const scale = typeof input === 'function' ? (input as (c: KubeObject) => unknown)(current) : input;
      if (!isPlainObject(scale)) throw ApiError.badRequest('the body must be an autoscaling/v1 Scale object');
      const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
      if (
        replicas !== undefined &&
        (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      ) {
        throw ApiError.invalid('autoscaling', 'Scale', name, [
          FieldError.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'),
        ]);
      }
      const meta = (scale.metadata ?? {}) as { resourceVersion?: string };
      const next = structuredClone(current);
      if (meta.resourceVersion) next.metadata.resourceVersion = meta.resourceVersion;
      else delete next.metadata.resourceVersion;
      write(next, def.scale!.specReplicas, replicas ?? 0);
      return next;
    },
    { dryRun: opts.dryRun, user: opts.user },
  );
  return getScale(def, object);
}
