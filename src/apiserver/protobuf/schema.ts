/**
 * The messages skiff speaks in protobuf, with field numbers exactly as upstream:
 * k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto and k8s.io/api/core/v1/generated.proto.
 * (Checked against the descriptors compiled into helm 3.17.2, i.e. client-go 0.32.)
 *
 * `always` marks fields that are Go values rather than pointers (see FieldDef in codec.ts).
 */
import { type FieldDef, type MessageDef, message } from './codec.ts';

const str = (no: number, json: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  no,
  json,
  type: 'string',
  always: true,
  ...extra,
});

export const OwnerReference = message('OwnerReference', [
  str(5, 'apiVersion', { keepZero: true }),
  str(1, 'kind', { keepZero: true }),
  str(3, 'name', { keepZero: true }),
  str(4, 'uid', { keepZero: true }),
  { no: 6, json: 'controller', type: 'bool' },
  { no: 7, json: 'blockOwnerDeletion', type: 'bool' },
]);

export const ManagedFieldsEntry = message('ManagedFieldsEntry', [
  str(1, 'manager'),
  str(2, 'operation'),
  str(3, 'apiVersion'),
  { no: 4, json: 'time', type: 'time' },
  str(6, 'fieldsType'),
  { no: 7, json: 'fieldsV1', type: 'fieldsV1' },
  str(8, 'subresource'),
]);

export const ObjectMeta = message('ObjectMeta', [
  str(1, 'name'),
  str(2, 'generateName'),
  str(3, 'namespace'),
  str(4, 'selfLink'),
  str(5, 'uid'),
  str(6, 'resourceVersion'),
  { no: 7, json: 'generation', type: 'int64', always: true },
  { no: 8, json: 'creationTimestamp', type: 'time', always: true },
  { no: 9, json: 'deletionTimestamp', type: 'time' },
  { no: 10, json: 'deletionGracePeriodSeconds', type: 'int64' },
  { no: 11, json: 'labels', type: 'stringMap' },
  { no: 12, json: 'annotations', type: 'stringMap' },
  { no: 13, json: 'ownerReferences', type: OwnerReference, repeated: true },
  { no: 14, json: 'finalizers', type: 'string', repeated: true },
  // 15 was clusterName (removed in 1.25), 16 initializers (removed in 1.14): skipped when present.
  { no: 17, json: 'managedFields', type: ManagedFieldsEntry, repeated: true },
]);

export const ListMeta = message('ListMeta', [
  str(1, 'selfLink'),
  str(2, 'resourceVersion'),
  str(3, 'continue'),
  { no: 4, json: 'remainingItemCount', type: 'int64' },
]);

export const StatusCause = message('StatusCause', [str(1, 'reason'), str(2, 'message'), str(3, 'field')]);

export const StatusDetails = message('StatusDetails', [
  str(1, 'name'),
  str(2, 'group'),
  str(3, 'kind'),
  { no: 4, json: 'causes', type: StatusCause, repeated: true },
  { no: 5, json: 'retryAfterSeconds', type: 'int32', always: true },
  str(6, 'uid'),
]);

export const Status = message('Status', [
  { no: 1, json: 'metadata', type: ListMeta, always: true },
  str(2, 'status'),
  str(3, 'message'),
  str(4, 'reason'),
  { no: 5, json: 'details', type: StatusDetails },
  { no: 6, json: 'code', type: 'int32', always: true },
]);

export const Preconditions = message('Preconditions', [
  { no: 1, json: 'uid', type: 'string' },
  { no: 2, json: 'resourceVersion', type: 'string' },
]);

export const DeleteOptions = message('DeleteOptions', [
  { no: 1, json: 'gracePeriodSeconds', type: 'int64' },
  { no: 2, json: 'preconditions', type: Preconditions },
  { no: 3, json: 'orphanDependents', type: 'bool' },
  { no: 4, json: 'propagationPolicy', type: 'string' },
  { no: 5, json: 'dryRun', type: 'string', repeated: true },
  { no: 6, json: 'ignoreStoreReadErrorWithClusterBreakingPotential', type: 'bool' },
]);

export const Secret = message('Secret', [
  { no: 1, json: 'metadata', type: ObjectMeta, always: true },
  { no: 2, json: 'data', type: 'bytesMap' },
  str(3, 'type'),
  { no: 4, json: 'stringData', type: 'stringMap' },
  { no: 5, json: 'immutable', type: 'bool' },
]);

export const SecretList = message('SecretList', [
  { no: 1, json: 'metadata', type: ListMeta, always: true },
  { no: 2, json: 'items', type: Secret, repeated: true, keepZero: true },
]);

export const ConfigMap = message('ConfigMap', [
  { no: 1, json: 'metadata', type: ObjectMeta, always: true },
  { no: 2, json: 'data', type: 'stringMap' },
  { no: 3, json: 'binaryData', type: 'bytesMap' },
  { no: 4, json: 'immutable', type: 'bool' },
]);

export const ConfigMapList = message('ConfigMapList', [
  { no: 1, json: 'metadata', type: ListMeta, always: true },
  { no: 2, json: 'items', type: ConfigMap, repeated: true, keepZero: true },
]);

/** runtime.TypeMeta (not metav1.TypeMeta, whose numbers are swapped). */
export const TypeMeta = message('TypeMeta', [str(1, 'apiVersion'), str(2, 'kind')]);

/** The kinds skiff encodes and decodes, and the apiVersions each is accepted in (`*`: any). */
export const KINDS: Readonly<Record<string, { def: MessageDef; apiVersions: readonly string[] | '*' }>> = {
  Secret: { def: Secret, apiVersions: ['v1'] },
  SecretList: { def: SecretList, apiVersions: ['v1'] },
  ConfigMap: { def: ConfigMap, apiVersions: ['v1'] },
  ConfigMapList: { def: ConfigMapList, apiVersions: ['v1'] },
  // Status and DeleteOptions are registered in every group version (metav1.AddToGroupVersion).
  Status: { def: Status, apiVersions: '*' },
  DeleteOptions: { def: DeleteOptions, apiVersions: '*' },
};
