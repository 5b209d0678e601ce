/**
 * Schemas for kinds the bundled data doesn't know: custom resources (from a CRD version's
 * `openAPIV3Schema`) and any other served kind. Shaped as the apiextensions-apiserver publishes them:
 * named by the reversed group (`com.example.stable.v1.CronTab`), `metadata` a reference to ObjectMeta,
 * standard `apiVersion`/`kind` fields, `x-kubernetes-group-version-kind`, and a `<Kind>List` beside.
 */
import type { Schema } from './data.ts';

export const REF = '#/components/schemas/';
export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
export const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';

const API_VERSION: Schema = {
  description:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  type: 'string',
};
const KIND: Schema = {
  description:
    'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  type: 'string',
};
const METADATA: Schema = {
  allOf: [{ $ref: REF + OBJECT_META }],
  description:
    "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
};
const LIST_METADATA: Schema = {
  allOf: [{ $ref: REF + LIST_META }],
  description:
    'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
};

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** The component name Kubernetes gives a custom kind: the group's DNS labels reversed, then version and kind. */
export function customSchemaName(gvk: Gvk): string {
  const group = gvk.group === '' ? 'core' : gvk.group.split('.').reverse().join('.');
  return `${group}.${gvk.version}.${gvk.kind}`;
}

/**
 * The schema of a custom kind. `openAPIV3Schema` is the CRD version's schema (absent: any object is
 * accepted). The input is not modified.
 */
export function customKindSchema(gvk: Gvk, openAPIV3Schema: unknown): Schema {
  const given =
    openAPIV3Schema !== null && typeof openAPIV3Schema === 'object'
      ? (structuredClone(openAPIV3Schema) as Schema)
      : undefined;
  const schema: Schema = given ?? { 'x-kubernetes-preserve-unknown-fields': true };
  schema.type ??= 'object';
  schema.properties = {
    ...(schema.properties ?? {}),
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: METADATA,
  };
  schema['x-kubernetes-group-version-kind'] = [{ group: gvk.group, kind: gvk.kind, version: gvk.version }];
  return schema;
}

/** The schema of `<Kind>List` for a kind whose schema is named `itemName`. */
export function customListSchema(gvk: Gvk, listKind: string, itemName: string, plural: string): Schema {
  return {
    description: `${listKind} is a list of ${gvk.kind}`,
    properties: {
      apiVersion: API_VERSION,
      items: {
        description: `List of ${plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        items: { $ref: REF + itemName },
        type: 'array',
      },
      kind: KIND,
      metadata: LIST_METADATA,
    },
    required: ['items'],
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: gvk.group, kind: listKind, version: gvk.version }],
  };
}
