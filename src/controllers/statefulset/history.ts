/**
 * ControllerRevision history (pkg/controller/history), shared by the StatefulSet and DaemonSet
 * controllers: a revision snapshots a parent's pod template as a patch
 * `{"spec":{"template":{...,"$patch":"replace"}}}`, named `<parent>-<hash>` and labelled
 * controller-revision-hash; the hash is FNV-32 of the data (and the collision count), printed the
 * way rand.SafeEncodeString prints it. Creating a revision whose name is taken by different data
 * bumps the collision count and tries again.
 */
import type { Selector } from '../../api/labels.ts';
import { CONTROLLER_REVISIONS } from '../../client/resources.ts';
import type { KubeObject, Lister, ResourceRef, RestClient } from '../../client/types.ts';
import { claimObjects } from '../job/claim.ts';
import { isAlreadyExists, newControllerRef, type PodTemplateSpec } from '../job/podutil.ts';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision: number;
}

/** JSON with object keys sorted, so that equal data hashes equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each byte mapped into an alphabet without vowels and look-alikes. */
export function safeEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s)) out += SAFE_ALPHANUMS[b % SAFE_ALPHANUMS.length];
  return out;
}

/** FNV-1 32-bit (Go's fnv.New32, which HashControllerRevision uses). */
function fnv32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= b;
  }
  return h >>> 0;
}

/** HashControllerRevision: FNV-32 of the data, then of the collision count in decimal when given. */
export function hashData(data: unknown, collisionCount?: number): string {
  let h = fnv32(Buffer.from(canonicalJson(data)));
  if (collisionCount !== undefined && collisionCount !== null)
    h = fnv32(Buffer.from(String(collisionCount)), h);
  return safeEncode(String(h));
}

/** The revision data of a parent: its pod template as a replacing patch (getPatch). */
export function templatePatch(template: PodTemplateSpec | undefined): unknown {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The pod template a revision holds (what ApplyRevision puts back into the parent). */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec {
  const t = structuredClone(
    ((rev.data as { spec?: { template?: unknown } } | undefined)?.spec?.template ?? {}) as Record<
      string,
      unknown
    >,
  );
  delete t.$patch;
  return t as PodTemplateSpec;
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** NewControllerRevision */
export function newRevision(
  parent: KubeObject,
  parentRef: ResourceRef,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const hash = hashData(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(parent.metadata.name ?? '', hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [newControllerRef(parent, parentRef)],
    },
    data,
    revision,
  };
}

export function equalRevision(a: ControllerRevision, b: ControllerRevision): boolean {
  return canonicalJson(a.data) === canonicalJson(b.data);
}

/** Oldest revision number first (then by creation and name). */
export function sortRevisions(revs: ControllerRevision[]): ControllerRevision[] {
  return revs.sort(
    (a, b) => a.revision - b.revision || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

export function nextRevisionNumber(revs: readonly ControllerRevision[]): number {
  return revs.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
}

/**
 * CreateControllerRevision: creates `rev` under a name from its hash; when the name is taken by
 * equal data returns that one, otherwise bumps `collision.count` and tries the next name.
 */
export async function createRevision(
  client: RestClient,
  parent: KubeObject,
  rev: ControllerRevision,
  collision: { count: number },
): Promise<ControllerRevision> {
  const ns = parent.metadata.namespace ?? '';
  for (;;) {
    const hash = hashData(rev.data, collision.count);
    const attempt = structuredClone(rev);
    attempt.metadata.name = revisionName(parent.metadata.name ?? '', hash);
    attempt.metadata.labels = { ...(attempt.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash };
    try {
      return await client.create<ControllerRevision>(CONTROLLER_REVISIONS, ns, attempt);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<ControllerRevision>(CONTROLLER_REVISIONS, ns, attempt.metadata.name);
      if (equalRevision(existing, attempt)) return existing;
      collision.count++;
    }
  }
}

/** UpdateControllerRevision: gives a revision a new number (a rollback to it). */
export async function renumberRevision(
  client: RestClient,
  rev: ControllerRevision,
  revision: number,
): Promise<ControllerRevision> {
  if (rev.revision === revision) return rev;
  return client.patch<ControllerRevision>(
    CONTROLLER_REVISIONS,
    rev.metadata.namespace ?? '',
    rev.metadata.name ?? '',
    'merge',
    { revision },
  );
}

/** The revisions a parent owns (adopting orphans its selector matches), oldest first. */
export async function ownedRevisions(
  client: RestClient,
  lister: Lister<ControllerRevision>,
  parent: KubeObject,
  parentRef: ResourceRef,
  selector: Selector,
): Promise<ControllerRevision[]> {
  const candidates = lister.byIndex('namespace', parent.metadata.namespace ?? '');
  const owned = await claimObjects(candidates, {
    client,
    ref: CONTROLLER_REVISIONS,
    owner: parent,
    ownerRef: parentRef,
    selector,
  });
  return sortRevisions(owned.map((r) => structuredClone(r)));
}
