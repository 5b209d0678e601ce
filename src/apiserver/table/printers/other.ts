/**
 * Printers for the smaller groups, after Kubernetes' printEndpointSlice (discovery.k8s.io),
 * printLease (coordination.k8s.io), printPriorityClass (scheduling.k8s.io),
 * printPodDisruptionBudget (policy), printStorageClass (storage.k8s.io) and
 * printRoleBinding / printClusterRoleBinding (rbac.authorization.k8s.io).
 * Roles, ClusterRoles, LimitRanges and CustomResourceDefinitions have no printer in Kubernetes:
 * they get the default table (NAME, CREATED AT).
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, NAME_COLUMN, type Printer } from '../table.ts';
import { bool, int, intOrString, listWithMore, rec, recs, since, str } from './format.ts';

const name = (o: KubeObject) => o.metadata.name ?? '';
const age = (o: KubeObject, now: number) => since(o.metadata.creationTimestamp, now);

/** formatDiscoveryPorts: up to three port numbers (or names, or "*"). */
function discoveryPorts(ports: unknown): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const p of recs(ports)) {
    if (list.length < max) {
      list.push(typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*');
    } else if (list.length === max) {
      more = true;
    }
    count++;
  }
  return listWithMore(list, more, count, max);
}

/** formatDiscoveryEndpoints: up to three addresses across all endpoints. */
function discoveryEndpoints(endpoints: unknown): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const e of recs(endpoints)) {
    for (const address of Array.isArray(e.addresses) ? e.addresses : []) {
      if (list.length < max) list.push(str(address));
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice.'),
    col(
      'Ports',
      'string',
      'ports specifies the list of network ports exposed by each endpoint in this slice.',
    ),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [
    name(o),
    str(o.addressType),
    discoveryPorts(o.ports),
    discoveryEndpoints(o.endpoints),
    age(o, now),
  ],
};

export const leasePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), str(rec(o.spec).holderIdentity), age(o, now)],
};

export const priorityClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Value', 'integer', 'value represents the integer value of this priority class.'),
    col(
      'Global-Default',
      'boolean',
      'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.',
    ),
    AGE_COLUMN,
    col(
      'PreemptionPolicy',
      'string',
      'preemptionPolicy is the Policy for preempting pods with lower priority.',
      1,
    ),
  ],
  row: (o, now) => [name(o), int(o.value), bool(o.globalDefault), age(o, now), str(o.preemptionPolicy)],
};

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const present = (v: unknown) => v !== undefined && v !== null;
    return [
      name(o),
      present(spec.minAvailable) ? intOrString(spec.minAvailable) : 'N/A',
      present(spec.maxUnavailable) ? intOrString(spec.maxUnavailable) : 'N/A',
      int(rec(o.status).disruptionsAllowed),
      age(o, now),
    ];
  },
};

/** storageutil.IsDefaultAnnotation */
function isDefaultClass(o: KubeObject): boolean {
  const a = o.metadata.annotations ?? {};
  return (
    a['storageclass.kubernetes.io/is-default-class'] === 'true' ||
    a['storageclass.beta.kubernetes.io/is-default-class'] === 'true'
  );
}

export const storageClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
    col(
      'ReclaimPolicy',
      'string',
      'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.',
    ),
    col(
      'VolumeBindingMode',
      'string',
      'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.',
    ),
    col(
      'AllowVolumeExpansion',
      'string',
      'allowVolumeExpansion shows whether the storage class allow volume expand.',
    ),
    AGE_COLUMN,
  ],
  row: (o, now) => [
    isDefaultClass(o) ? `${name(o)} (default)` : name(o),
    str(o.provisioner),
    str(o.reclaimPolicy) || 'Delete',
    str(o.volumeBindingMode) || 'Immediate',
    bool(o.allowVolumeExpansion),
    age(o, now),
  ],
};

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
function subjects(list: unknown): [users: string, groups: string, serviceAccounts: string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of recs(list)) {
    if (s.kind === 'ServiceAccount') sas.push(`${str(s.namespace)}/${str(s.name)}`);
    else if (s.kind === 'User') users.push(str(s.name));
    else if (s.kind === 'Group') groups.push(str(s.name));
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

function bindingPrinter(what: string): Printer {
  return {
    columns: [
      NAME_COLUMN,
      col('Role', 'string', 'RoleRef can only reference a ClusterRole in the global namespace.'),
      AGE_COLUMN,
      col('Users', 'string', `Users in the ${what}`, 1),
      col('Groups', 'string', `Groups in the ${what}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    row(o, now) {
      const ref = rec(o.roleRef);
      return [name(o), `${str(ref.kind)}/${str(ref.name)}`, age(o, now), ...subjects(o.subjects)];
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');
