/** A compact way to declare a resource, with Kubernetes' usual defaults. */
import { ALL_VERBS, type ResourceDef, type ScaleSpec, type Strategy } from '../resource.ts';

export interface ResourceSpec {
  group?: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: readonly string[];
  extraSubresources?: string[];
  scale?: ScaleSpec;
  strategy?: Partial<Strategy>;
  selectableFields?: string[];
  singular?: string;
}

/** A plain strategy: no status subresource, no generation. */
export const plainStrategy: Strategy = { statusSubresource: false, generation: false };

export function define(spec: ResourceSpec): ResourceDef {
  return {
    group: spec.group ?? '',
    version: spec.version,
    resource: spec.resource,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    singular: spec.singular ?? spec.kind.toLowerCase(),
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? ALL_VERBS,
    extraSubresources: spec.extraSubresources ?? [],
    scale: spec.scale,
    strategy: { ...plainStrategy, ...spec.strategy },
    selectableFields: spec.selectableFields ?? [],
  };
}

/** Spec-and-status kinds: a status subresource and generation tracking, status reset on create. */
export function workloadStrategy(extra: Partial<Strategy> = {}): Partial<Strategy> {
  return {
    statusSubresource: true,
    generation: true,
    prepareForCreate(obj) {
      obj.status = {};
    },
    ...extra,
  };
}
