/**
 * Empties a namespace that is being deleted (kube-controller-manager's namespaced resources deleter):
 * discovers every namespaced resource that can be listed and deleted (custom resources included),
 * deletes each object (pods first), checks what remains, and reports it as the Namespace conditions
 * NamespaceDeletionDiscoveryFailure, NamespaceDeletionContentFailure, NamespaceContentRemaining and
 * NamespaceFinalizersRemaining.
 */

import { PODS } from '../../client/resources.ts';
import { isApiError } from '../../client/rest.ts';
import type { KubeObject, ResourceRef, RestClient } from '../../client/types.ts';
import { type DiscoveredResource, type Discovery, supports } from '../garbagecollector/discovery.ts';

/** How long objects with finalizers are expected to take, in seconds (finalizerEstimateSeconds). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

export interface DeletionResult {
  /** Seconds until what remains is expected to be gone (0: nothing remains, or nothing expected). */
  estimateSeconds: number;
  /** Resources with objects left, `resource.group` → count. */
  remaining: Map<string, number>;
  /** Finalizers on the objects left → how many objects carry it. */
  finalizers: Map<string, number>;
  /** Failures to discover, list or delete; the namespace cannot be finalized while there are any. */
  errors: Error[];
  /** The conditions this pass found (without lastTransitionTime). */
  conditions: NamespaceCondition[];
}

interface Pod extends KubeObject {
  spec?: { terminationGracePeriodSeconds?: number };
  status?: { phase?: string };
}

export class NamespacedResourcesDeleter {
  readonly #client: RestClient;
  readonly #discovery: Discovery;
  readonly #now: () => number;

  constructor(client: RestClient, discovery: Discovery, now: () => number) {
    this.#client = client;
    this.#discovery = discovery;
    this.#now = now;
  }

  /** Deletes everything in `namespace` (deleted at `deletedAt`, ms) and reports what is left. */
  async deleteAllContent(namespace: string, deletedAt: number): Promise<DeletionResult> {
    const result: DeletionResult = {
      estimateSeconds: 0,
      remaining: new Map(),
      finalizers: new Map(),
      errors: [],
      conditions: [],
    };
    const discovered = await this.#discovery.preferredResources();
    const deletable = discovered.resources.filter((r) => r.namespaced && supports(r, 'delete', 'list'));
    // Pods first, so that they terminate while what they use (secrets, service accounts) still exists.
    deletable.sort((a, b) => Number(isPods(b)) - Number(isPods(a)));
    const contentErrors: string[] = [];
    for (const r of deletable) {
      try {
        await this.#deleteAllOf(r, namespace, deletedAt, result);
      } catch (err) {
        result.errors.push(err as Error);
        contentErrors.push(`${r.resource}.${r.group}: ${(err as Error).message}`);
      }
    }
    const discoveryErrors = [...discovered.failed].map(([gv, err]) => `${gv}: ${err.message}`);
    for (const [gv, err] of discovered.failed) {
      result.errors.push(new Error(`discovery of ${gv} failed: ${err.message}`));
    }
    result.conditions = [
      discoveryErrors.length > 0
        ? cond(
            'NamespaceDeletionDiscoveryFailure',
            true,
            'DiscoveryFailed',
            `Discovery failed for some groups, ${discoveryErrors.length} failing: ${discoveryErrors.join(', ')}`,
          )
        : cond(
            'NamespaceDeletionDiscoveryFailure',
            false,
            'ResourcesDiscovered',
            'All resources successfully discovered',
          ),
      cond(
        'NamespaceDeletionGroupVersionParsingFailure',
        false,
        'ParsedGroupVersions',
        'All legacy kube types successfully parsed',
      ),
      contentErrors.length > 0
        ? cond(
            'NamespaceDeletionContentFailure',
            true,
            'ContentDeletionFailed',
            `Failed to delete all resource types, ${contentErrors.length} remaining: ${contentErrors.join(', ')}`,
          )
        : cond(
            'NamespaceDeletionContentFailure',
            false,
            'ContentDeleted',
            'All content successfully deleted, may be waiting on finalization',
          ),
      result.remaining.size > 0
        ? cond(
            'NamespaceContentRemaining',
            true,
            'SomeResourcesRemain',
            `Some resources are remaining: ${[...result.remaining]
              .sort()
              .map(([r, n]) => `${r} has ${n} resource instances`)
              .join(', ')}`,
          )
        : cond('NamespaceContentRemaining', false, 'ContentRemoved', 'All content successfully removed'),
      result.finalizers.size > 0
        ? cond(
            'NamespaceFinalizersRemaining',
            true,
            'SomeFinalizersRemain',
            `Some content in the namespace has finalizers remaining: ${[...result.finalizers]
              .sort()
              .map(([f, n]) => `${f} in ${n} resource instances`)
              .join(', ')}`,
          )
        : cond(
            'NamespaceFinalizersRemaining',
            false,
            'ContentHasNoFinalizers',
            'All content-preserving finalizers finished',
          ),
    ];
    return result;
  }

  async #deleteAllOf(
    r: DiscoveredResource,
    namespace: string,
    deletedAt: number,
    result: DeletionResult,
  ): Promise<void> {
    const ref: ResourceRef = {
      group: r.group,
      version: r.version,
      resource: r.resource,
      kind: r.kind,
      namespaced: true,
    };
    const estimate = isPods(r) ? await this.#estimatePods(namespace, deletedAt) : 0;
    const items = await this.#listAll(ref, namespace);
    if (items === null) return;
    for (const item of items) {
      if (item.metadata.deletionTimestamp) continue;
      try {
        await this.#client.delete(ref, namespace, item.metadata.name ?? '', {
          propagationPolicy: 'Background',
        });
      } catch (err) {
        if (!isApiError(err, 404) && !isApiError(err, 405)) throw err;
      }
    }
    const left = items.length === 0 ? [] : await this.#listAll(ref, namespace);
    if (!left || left.length === 0) return;
    const what = `${r.resource}.${r.group}`;
    result.remaining.set(what, (result.remaining.get(what) ?? 0) + left.length);
    let withFinalizers = false;
    for (const item of left) {
      for (const f of item.metadata.finalizers ?? []) {
        withFinalizers = true;
        result.finalizers.set(f, (result.finalizers.get(f) ?? 0) + 1);
      }
    }
    if (estimate > 0) result.estimateSeconds = Math.max(result.estimateSeconds, estimate);
    else if (withFinalizers)
      result.estimateSeconds = Math.max(result.estimateSeconds, FINALIZER_ESTIMATE_SECONDS);
    else throw new Error(`unexpected items still remain in namespace: ${namespace} for ${what}`);
  }

  /** Every object of `ref` in `namespace`, or null when the resource cannot be listed. */
  async #listAll(ref: ResourceRef, namespace: string): Promise<KubeObject[] | null> {
    const out: KubeObject[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await this.#client.list(ref, namespace, { limit: 500, continue: cont });
        out.push(...page.items);
        cont = page.continue;
      } while (cont);
    } catch (err) {
      if (isApiError(err, 404) || isApiError(err, 405)) return null;
      throw err;
    }
    return out;
  }

  /** The longest grace period of the namespace's running pods, less the time since the deletion began. */
  async #estimatePods(namespace: string, deletedAt: number): Promise<number> {
    const pods = (await this.#listAll(PODS, namespace)) as Pod[] | null;
    let estimate = 0;
    for (const pod of pods ?? []) {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = pod.spec?.terminationGracePeriodSeconds;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    return this.#now() - deletedAt >= estimate * 1000 ? 0 : estimate;
  }
}

function isPods(r: ResourceRef): boolean {
  return r.group === '' && r.resource === 'pods';
}

function cond(type: string, status: boolean, reason: string, message: string): NamespaceCondition {
  return { type, status: status ? 'True' : 'False', reason, message };
}
