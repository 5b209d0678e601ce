/**
 * The built-in resources skiff serves, with Kubernetes' names, kinds, short names, scopes,
 * categories, subresources and selectable fields (as `kubectl api-resources` shows them).
 * Per-kind defaulting and validation live in the strategies referenced here.
 */

import { applyCrdDefaults, validateCrd, validateCrdUpdate } from '../crd/schema/index.ts';
import { type KubeObject, rfc3339 } from '../object.ts';
import type { ResourceDef } from '../resource.ts';
import { extraStrategies } from './apps/index.ts';
import { coreStrategies, defaultPodSpec, validatePodTemplateSpec } from './core/index.ts';
import { defaultServiceAccountName } from './core/serviceaccount-admission.ts';
import { define, workloadStrategy } from './define.ts';

type Obj = Record<string, unknown>;

function at(obj: KubeObject, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Obj)[p];
  }
  return cur;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

/** Field values from a list of dotted paths. */
function fieldsFrom(paths: string[]): (obj: KubeObject) => Record<string, string> {
  return (obj) => Object.fromEntries(paths.map((p) => [p, str(at(obj, ...p.split('.')))]));
}

const podFields = [
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.serviceAccountName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];

const eventFields = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

const podSubresources = [
  'attach',
  'binding',
  'eviction',
  'exec',
  'log',
  'portforward',
  'proxy',
  'ephemeralcontainers',
];

const replicasScale = {
  specReplicas: ['spec', 'replicas'],
  statusReplicas: ['status', 'replicas'],
  labelSelector: ['spec', 'selector'],
};

export interface BuiltinOptions {
  /** How long Events live after their last write, in seconds (kube-apiserver --event-ttl, 1h). */
  eventTtlSeconds?: number;
  /** Tolerations every pod gets unless it has its own (DefaultTolerationSeconds admission; 300 s). */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** The ServiceAccount admission plugin is on: pods without a service account run as `default`. */
  serviceAccountAdmission?: boolean;
  /** The DefaultTolerationSeconds admission plugin is on (default true). */
  defaultTolerationSeconds?: boolean;
}

/**
 * The DefaultTolerationSeconds admission plugin: a pod that does not tolerate the not-ready and
 * unreachable NoExecute taints gets tolerations for them, so its pods stay put that long when its
 * node goes away before they are evicted.
 */
export function addDefaultTolerations(
  pod: KubeObject,
  notReadySeconds: number,
  unreachableSeconds: number,
): void {
  const spec = (pod.spec ?? {}) as Obj;
  const tolerations = (Array.isArray(spec.tolerations) ? spec.tolerations : []) as Obj[];
  const tolerates = (key: string) =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const add: Obj[] = [];
  if (!tolerates('node.kubernetes.io/not-ready')) {
    add.push({
      key: 'node.kubernetes.io/not-ready',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: notReadySeconds,
    });
  }
  if (!tolerates('node.kubernetes.io/unreachable')) {
    add.push({
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: unreachableSeconds,
    });
  }
  if (add.length > 0) {
    spec.tolerations = [...tolerations, ...add];
    pod.spec = spec;
  }
}

/**
 * Every built-in resource with its strategy: the generic parts declared here, with the per-kind
 * defaulting and validation of resources/core (core/v1) and resources/apps (the other groups)
 * merged over them.
 */
export function builtinResources(opts: BuiltinOptions = {}): ResourceDef[] {
  const core = coreStrategies();
  const extra = extraStrategies({ defaultPodSpec, validatePodTemplateSpec });
  return declaredResources(opts).map((def) => {
    const rules = def.group === '' ? core[def.resource] : extra[`${def.group}/${def.resource}`];
    return rules ? { ...def, strategy: { ...def.strategy, ...rules } } : def;
  });
}

function declaredResources(opts: BuiltinOptions): ResourceDef[] {
  const eventTtl = () => opts.eventTtlSeconds ?? 3600;
  return [
    // ---- core/v1
    define({
      version: 'v1',
      resource: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      shortNames: ['ns'],
      extraSubresources: ['finalize'],
      strategy: {
        statusSubresource: true,
        generation: false,
        prepareForCreate(obj) {
          obj.status = { phase: 'Active' };
          const spec = (obj.spec ?? {}) as Obj;
          spec.finalizers = ['kubernetes'];
          obj.spec = spec;
        },
        // A namespace with spec.finalizers turns Terminating; the namespace controller empties it,
        // clears the finalizers through /finalize, and deletes it.
        deferDelete(obj, now) {
          const finalizers = (obj.spec as { finalizers?: unknown[] } | undefined)?.finalizers ?? [];
          if (finalizers.length === 0) return false;
          obj.metadata.deletionTimestamp ??= rfc3339(now);
          obj.status = { ...(obj.status as Obj | undefined), phase: 'Terminating' };
          return true;
        },
        fieldValues: fieldsFrom(['status.phase']),
      },
      selectableFields: ['status.phase'],
    }),
    define({
      version: 'v1',
      resource: 'nodes',
      kind: 'Node',
      namespaced: false,
      shortNames: ['no'],
      extraSubresources: ['proxy'],
      strategy: {
        statusSubresource: true,
        generation: false,
        fieldValues: fieldsFrom(['spec.unschedulable']),
      },
      selectableFields: ['spec.unschedulable'],
    }),
    define({
      version: 'v1',
      resource: 'pods',
      kind: 'Pod',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      extraSubresources: podSubresources,
      strategy: {
        statusSubresource: true,
        statusWritableFrom: ['binding'],
        generation: false,
        prepareForCreate(obj) {
          obj.status = { phase: 'Pending' };
          if (opts.defaultTolerationSeconds !== false) {
            addDefaultTolerations(
              obj,
              opts.defaultNotReadyTolerationSeconds ?? 300,
              opts.defaultUnreachableTolerationSeconds ?? 300,
            );
          }
          if (opts.serviceAccountAdmission) defaultServiceAccountName(obj);
        },
        fieldValues: fieldsFrom(podFields),
        gracePeriod(obj, requested) {
          const spec = (obj.spec ?? {}) as Obj;
          const phase = str(at(obj, 'status', 'phase'));
          // Not on a node, or finished: nothing to wait for.
          if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
          if (requested !== undefined) return Math.max(0, requested);
          const t = spec.terminationGracePeriodSeconds;
          return typeof t === 'number' && t >= 0 ? t : 30;
        },
      },
      selectableFields: podFields,
    }),
    define({
      version: 'v1',
      resource: 'services',
      kind: 'Service',
      namespaced: true,
      shortNames: ['svc'],
      categories: ['all'],
      extraSubresources: ['proxy'],
      strategy: {
        statusSubresource: true,
        generation: false,
        prepareForCreate(obj) {
          obj.status = { loadBalancer: {} };
        },
        fieldValues: fieldsFrom(['spec.clusterIP', 'spec.type']),
      },
      selectableFields: ['spec.clusterIP', 'spec.type'],
    }),
    define({
      version: 'v1',
      resource: 'endpoints',
      kind: 'Endpoints',
      singular: 'endpoints',
      namespaced: true,
      shortNames: ['ep'],
    }),
    define({
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespaced: true,
      shortNames: ['cm'],
    }),
    define({
      version: 'v1',
      resource: 'secrets',
      kind: 'Secret',
      namespaced: true,
      strategy: { fieldValues: fieldsFrom(['type']) },
      selectableFields: ['type'],
    }),
    define({
      version: 'v1',
      resource: 'serviceaccounts',
      kind: 'ServiceAccount',
      namespaced: true,
      shortNames: ['sa'],
      extraSubresources: ['token'],
    }),
    define({
      version: 'v1',
      resource: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
      strategy: { fieldValues: fieldsFrom(eventFields), allowCreateOnUpdate: true, ttlSeconds: eventTtl },
      selectableFields: eventFields,
    }),
    define({
      version: 'v1',
      resource: 'persistentvolumes',
      kind: 'PersistentVolume',
      namespaced: false,
      shortNames: ['pv'],
      strategy: {
        statusSubresource: true,
        generation: false,
        prepareForCreate(obj) {
          obj.status = { phase: 'Pending' };
        },
      },
    }),
    define({
      version: 'v1',
      resource: 'persistentvolumeclaims',
      kind: 'PersistentVolumeClaim',
      namespaced: true,
      shortNames: ['pvc'],
      strategy: {
        statusSubresource: true,
        generation: false,
        prepareForCreate(obj) {
          obj.status = { phase: 'Pending' };
        },
      },
    }),
    define({
      version: 'v1',
      resource: 'limitranges',
      kind: 'LimitRange',
      namespaced: true,
      shortNames: ['limits'],
    }),
    define({
      version: 'v1',
      resource: 'resourcequotas',
      kind: 'ResourceQuota',
      namespaced: true,
      shortNames: ['quota'],
      strategy: { statusSubresource: true, generation: false },
    }),
    define({ version: 'v1', resource: 'podtemplates', kind: 'PodTemplate', namespaced: true }),

    // ---- apps/v1
    define({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      scale: replicasScale,
      strategy: workloadStrategy(),
    }),
    define({
      group: 'apps',
      version: 'v1',
      resource: 'replicasets',
      kind: 'ReplicaSet',
      namespaced: true,
      shortNames: ['rs'],
      categories: ['all'],
      scale: replicasScale,
      strategy: workloadStrategy({ fieldValues: fieldsFrom(['status.replicas']) }),
      selectableFields: ['status.replicas'],
    }),
    define({
      group: 'apps',
      version: 'v1',
      resource: 'statefulsets',
      kind: 'StatefulSet',
      namespaced: true,
      shortNames: ['sts'],
      categories: ['all'],
      scale: replicasScale,
      strategy: workloadStrategy(),
    }),
    define({
      group: 'apps',
      version: 'v1',
      resource: 'daemonsets',
      kind: 'DaemonSet',
      namespaced: true,
      shortNames: ['ds'],
      categories: ['all'],
      strategy: workloadStrategy(),
    }),
    define({
      group: 'apps',
      version: 'v1',
      resource: 'controllerrevisions',
      kind: 'ControllerRevision',
      namespaced: true,
    }),

    // ---- batch/v1
    define({
      group: 'batch',
      version: 'v1',
      resource: 'jobs',
      kind: 'Job',
      namespaced: true,
      categories: ['all'],
      strategy: workloadStrategy({ fieldValues: fieldsFrom(['status.successful']) }),
      selectableFields: ['status.successful'],
    }),
    define({
      group: 'batch',
      version: 'v1',
      resource: 'cronjobs',
      kind: 'CronJob',
      namespaced: true,
      shortNames: ['cj'],
      categories: ['all'],
      strategy: workloadStrategy(),
    }),

    // ---- coordination, discovery, events, scheduling, policy, rbac, storage
    define({
      group: 'coordination.k8s.io',
      version: 'v1',
      resource: 'leases',
      kind: 'Lease',
      namespaced: true,
    }),
    define({
      group: 'discovery.k8s.io',
      version: 'v1',
      resource: 'endpointslices',
      kind: 'EndpointSlice',
      namespaced: true,
    }),
    define({
      group: 'events.k8s.io',
      version: 'v1',
      resource: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
      strategy: { allowCreateOnUpdate: true, ttlSeconds: eventTtl },
    }),
    define({
      group: 'scheduling.k8s.io',
      version: 'v1',
      resource: 'priorityclasses',
      kind: 'PriorityClass',
      namespaced: false,
      shortNames: ['pc'],
    }),
    define({
      group: 'policy',
      version: 'v1',
      resource: 'poddisruptionbudgets',
      kind: 'PodDisruptionBudget',
      namespaced: true,
      shortNames: ['pdb'],
      strategy: workloadStrategy(),
    }),
    define({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterrolebindings',
      kind: 'ClusterRoleBinding',
      namespaced: false,
    }),
    define({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'clusterroles',
      kind: 'ClusterRole',
      namespaced: false,
    }),
    define({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'rolebindings',
      kind: 'RoleBinding',
      namespaced: true,
    }),
    define({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      resource: 'roles',
      kind: 'Role',
      namespaced: true,
    }),
    define({
      group: 'storage.k8s.io',
      version: 'v1',
      resource: 'storageclasses',
      kind: 'StorageClass',
      namespaced: false,
      shortNames: ['sc'],
    }),
    define({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      strategy: workloadStrategy({
        prepareForCreate(obj) {
          obj.status = {};
          // Deleting a CRD first deletes its custom resources (crd/manager.ts).
          const finalizers = new Set(obj.metadata.finalizers ?? []);
          finalizers.add('customresourcecleanup.apiextensions.k8s.io');
          obj.metadata.finalizers = [...finalizers];
        },
        defaults(obj) {
          applyCrdDefaults(obj as never);
        },
        validate(obj) {
          return validateCrd(obj);
        },
        validateUpdate(obj, old) {
          return validateCrdUpdate(obj, old);
        },
      }),
    }),
  ];
}
