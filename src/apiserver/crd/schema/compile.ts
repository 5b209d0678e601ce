/**
 * A CRD version's openAPIV3Schema compiled for serving its custom resources: value validation,
 * list-type invariants, pruning and defaulting. x-kubernetes-validations (CEL) rules are not run.
 */
import type { FieldError } from '../../../api/errors.ts';
import { applyDefaults } from './defaults.ts';
import { validateListSetsAndMaps } from './listtype.ts';
import { compileNode, type SchemaNode } from './node.ts';
import { pruneObject } from './prune.ts';
import type { JSONSchemaProps } from './types.ts';
import { isObject } from './util.ts';
import { validateValue } from './validator.ts';

export interface CompiledSchema {
  /** The schema this was compiled from. */
  readonly schema: JSONSchemaProps | undefined;
  /**
   * Validates a custom resource (after pruning and defaulting): the OpenAPI value validation, then
   * the x-kubernetes-list-type set/map uniqueness. `path` prefixes every field path; without it a
   * problem with the whole object, or an anyOf/oneOf/allOf/not failure, is reported at `<nil>`, as
   * the API server does.
   */
  validate(obj: unknown, path?: string): FieldError[];
  /**
   * Removes, in place, the fields the schema does not specify and returns their paths (see
   * prune.ts). apiVersion, kind and metadata stay at the root; metadata is reduced to ObjectMeta.
   */
  prune(obj: unknown): string[];
  /** Applies the schema's `default`s in place, only where the parent object exists. */
  applyDefaults(obj: unknown): void;
}

class Compiled implements CompiledSchema {
  readonly schema: JSONSchemaProps | undefined;
  readonly #root: SchemaNode | undefined;

  constructor(schema: JSONSchemaProps | undefined) {
    this.schema = schema;
    this.#root = schema ? compileNode(schema) : undefined;
  }

  validate(obj: unknown, path?: string): FieldError[] {
    if (!this.#root) return [];
    return [...validateValue(this.#root, obj, path), ...validateListSetsAndMaps(this.#root, obj, path ?? '')];
  }

  prune(obj: unknown): string[] {
    return pruneObject(this.#root, obj);
  }

  applyDefaults(obj: unknown): void {
    applyDefaults(obj, this.#root);
  }
}

/**
 * Compiles a CRD version's `schema.openAPIV3Schema` (validated with validateCrd first: a schema that
 * is not structural still compiles, but pruning and defaulting then follow only its structural part).
 * Without a schema, nothing is validated and every field but apiVersion, kind and metadata is pruned.
 */
export function compileSchema(
  openAPIV3Schema: JSONSchemaProps | Record<string, unknown> | undefined,
): CompiledSchema {
  return new Compiled(isObject(openAPIV3Schema) ? (openAPIV3Schema as JSONSchemaProps) : undefined);
}
