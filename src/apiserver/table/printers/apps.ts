/**
 * Printers for the apps group: deployments, replica sets, stateful sets, daemon sets and controller
 * revisions, after Kubernetes' printDeployment, printReplicaSet, printStatefulSet, printDaemonSet and
 * printControllerRevision. Rows include the wide cells (CONTAINERS, IMAGES, SELECTOR).
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, NAME_COLUMN, type Printer } from '../table.ts';
import {
  CONTAINERS_COLUMN,
  formatLabelSelector,
  formatLabels,
  IMAGES_COLUMN,
  int,
  layoutContainerCells,
  rec,
  selectorColumn,
  selectorString,
  since,
  str,
} from './format.ts';

const name = (o: KubeObject) => o.metadata.name ?? '';
const age = (o: KubeObject, now: number) => since(o.metadata.creationTimestamp, now);
/** The containers of spec.template.spec. */
const templateContainers = (spec: Record<string, unknown>) =>
  layoutContainerCells(rec(rec(spec.template).spec).containers);

export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col(
      'Up-to-date',
      'string',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    col(
      'Available',
      'string',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn(
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    ),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    let selector: string;
    try {
      selector = selectorString(spec.selector);
    } catch {
      selector = '<invalid>';
    }
    const [names, images] = templateContainers(spec);
    return [
      name(o),
      `${int(status.readyReplicas)}/${int(spec.replicas, 1)}`,
      int(status.updatedReplicas),
      int(status.availableReplicas),
      age(o, now),
      names,
      images,
      selector,
    ];
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn('Selector is a label query over pods that should match the replica count.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const [names, images] = templateContainers(spec);
    return [
      name(o),
      int(spec.replicas, 1),
      int(status.replicas),
      int(status.readyReplicas),
      age(o, now),
      names,
      images,
      formatLabelSelector(spec.selector),
    ];
  },
};

export const statefulSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', 'Number of the pod with ready state'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const [names, images] = templateContainers(spec);
    return [
      name(o),
      `${int(rec(o.status).readyReplicas)}/${int(spec.replicas, 1)}`,
      age(o, now),
      names,
      images,
    ];
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'Desired',
      'integer',
      'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).',
    ),
    col(
      'Current',
      'integer',
      'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
    ),
    col(
      'Ready',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    ),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col(
      'Available',
      'integer',
      'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
    ),
    col(
      'Node Selector',
      'string',
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node.",
    ),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    selectorColumn('A label query over pods that are managed by the daemon set.'),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const [names, images] = templateContainers(spec);
    return [
      name(o),
      int(status.desiredNumberScheduled),
      int(status.currentNumberScheduled),
      int(status.numberReady),
      int(status.updatedNumberScheduled),
      int(status.numberAvailable),
      formatLabels(rec(rec(spec.template).spec).nodeSelector),
      age(o, now),
      names,
      images,
      formatLabelSelector(spec.selector),
    ];
  },
};

/** The controller of an object as "kind.group/name" (lower-cased kind and group), or "<none>". */
export function controllerName(o: KubeObject): string {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const apiVersion = str(ref.apiVersion);
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const kind = str(ref.kind);
  if (group === '' && kind === '') return str(ref.name);
  const groupKind = group === '' ? kind : `${kind}.${group}`;
  return `${groupKind.toLowerCase()}/${str(ref.name)}`;
}

export const controllerRevisionPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', 'Controller of the object'),
    col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), controllerName(o), int(o.revision), age(o, now)],
};
