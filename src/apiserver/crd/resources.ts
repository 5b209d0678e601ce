/**
 * A CustomResourceDefinition's versions as served resources: names, scope, subresources, printer
 * columns, and a strategy that prunes, defaults and validates against the version's schema.
 */
import { isPlainObject, type KubeObject } from '../object.ts';
import { ALL_VERBS, type ResourceDef, type Strategy } from '../resource.ts';
import type { Printer } from '../table/table.ts';

/** What the API server needs from a version's structural schema (see crd/schema). */
export interface CompiledSchema {
  validate(obj: unknown): import('../../api/errors.ts').FieldError[];
  /** Removes unknown fields in place. */
  prune(obj: unknown): string[];
  applyDefaults(obj: unknown): void;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: Record<string, unknown> };
  subresources?: {
    status?: Record<string, never>;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  additionalPrinterColumns?: {
    name: string;
    type: string;
    jsonPath: string;
    format?: string;
    description?: string;
    priority?: number;
  }[];
}

export interface Crd extends KubeObject {
  spec: {
    group: string;
    names: {
      plural: string;
      singular?: string;
      kind: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: 'Namespaced' | 'Cluster';
    versions: CrdVersion[];
  };
}

/** `.spec.replicas` → ['spec', 'replicas'] */
function jsonPathToPath(p: string): string[] {
  return p.replace(/^\./, '').split('.').filter(Boolean);
}

export interface CrdTools {
  compile(schema: Record<string, unknown>): CompiledSchema;
  printer(columns: CrdVersion['additionalPrinterColumns']): Printer;
}

/** The served resource of one version of a CRD. */
export function customResourceDef(crd: Crd, version: CrdVersion, tools: CrdTools): ResourceDef {
  const { group, names, scope } = crd.spec;
  const schema = version.schema?.openAPIV3Schema;
  const compiled = schema ? tools.compile(schema) : null;
  const hasStatus = Boolean(version.subresources?.status);
  const prepare = (obj: KubeObject) => {
    compiled?.prune(obj);
  };
  const strategy: Strategy = {
    statusSubresource: hasStatus,
    generation: true,
    prepareForCreate(obj) {
      if (hasStatus) delete obj.status;
      prepare(obj);
    },
    prepareForUpdate(obj) {
      prepare(obj);
    },
    defaults(obj) {
      compiled?.applyDefaults(obj);
    },
    validate(obj) {
      return compiled ? compiled.validate(obj) : [];
    },
  };
  const scale = version.subresources?.scale;
  return {
    group,
    version: version.name,
    resource: names.plural,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    singular: names.singular ?? names.kind.toLowerCase(),
    namespaced: scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    verbs: ALL_VERBS,
    extraSubresources: [],
    scale: scale
      ? {
          specReplicas: jsonPathToPath(scale.specReplicasPath),
          statusReplicas: jsonPathToPath(scale.statusReplicasPath),
          labelSelector: scale.labelSelectorPath ? jsonPathToPath(scale.labelSelectorPath) : undefined,
        }
      : undefined,
    strategy,
    selectableFields: [],
    printer: tools.printer(version.additionalPrinterColumns),
    custom: true,
    schema,
    unknownFields: (obj) => (compiled ? compiled.prune(structuredClone(obj)) : []),
  };
}

/** Whether a CRD object has the shape this module relies on (it passed validation when written). */
export function isCrd(obj: KubeObject): obj is Crd {
  const spec = obj.spec;
  return (
    isPlainObject(spec) &&
    typeof spec.group === 'string' &&
    isPlainObject(spec.names) &&
    typeof (spec.names as { plural?: unknown }).plural === 'string' &&
    typeof (spec.names as { kind?: unknown }).kind === 'string' &&
    Array.isArray(spec.versions)
  );
}
