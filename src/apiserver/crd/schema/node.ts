/**
 * A schema compiled once for repeated use: the JSONSchemaProps tree with its types resolved as
 * kube-openapi sees them (x-kubernetes-int-or-string is `integer,string`), unsupported formats
 * stripped, patterns compiled, and properties in Maps (no prototype surprises).
 */
import { effectiveFormat } from './formats.ts';
import { type CompiledRegexp, compileGoRegexp } from './regex.ts';
import type { JSONSchemaProps } from './types.ts';
import { isObject } from './util.ts';

export interface SchemaNode {
  readonly src: JSONSchemaProps;
  /** kube-openapi's Type: [] (any), one type, or ["integer","string"]. */
  readonly types: readonly string[];
  /** The format after StripUnsupportedFormats ('' when none). */
  readonly format: string;
  readonly nullable: boolean;
  readonly pattern: CompiledRegexp | undefined;
  readonly properties: ReadonlyMap<string, SchemaNode>;
  /** A schema, `false` (no other keys), `true` (any other keys), or undefined (not set). */
  readonly additionalProperties: SchemaNode | boolean | undefined;
  readonly items: SchemaNode | undefined;
  readonly allOf: readonly SchemaNode[];
  readonly anyOf: readonly SchemaNode[];
  readonly oneOf: readonly SchemaNode[];
  readonly not: SchemaNode | undefined;
  readonly required: readonly string[];
  readonly enum: readonly unknown[] | undefined;
  /** The default value; undefined when none (a JSON null default counts as none). */
  readonly default: unknown;
  readonly preserveUnknownFields: boolean;
  readonly embeddedResource: boolean;
  readonly intOrString: boolean;
  readonly listType: string | undefined;
  readonly listMapKeys: readonly string[];
  readonly limits: Limits;
}

export type Limits = ReturnType<typeof numeric>;

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function list(v: unknown): JSONSchemaProps[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** Compiles a JSONSchemaProps tree. Malformed parts (wrong JSON types) are ignored, never thrown on. */
export function compileNode(src: JSONSchemaProps): SchemaNode {
  const intOrString = src['x-kubernetes-int-or-string'] === true;
  const type = typeof src.type === 'string' ? src.type : '';
  const types = intOrString ? ['integer', 'string'] : type ? [type] : [];
  const properties = new Map<string, SchemaNode>();
  if (isObject(src.properties)) {
    for (const [k, v] of Object.entries(src.properties)) if (isObject(v)) properties.set(k, compileNode(v));
  }
  const ap = src.additionalProperties;
  const items = src.items;
  return {
    src,
    types,
    format: effectiveFormat(types, typeof src.format === 'string' ? src.format : undefined),
    nullable: src.nullable === true,
    pattern: typeof src.pattern === 'string' && src.pattern !== '' ? compileGoRegexp(src.pattern) : undefined,
    properties,
    additionalProperties: typeof ap === 'boolean' ? ap : isObject(ap) ? compileNode(ap) : undefined,
    items: isObject(items) ? compileNode(items) : undefined,
    allOf: list(src.allOf).map(compileNode),
    anyOf: list(src.anyOf).map(compileNode),
    oneOf: list(src.oneOf).map(compileNode),
    not: isObject(src.not) ? compileNode(src.not) : undefined,
    required: Array.isArray(src.required) ? src.required.filter((r) => typeof r === 'string') : [],
    enum: Array.isArray(src.enum) && src.enum.length > 0 ? src.enum : undefined,
    default: src.default === null ? undefined : src.default,
    preserveUnknownFields: src['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: src['x-kubernetes-embedded-resource'] === true,
    intOrString,
    listType: typeof src['x-kubernetes-list-type'] === 'string' ? src['x-kubernetes-list-type'] : undefined,
    listMapKeys: Array.isArray(src['x-kubernetes-list-map-keys'])
      ? src['x-kubernetes-list-map-keys'].filter((k) => typeof k === 'string')
      : [],
    limits: numeric(src),
  };
}

/** Numeric constraints, read defensively. */
function numeric(src: JSONSchemaProps) {
  return {
    maximum: num(src.maximum),
    minimum: num(src.minimum),
    exclusiveMaximum: src.exclusiveMaximum === true,
    exclusiveMinimum: src.exclusiveMinimum === true,
    multipleOf: num(src.multipleOf),
    maxLength: num(src.maxLength),
    minLength: num(src.minLength),
    maxItems: num(src.maxItems),
    minItems: num(src.minItems),
    maxProperties: num(src.maxProperties),
    minProperties: num(src.minProperties),
    uniqueItems: src.uniqueItems === true,
  };
}

/** The additionalProperties schema of a node, if it is one (structural pruning treats `true`/`false` as no schema). */
export function additionalSchema(n: SchemaNode): SchemaNode | undefined {
  return typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined;
}
