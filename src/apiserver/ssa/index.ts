/**
 * Server-side apply and field management (metadata.managedFields), as the Kubernetes API server does
 * them with sigs.k8s.io/structured-merge-diff.
 *
 * - PATCH with `application/apply-patch+yaml`: {@link validatePatchOptions}, {@link decodeApplyPatch},
 *   then {@link applyObject} on the stored object (or null to create), then {@link checkAppliedObject}.
 * - Every other write (create, update, JSON/merge/strategic patch): {@link updateManagedFields} on the
 *   object about to be stored, with the manager from `fieldManager` or {@link managerFromUserAgent}.
 * - The schema of the kind: {@link builtinSchema} for built-in kinds, {@link crdSchema} for custom
 *   resources, {@link deducedSchema} otherwise; {@link resetFieldsFor} gives the usual reset fields.
 */
export {
  type ApplyOptions,
  applyObject,
  type FieldNames,
  LAST_APPLIED_ANNOTATION,
  resetFieldsFor,
  type UpdateOptions,
  updateManagedFields,
} from './fieldmanager.ts';
export { FieldSet, type Path, type PathElement, pathString } from './fieldpath.ts';
export { decodeManagedFields, encodeManagedFields, MAX_UPDATE_MANAGERS } from './managed.ts';
export {
  APPLY_PATCH,
  type ApplyTarget,
  checkAppliedObject,
  decodeApplyPatch,
  FIELD_MANAGER_MAX_LENGTH,
  managerFromUserAgent,
  managerOrUserAgent,
  type PatchOptions,
  validateFieldManager,
  validatePatchOptions,
} from './request.ts';
export {
  builtinSchema,
  crdSchema,
  deducedSchema,
  type ListType,
  type MapType,
  type OpenApiSchemaObject,
  openApiSchema,
  type RefResolver,
  type SsaSchema,
} from './schema.ts';

import type { SsaSchema } from './schema.ts';
import { builtinSchema, deducedSchema } from './schema.ts';

/** The schema for a kind: built-in if the group is built in, else deduced (pass {@link crdSchema} for custom resources). */
export function schemaFor(apiVersion: string, kind: string): SsaSchema {
  return builtinSchema(apiVersion, kind) ?? deducedSchema;
}
