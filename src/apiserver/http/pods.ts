/**
 * The pod subresources with their own logic: binding (how the scheduler places a pod) and eviction
 * (a delete that honours PodDisruptionBudgets), as kube-apiserver's pod REST storage has them.
 */
import { ApiError, FieldError } from '../../api/errors.ts';
import { labelSelectorAsSelector } from '../../api/labels.ts';
import { isPlainObject, type KubeObject, rfc3339 } from '../object.ts';
import type { DeleteOptions, Registry } from '../registry/registry.ts';
import type { ResourceDef } from '../resource.ts';

const BINDING = { group: '', resource: 'pods/binding' };

/**
 * Binds a pod to a node (BindingREST): sets spec.nodeName once, merges the Binding's annotations
 * into the pod's, and sets PodScheduled=True — one write straight to storage, as Kubernetes'
 * setPodNodeAndMetadata does with a storage GuaranteedUpdate: no validation, no managedFields. The
 * Binding's metadata.uid and metadata.resourceVersion, when set, are preconditions on the pod.
 */
export async function bindPod(
  registry: Registry,
  pods: ResourceDef,
  namespace: string,
  name: string,
  body: unknown,
  now: number,
  opts: { dryRun: boolean; user: string },
): Promise<void> {
  if (!isPlainObject(body)) throw ApiError.badRequest('the body must be a v1 Binding');
  const target = body.target as { kind?: unknown; name?: unknown } | undefined;
  const meta = (isPlainObject(body.metadata) ? body.metadata : {}) as {
    name?: unknown;
    uid?: unknown;
    resourceVersion?: unknown;
    annotations?: unknown;
  };
  if (meta.name !== undefined && meta.name !== name) {
    throw ApiError.badRequest(
      `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`,
    );
  }
  const node = typeof target?.name === 'string' ? target.name : '';
  if (!node) throw ApiError.invalid('', 'Binding', name, [FieldError.required('target.name')]);
  if (target?.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
    throw ApiError.invalid('', 'Binding', name, [
      FieldError.notSupported('target.kind', target.kind, ['Node']),
    ]);
  }
  const annotations: Record<string, string> = {};
  if (isPlainObject(meta.annotations)) {
    for (const [k, v] of Object.entries(meta.annotations)) if (typeof v === 'string') annotations[k] = v;
  }
  const preconditions = {
    uid: typeof meta.uid === 'string' ? meta.uid : undefined,
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined,
  };
  await registry.updateStored(
    pods,
    namespace,
    name,
    (pod) => {
      if (pod.metadata.deletionTimestamp) {
        throw ApiError.conflict(BINDING, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      }
      const spec = (pod.spec ?? {}) as { nodeName?: string; schedulingGates?: unknown[] };
      if (spec.nodeName) {
        throw ApiError.conflict(BINDING, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      if ((spec.schedulingGates ?? []).length > 0) {
        throw ApiError.conflict(BINDING, name, `pod ${name} has non-empty .spec.schedulingGates`);
      }
      pod.spec = { ...spec, nodeName: node };
      if (Object.keys(annotations).length > 0) {
        pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
      }
      // podutil.UpdatePodCondition: PodScheduled=True, its transition time now.
      const status = (pod.status ?? {}) as { conditions?: Record<string, unknown>[] };
      const conditions = [...(status.conditions ?? [])];
      const i = conditions.findIndex((c) => c.type === 'PodScheduled');
      const old = i >= 0 ? conditions[i] : undefined;
      const condition: Record<string, unknown> = {
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime:
          old?.status === 'True' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now),
      };
      if (i >= 0) conditions[i] = condition;
      else conditions.push(condition);
      pod.status = { ...status, conditions };
      return pod;
    },
    { dryRun: opts.dryRun, preconditions },
  );
}

function tooMany(cause: string): ApiError {
  const err = new ApiError(
    429,
    'TooManyRequests',
    "Cannot evict pod as it would violate the pod's disruption budget.",
    {
      causes: [{ reason: 'DisruptionBudget', message: cause }],
    },
  );
  return err;
}

/**
 * Evicts a pod: deletes it unless a PodDisruptionBudget covering it allows no disruption now (429),
 * decrementing the budget's disruptionsAllowed as it goes. Pods that are not running are deleted
 * without consulting budgets.
 */
export async function evictPod(
  registry: Registry,
  pods: ResourceDef,
  pdbs: ResourceDef,
  namespace: string,
  name: string,
  body: unknown,
  now: number,
  opts: { dryRun: boolean; user: string },
): Promise<void> {
  if (!isPlainObject(body)) throw ApiError.badRequest('the body must be a policy/v1 Eviction');
  const meta = (body.metadata ?? {}) as { name?: unknown };
  if (meta.name !== undefined && meta.name !== name) {
    throw ApiError.badRequest(`name in URL does not match name in Eviction object`);
  }
  const del = (isPlainObject(body.deleteOptions) ? body.deleteOptions : {}) as {
    gracePeriodSeconds?: number;
    preconditions?: { uid?: string; resourceVersion?: string };
  };
  const deleteOpts: DeleteOptions = {
    user: opts.user,
    dryRun: opts.dryRun,
    gracePeriodSeconds: typeof del.gracePeriodSeconds === 'number' ? del.gracePeriodSeconds : undefined,
    preconditions: del.preconditions,
  };
  const pod = await registry.get(pods, namespace, name);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const ignoreBudgets =
    pod.metadata.deletionTimestamp !== undefined ||
    phase === 'Succeeded' ||
    phase === 'Failed' ||
    phase === 'Pending';
  if (!ignoreBudgets) {
    const budgets = (await registry.list(pdbs, namespace)).items.filter((pdb) => {
      const selector = (pdb.spec as { selector?: unknown } | undefined)?.selector;
      if (!isPlainObject(selector)) return false;
      try {
        const sel = labelSelectorAsSelector(selector);
        return !sel.isEmpty() && sel.matches(pod.metadata.labels);
      } catch {
        return false;
      }
    });
    if (budgets.length > 1) {
      throw ApiError.internal(
        'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      );
    }
    const budget = budgets[0];
    if (budget) await takeDisruption(registry, pdbs, budget, name, now, opts);
  }
  await registry.delete(pods, namespace, name, deleteOpts);
}

async function takeDisruption(
  registry: Registry,
  pdbs: ResourceDef,
  budget: KubeObject,
  podName: string,
  now: number,
  opts: { dryRun: boolean; user: string },
): Promise<void> {
  const pdbName = budget.metadata.name ?? '';
  await registry.patch(
    pdbs,
    budget.metadata.namespace ?? '',
    pdbName,
    (pdb) => {
      if (!pdb) throw ApiError.notFound({ group: 'policy', resource: 'poddisruptionbudgets' }, pdbName);
      const status = (pdb.status ?? {}) as {
        observedGeneration?: number;
        disruptionsAllowed?: number;
        disruptedPods?: Record<string, string>;
        currentHealthy?: number;
        desiredHealthy?: number;
      };
      if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
        throw tooMany(`The disruption budget ${pdbName} is still being processed by the server.`);
      }
      const allowed = status.disruptionsAllowed ?? 0;
      if (allowed < 0)
        throw ApiError.forbidden(
          { group: 'policy', resource: 'poddisruptionbudgets' },
          pdbName,
          'pdb disruptions allowed is negative',
        );
      if (allowed === 0) {
        throw tooMany(
          `The disruption budget ${pdbName} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`,
        );
      }
      pdb.status = {
        ...status,
        disruptionsAllowed: allowed - 1,
        disruptedPods: { ...(status.disruptedPods ?? {}), [podName]: rfc3339(now) },
      };
      return pdb;
    },
    { subresource: 'status', dryRun: opts.dryRun, user: opts.user },
  );
}
