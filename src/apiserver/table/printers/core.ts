/**
 * Printers for the core ("") group, after Kubernetes' pkg/printers/internalversion: services, nodes,
 * namespaces, events, config maps, secrets, service accounts, persistent volumes and claims,
 * endpoints, resource quotas, replication controllers and pod templates. Pods live in pod.ts.
 * Every row carries the wide (priority 1) cells too: the API server always prints wide.
 */

import { compareStrings } from '../../../util/strings.ts';
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, NAME_COLUMN, type Printer } from '../table.ts';
import {
  accessModes,
  CONTAINERS_COLUMN,
  formatLabels,
  IMAGES_COLUMN,
  int,
  isObj,
  layoutContainerCells,
  loadBalancerIngress,
  quantity,
  rec,
  recs,
  selectorColumn,
  since,
  size,
  str,
  timeOf,
} from './format.ts';

const name = (o: KubeObject) => o.metadata.name ?? '';
const age = (o: KubeObject, now: number) => since(o.metadata.creationTimestamp, now);
const deleting = (o: KubeObject) =>
  typeof o.metadata.deletionTimestamp === 'string' && o.metadata.deletionTimestamp !== '';

export const podTemplatePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Containers', 'string', 'Names of each container in the template.'),
    col('Images', 'string', 'Images referenced by each container in the template.'),
    col('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  row(o) {
    const template = rec(o.template);
    const [names, images] = layoutContainerCells(rec(template.spec).containers);
    return [name(o), names, images, formatLabels(rec(template.metadata).labels)];
  },
};

export const replicationControllerPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn('Selector is a label query over pods that should match the Replicas count.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const [names, images] = layoutContainerCells(rec(rec(spec.template).spec).containers);
    return [
      name(o),
      int(spec.replicas, 1),
      int(status.replicas),
      int(status.readyReplicas),
      age(o, now),
      names,
      images,
      formatLabels(spec.selector),
    ];
  },
};

/** getServiceExternalIP, as printed wide (load balancer addresses never clipped). */
function serviceExternalIP(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const externalIPs = (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).map(String);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(status.loadBalancer);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb !== '' ? lb : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
  }
  return '<unknown>';
}

/** makePortString: "80/TCP", "80:30080/TCP", comma-joined. */
function servicePorts(ports: unknown): string {
  return recs(ports)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      const nodePort = int(p.nodePort);
      return nodePort > 0 ? `${int(p.port)}:${nodePort}/${protocol}` : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', 'type determines how the Service is exposed.'),
    col(
      'Cluster-IP',
      'string',
      'clusterIP is the IP address of the service and is usually assigned randomly.',
    ),
    col(
      'External-IP',
      'string',
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
    ),
    col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    AGE_COLUMN,
    selectorColumn('Route service traffic to pods with label keys and values matching this selector.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
    const clusterIP = str(clusterIPs[0]) || str(spec.clusterIP) || '<none>';
    const ports = servicePorts(spec.ports) || '<none>';
    return [
      name(o),
      str(spec.type),
      clusterIP,
      serviceExternalIP(spec, rec(o.status)),
      ports,
      age(o, now),
      formatLabels(spec.selector),
    ];
  },
};

/** findNodeRoles: node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
function nodeRoles(labels: unknown): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(rec(labels))) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(String(v));
    }
  }
  return [...roles].sort(compareStrings);
}

function nodeAddress(status: Record<string, unknown>, type: string): string {
  return str(recs(status.addresses).find((a) => a.type === type)?.address) || '<none>';
}

export const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'string', 'List of addresses reachable to the node.', 1),
    col(
      'OS-Image',
      'string',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      1,
    ),
    col(
      'Kernel-Version',
      'string',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      1,
    ),
    col(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      1,
    ),
  ],
  row(o, now) {
    const status = rec(o.status);
    const ready = recs(status.conditions).findLast((c) => c.type === 'Ready');
    const states: string[] = [];
    if (ready) states.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    else states.push('Unknown');
    if (rec(o.spec).unschedulable === true) states.push('SchedulingDisabled');
    const info = rec(status.nodeInfo);
    return [
      name(o),
      states.join(','),
      nodeRoles(o.metadata.labels).join(',') || '<none>',
      age(o, now),
      str(info.kubeletVersion),
      nodeAddress(status, 'InternalIP'),
      nodeAddress(status, 'ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ];
  },
};

export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, col('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  row: (o, now) => [name(o), str(rec(o.status).phase), age(o, now)],
};

/**
 * printEvent. Reads core/v1 Events and events.k8s.io/v1 Events alike (the latter's regarding, note,
 * deprecatedSource, deprecatedFirstTimestamp, ... are the same fields under other names).
 */
function eventRow(o: KubeObject, now: number): unknown[] {
  const involved = rec(o.involvedObject ?? o.regarding);
  const first = o.firstTimestamp ?? o.deprecatedFirstTimestamp;
  const last = o.lastTimestamp ?? o.deprecatedLastTimestamp;
  const source = rec(o.source ?? o.deprecatedSource);
  const message = str(o.message ?? o.note);
  let count = int(o.count ?? o.deprecatedCount);

  const firstSeen = timeOf(first) !== undefined ? since(first, now) : since(o.eventTime, now);
  let lastSeen = timeOf(last) !== undefined ? since(last, now) : firstSeen;
  if (isObj(o.series)) {
    lastSeen = since(o.series.lastObservedTime, now);
    count = int(o.series.count);
  } else if (count === 0) {
    count = 1; // singleton events of the new API have no count
  }

  const kind = str(involved.kind).toLowerCase();
  const target = str(involved.name) !== '' ? `${kind}/${str(involved.name)}` : kind;
  const component = str(source.component) || str(o.reportingController);
  const instance = str(source.host) || str(o.reportingInstance);
  return [
    lastSeen,
    str(o.type),
    str(o.reason),
    target,
    str(involved.fieldPath),
    instance === '' ? component : `${component}, ${instance}`,
    message.trim(),
    firstSeen,
    count,
    name(o),
  ];
}

export const eventPrinter: Printer = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col(
      'Reason',
      'string',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col('Object', 'string', 'The object that this event is about.'),
    col(
      'Subobject',
      'string',
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].',
      1,
    ),
    col(
      'Source',
      'string',
      'The component reporting this event. Should be a short machine understandable string.',
      1,
    ),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col(
      'First Seen',
      'string',
      'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
      1,
    ),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    { ...NAME_COLUMN, priority: 1 },
  ],
  row: eventRow,
};

export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, col('Data', 'string', 'Data contains the configuration data.'), AGE_COLUMN],
  row: (o, now) => [name(o), size(o.data) + size(o.binaryData), age(o, now)],
};

export const secretPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'string', 'Data contains the secret data.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), str(o.type), size(o.data), age(o, now)],
};

export const serviceAccountPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'Secrets',
      'string',
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
    ),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), recs(o.secrets).length, age(o, now)],
};

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** helper.GetPersistentVolumeClass / GetPersistentVolumeClaimClass: the beta annotation wins. */
function storageClassOf(o: KubeObject): string {
  const annotations = o.metadata.annotations ?? {};
  if (Object.hasOwn(annotations, BETA_STORAGE_CLASS)) return String(annotations[BETA_STORAGE_CLASS]);
  return str(rec(o.spec).storageClassName);
}

export const persistentVolumePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'Capacity',
      'string',
      "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col(
      'Reclaim Policy',
      'string',
      'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.',
    ),
    col(
      'Status',
      'string',
      'phase indicates if a volume is available, bound to a claim, or released by a claim.',
    ),
    col(
      'Claim',
      'string',
      'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.',
    ),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col(
      'Reason',
      'string',
      'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.',
    ),
    AGE_COLUMN,
    col(
      'VolumeMode',
      'string',
      'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.',
      1,
    ),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const claimRef = isObj(spec.claimRef) ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : '';
    return [
      name(o),
      quantity(rec(spec.capacity).storage),
      accessModes(spec.accessModes),
      str(spec.persistentVolumeReclaimPolicy),
      deleting(o) ? 'Terminating' : str(status.phase),
      claimRef,
      storageClassOf(o),
      typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
      str(status.reason),
      age(o, now),
      typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
    ];
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col(
      'Volume',
      'string',
      'volumeName is the binding reference to the PersistentVolume backing this claim.',
    ),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col(
      'Access Modes',
      'string',
      'accessModes contains the actual access modes the volume backing the PVC has.',
    ),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    AGE_COLUMN,
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', 1),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const volumeName = str(spec.volumeName);
    const bound = volumeName !== '';
    return [
      name(o),
      deleting(o) ? 'Terminating' : str(status.phase),
      volumeName,
      bound ? quantity(rec(status.capacity).storage) : '',
      bound ? accessModes(status.accessModes) : '',
      storageClassOf(o),
      typeof spec.volumeAttributesClassName === 'string' ? spec.volumeAttributesClassName : '<unset>',
      age(o, now),
      typeof spec.volumeMode === 'string' ? spec.volumeMode : '<unset>',
    ];
  },
};

/** formatEndpoints: up to three "ip:port" (or bare IPs for port-less subsets), then "+ N more...". */
function formatEndpoints(subsets: unknown): string {
  const ss = recs(subsets);
  if (ss.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const s of ss) {
    const addresses = recs(s.addresses);
    const ports = recs(s.ports);
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a.ip));
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        const ip = str(a.ip);
        list.push(ip.includes(':') ? `[${ip}]:${int(p.port)}` : `${ip}:${int(p.port)}`);
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), formatEndpoints(o.subsets), age(o, now)],
};

/** printResourceQuota: "resource: used/hard" pairs, limits.* in LIMIT, the rest in REQUEST. */
function quotaColumns(status: Record<string, unknown>): [request: string, limit: string] {
  const hard = rec(status.hard);
  const used = rec(status.used);
  const request: string[] = [];
  const limit: string[] = [];
  for (const resource of Object.keys(hard).sort(compareStrings)) {
    const pieces = resource.split('.');
    const target = pieces.length > 1 && pieces[0] === 'limits' ? limit : request;
    target.push(`${resource}: ${quantity(used[resource])}/${quantity(hard[resource])}`);
  }
  return [request.join(', '), limit.join(', ')];
}

export const resourceQuotaPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'Request',
      'string',
      'Request represents a minimum amount of cpu/memory that a container may consume.',
    ),
    col(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
    AGE_COLUMN,
  ],
  row(o, now) {
    const [request, limit] = quotaColumns(rec(o.status));
    return [name(o), request, limit, age(o, now)];
  },
};
