/**
 * Strategic-merge-patch metadata for the built-in kinds: the `patchStrategy` / `patchMergeKey` struct
 * tags of k8s.io/api (checked against the tags compiled into kubectl 1.33), written out as a tree.
 *
 * Only fields whose tags say something are listed; everything else has the default behaviour:
 * objects merge key by key, lists are replaced whole (e.g. `tolerations`, `envFrom`, `taints`,
 * `readinessGates`, Endpoints `subsets`, `containerStatuses`, `args`, `command`).
 *
 * Custom resources have no such metadata: Kubernetes rejects strategic merge patches for them with
 * 415 (the CRD handler accepts only JSON patch, merge patch and apply), so {@link smpSchemaFor}
 * returns `undefined` for any group that is not built in.
 */

/** The patch metadata of one field. */
export interface FieldMeta {
  /**
   * `merge`: a list merged by `mergeKey` (lists of objects) or as a set (lists of scalars).
   * `replace`: an object replaced whole instead of merged. Absent: objects merge, lists replace.
   */
  readonly strategy?: 'merge' | 'replace';
  /** The key that identifies an element of a merged list of objects. */
  readonly mergeKey?: string;
  /** The tag also says `retainKeys` (used when computing patches; any `$retainKeys` in a patch is honoured). */
  readonly retainKeys?: boolean;
  /** Metadata of the value's own fields (a struct's, or a list element's). */
  readonly fields?: SchemaNode;
}

/** Field name → metadata, for one struct type. */
export type SchemaNode = Readonly<Record<string, FieldMeta>>;

/** The metadata of `field` in `node`, if any (own properties only). */
export function fieldMeta(node: SchemaNode | undefined, field: string): FieldMeta | undefined {
  return node !== undefined && Object.hasOwn(node, field) ? node[field] : undefined;
}

const struct = (fields: SchemaNode): FieldMeta => ({ fields });
const mergeBy = (mergeKey: string, fields?: SchemaNode, retainKeys = false): FieldMeta => ({
  strategy: 'merge',
  mergeKey,
  ...(fields ? { fields } : {}),
  ...(retainKeys ? { retainKeys } : {}),
});
/** A list of scalars merged as a set. */
const mergeSet: FieldMeta = { strategy: 'merge' };
const conditions = mergeBy('type');

const objectMeta: SchemaNode = { finalizers: mergeSet, ownerReferences: mergeBy('uid') };
const withMeta = (fields: SchemaNode): SchemaNode => ({ metadata: struct(objectMeta), ...fields });

const container: SchemaNode = {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
};

const podSpec: SchemaNode = {
  volumes: mergeBy('name', undefined, true),
  initContainers: mergeBy('name', container),
  containers: mergeBy('name', container),
  ephemeralContainers: mergeBy('name', container),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeBy('name', undefined, true),
};

const podStatus: SchemaNode = {
  conditions,
  podIPs: mergeBy('ip'),
  hostIPs: mergeBy('ip'),
  resourceClaimStatuses: mergeBy('name', undefined, true),
};

const podTemplateSpec: SchemaNode = { metadata: struct(objectMeta), spec: struct(podSpec) };

/** A kind with `spec.template` (a pod template) and `status.conditions` merged by type. */
const workload = (spec: SchemaNode = {}): SchemaNode =>
  withMeta({ spec: struct({ template: struct(podTemplateSpec), ...spec }), status: struct({ conditions }) });

const webhooks = mergeBy('name', { matchConditions: mergeBy('name') });
const admissionPolicy = withMeta({
  spec: struct({ matchConditions: mergeBy('name'), variables: mergeBy('name') }),
});

/** Per `group/Kind` ("" is the core group). */
const kinds: ReadonlyMap<string, SchemaNode> = new Map([
  ['/Pod', withMeta({ spec: struct(podSpec), status: struct(podStatus) })],
  ['/PodTemplate', withMeta({ template: struct(podTemplateSpec) })],
  ['/ReplicationController', workload()],
  ['/Service', withMeta({ spec: struct({ ports: mergeBy('port') }), status: struct({ conditions }) })],
  [
    '/Node',
    withMeta({
      spec: struct({ podCIDRs: mergeSet }),
      status: struct({ conditions, addresses: mergeBy('type') }),
    }),
  ],
  ['/Namespace', withMeta({ status: struct({ conditions }) })],
  ['/PersistentVolumeClaim', withMeta({ status: struct({ conditions }) })],
  ['/ServiceAccount', withMeta({ secrets: mergeBy('name') })],
  ['/ComponentStatus', withMeta({ conditions })],
  ['apps/Deployment', workload({ strategy: { retainKeys: true } })],
  ['apps/ReplicaSet', workload()],
  ['apps/StatefulSet', workload()],
  ['apps/DaemonSet', workload()],
  ['batch/Job', workload()],
  [
    'batch/CronJob',
    withMeta({
      spec: struct({
        jobTemplate: struct({
          metadata: struct(objectMeta),
          spec: struct({ template: struct(podTemplateSpec) }),
        }),
      }),
    }),
  ],
  ['autoscaling/HorizontalPodAutoscaler', withMeta({ status: struct({ conditions }) })],
  [
    'policy/PodDisruptionBudget',
    withMeta({ spec: struct({ selector: { strategy: 'replace' } }), status: struct({ conditions }) }),
  ],
  ['storage.k8s.io/CSINode', withMeta({ spec: struct({ drivers: mergeBy('name') }) })],
  ['resource.k8s.io/ResourceClaim', withMeta({ status: struct({ reservedFor: mergeBy('uid') }) })],
  ['admissionregistration.k8s.io/ValidatingWebhookConfiguration', withMeta({ webhooks })],
  ['admissionregistration.k8s.io/MutatingWebhookConfiguration', withMeta({ webhooks })],
  ['admissionregistration.k8s.io/ValidatingAdmissionPolicy', admissionPolicy],
  ['admissionregistration.k8s.io/MutatingAdmissionPolicy', admissionPolicy],
  ['apiregistration.k8s.io/APIService', withMeta({ status: struct({ conditions }) })],
  ['networking.k8s.io/ServiceCIDR', withMeta({ status: struct({ conditions }) })],
]);

/** API groups served from Go types (so strategic merge patch works); all other groups are custom resources. */
export const BUILTIN_GROUPS: ReadonlySet<string> = new Set([
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

const plainKind = withMeta({});

/** The API group of an apiVersion (`v1` → "", `apps/v1` → "apps"). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The strategic-merge-patch metadata tree for a kind, or `undefined` when the kind is not built in
 * (a custom resource: strategic merge patch is unsupported). Built-in kinds without list strategies
 * (ConfigMap, Secret, Role, ...) get the tree for `metadata` alone.
 */
export function smpSchemaFor(apiVersion: string, kind: string): SchemaNode | undefined {
  const group = groupOf(apiVersion);
  if (!BUILTIN_GROUPS.has(group)) return undefined;
  return kinds.get(`${group}/${kind}`) ?? plainKind;
}
