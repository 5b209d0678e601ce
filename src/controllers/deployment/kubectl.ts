/**
 * What kubectl does with Deployments on the client side (k8s.io/kubectl pkg/polymorphichelpers),
 * so that tests (and skiff's own tools) can check the controller against kubectl's expectations:
 *
 * - rolloutStatus: DeploymentStatusViewer — done once observedGeneration ≥ generation,
 *   updatedReplicas == spec.replicas, no old replicas left, and every updated one available;
 * - rolloutUndo: DeploymentRollbacker — the template of the ReplicaSet of a revision (default: the
 *   previous one) and its annotations are patched into the Deployment (a JSON patch);
 * - rolloutRestart: the kubectl.kubernetes.io/restartedAt template annotation;
 * - rolloutHistory: revisions and change-causes from the ReplicaSets.
 */
import { labelSelectorAsSelector, selectorToString } from '../../api/labels.ts';
import { DEPLOYMENTS, REPLICA_SETS } from '../../client/resources.ts';
import type { RestClient } from '../../client/types.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import { controllerRefOf } from '../util/pods.ts';
import { getCondition } from './conditions.ts';
import { ANNOTATIONS_TO_SKIP, equalIgnoreHash, revisionOf, withoutHash } from './revision.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  type Deployment,
  PROGRESSING,
  REASON_TIMED_OUT,
  RESTARTED_AT_ANNOTATION,
} from './types.ts';

export interface RolloutStatus {
  /** What kubectl prints. */
  message: string;
  done: boolean;
}

/** DeploymentStatusViewer.Status; throws where kubectl fails (deadline exceeded, wrong revision). */
export function rolloutStatus(d: Deployment, revision = 0): RolloutStatus {
  const name = d.metadata.name ?? '';
  if (revision > 0) {
    const current = revisionOf(d) ?? 0;
    if (revision !== current) {
      throw new Error(`desired revision (${revision}) is different from the running revision (${current})`);
    }
  }
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0)) {
    if (getCondition(s, PROGRESSING)?.reason === REASON_TIMED_OUT) {
      throw new Error(`deployment "${name}" exceeded its progress deadline`);
    }
    const updated = s.updatedReplicas ?? 0;
    const replicas = s.replicas ?? 0;
    const available = s.availableReplicas ?? 0;
    if (d.spec?.replicas !== undefined && updated < d.spec.replicas) {
      return {
        message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${d.spec.replicas} new replicas have been updated...\n`,
        done: false,
      };
    }
    if (replicas > updated) {
      return {
        message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...\n`,
        done: false,
      };
    }
    if (available < updated) {
      return {
        message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...\n`,
        done: false,
      };
    }
    return { message: `deployment "${name}" successfully rolled out\n`, done: true };
  }
  return { message: 'Waiting for deployment spec update to be observed...\n', done: false };
}

/** deploymentutil.GetAllReplicaSets as kubectl has it: the ReplicaSets the Deployment controls. */
export async function replicaSetsOf(client: RestClient, d: Deployment): Promise<ReplicaSet[]> {
  const selector = selectorToString(labelSelectorAsSelector(d.spec?.selector));
  const { items } = await client.list<ReplicaSet>(REPLICA_SETS, d.metadata.namespace ?? '', {
    labelSelector: selector,
  });
  return items.filter((rs) => controllerRefOf(rs)?.uid === d.metadata.uid);
}

/** deploymentRevision: the ReplicaSet of `toRevision`, or (0) of the revision before the latest. */
function replicaSetOfRevision(d: Deployment, rss: ReplicaSet[], toRevision: number): ReplicaSet {
  let latest: ReplicaSet | undefined;
  let latestRevision = -1;
  let previous: ReplicaSet | undefined;
  let previousRevision = -1;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (toRevision === 0) {
      if (latestRevision < v) {
        previousRevision = latestRevision;
        previous = latest;
        latestRevision = v;
        latest = rs;
      } else if (previousRevision < v) {
        previousRevision = v;
        previous = rs;
      }
    } else if (toRevision === v) {
      return rs;
    }
  }
  if (toRevision > 0) throw new Error(`unable to find specified revision ${toRevision} in history`);
  if (!previous) throw new Error(`no rollout history found for deployment "${d.metadata.name}"`);
  return previous;
}

/**
 * `kubectl rollout undo deployment/<name> [--to-revision=N]`: returns kubectl's message
 * ("rolled back", or "skipped rollback (current template already matches revision N)").
 */
export async function rolloutUndo(
  client: RestClient,
  namespace: string,
  name: string,
  toRevision = 0,
): Promise<string> {
  if (toRevision < 0) throw new Error(`unable to find specified revision ${toRevision} in history`);
  const d = await client.get<Deployment>(DEPLOYMENTS, namespace, name);
  const rss = await replicaSetsOf(client, d);
  const target = replicaSetOfRevision(d, rss, toRevision);
  if (d.spec?.paused) {
    throw new Error(
      "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    );
  }
  if (equalIgnoreHash(target.spec?.template, d.spec?.template)) {
    return `skipped rollback (current template already matches revision ${toRevision})`;
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {}))
    if (ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(target.metadata.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  }
  await client.patch(DEPLOYMENTS, namespace, name, 'json', [
    { op: 'replace', path: '/spec/template', value: withoutHash(target.spec?.template) },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ]);
  return 'rolled back';
}

/** `kubectl rollout restart deployment/<name>`: a strategic merge patch of the restartedAt annotation. */
export async function rolloutRestart(
  client: RestClient,
  namespace: string,
  name: string,
  now: Date = new Date(),
): Promise<Deployment> {
  const at = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return client.patch<Deployment>(DEPLOYMENTS, namespace, name, 'strategic', {
    spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: at } } } },
  });
}

export interface RevisionEntry {
  revision: number;
  changeCause: string | undefined;
  replicaSet: string;
}

/** `kubectl rollout history deployment/<name>`: revisions in order, with their change-cause. */
export async function rolloutHistory(
  client: RestClient,
  namespace: string,
  name: string,
): Promise<RevisionEntry[]> {
  const d = await client.get<Deployment>(DEPLOYMENTS, namespace, name);
  const rss = await replicaSetsOf(client, d);
  const entries: RevisionEntry[] = [];
  for (const rs of rss) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    entries.push({
      revision,
      changeCause: rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION],
      replicaSet: rs.metadata.name ?? '',
    });
  }
  return entries.sort((a, b) => a.revision - b.revision);
}
