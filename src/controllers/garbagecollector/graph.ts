/**
 * The garbage collector's dependency graph (kube-controller-manager's GraphBuilder): one node per
 * object uid, with its ownerReferences and the nodes that name it as an owner. Owners that are
 * referenced but not (yet) observed through an informer are "virtual" nodes; the collector verifies
 * them against the API and removes them with a virtual delete event when they turn out absent.
 *
 * The graph never talks to the API. It is fed every informer event (add/update/delete) and reports
 * the nodes that need a decision to its sink: attemptToDelete (is this object garbage? may this
 * foreground owner go?) and attemptToOrphan (an owner deleted with the orphan finalizer).
 */
import type { KubeObject } from '../../client/types.ts';
import { groupOf } from './discovery.ts';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Who an object is: its owner-reference coordinates and its namespace ('' when cluster-scoped). */
export interface Identity {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  namespace: string;
}

export function identityKey(id: Identity): string {
  return `${id.uid}|${groupOf(id.apiVersion)}|${id.kind}|${id.namespace}|${id.name}`;
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return identityKey(a) === identityKey(b);
}

export function identityString(id: Identity): string {
  return `${id.apiVersion}/${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} (${id.uid})`;
}

/** Owner-reference coordinates match: same uid, name, kind and API group. */
export function referenceMatches(ref: OwnerReference, id: Identity): boolean {
  return (
    ref.uid === id.uid &&
    ref.name === id.name &&
    ref.kind === id.kind &&
    groupOf(ref.apiVersion) === groupOf(id.apiVersion)
  );
}

export class GraphNode {
  identity: Identity;
  owners: OwnerReference[];
  readonly dependents = new Set<GraphNode>();
  /** Not observed through an informer yet (only referenced as an owner). */
  virtual: boolean;
  /** Has a deletionTimestamp. */
  beingDeleted = false;
  /** Being deleted in the foreground: waits for its blocking dependents. */
  deletingDependents = false;

  constructor(identity: Identity, owners: OwnerReference[], virtual: boolean) {
    this.identity = identity;
    this.owners = owners;
    this.virtual = virtual;
  }

  /** Dependents whose reference to this node has blockOwnerDeletion. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/** Where the graph sends nodes that need a decision. */
export interface GraphSink {
  attemptToDelete(node: GraphNode, rateLimited?: boolean): void;
  attemptToOrphan(node: GraphNode): void;
}

export interface GraphEvent {
  type: 'add' | 'update' | 'delete';
  identity: Identity;
  /** The object (for delete: its last known state). Absent for virtual deletes. */
  obj?: KubeObject;
  oldObj?: KubeObject;
  /** A delete the collector concluded from the API (owner absent), not an informer event. */
  virtual?: boolean;
}

/** A small LRU set of identities known to be absent (the absentOwnerCache). */
export class AbsentOwnerCache {
  readonly #max: number;
  readonly #keys = new Map<string, true>();

  constructor(max = 500) {
    this.#max = max;
  }

  add(id: Identity): void {
    const k = identityKey(id);
    this.#keys.delete(k);
    this.#keys.set(k, true);
    if (this.#keys.size > this.#max) this.#keys.delete(this.#keys.keys().next().value as string);
  }

  has(id: Identity): boolean {
    const k = identityKey(id);
    if (!this.#keys.has(k)) return false;
    this.#keys.delete(k);
    this.#keys.set(k, true);
    return true;
  }
}

function hasFinalizer(obj: KubeObject | undefined, f: string): boolean {
  return (obj?.metadata.finalizers ?? []).includes(f);
}

function beingDeleted(obj: KubeObject | undefined): boolean {
  return !!obj?.metadata.deletionTimestamp;
}

/** The object newly shows deletion with finalizer `f` (it did not before). */
function deletionStartsWithFinalizer(oldObj: KubeObject | undefined, obj: KubeObject, f: string): boolean {
  if (!beingDeleted(obj) || !hasFinalizer(obj, f)) return false;
  if (!oldObj) return true;
  return !beingDeleted(oldObj) || !hasFinalizer(oldObj, f);
}

/** Splits dependents into those whose references to the owner's uid match `owner` and the rest. */
export function partitionDependents(
  dependents: Iterable<GraphNode>,
  owner: Identity,
): { matching: GraphNode[]; nonmatching: GraphNode[] } {
  const matching: GraphNode[] = [];
  const nonmatching: GraphNode[] = [];
  const ownerNamespaced = owner.namespace !== '';
  for (const dep of dependents) {
    let match = false;
    let mismatch = false;
    if (ownerNamespaced && owner.namespace !== dep.identity.namespace) {
      mismatch = true;
    } else {
      for (const ref of dep.owners) {
        if (ref.uid !== owner.uid) continue;
        if (referenceMatches(ref, owner)) match = true;
        else mismatch = true;
      }
    }
    if (match) matching.push(dep);
    if (mismatch) nonmatching.push(dep);
  }
  return { matching, nonmatching };
}

/** Another identity dependents give the owner `absent` by (its uid, other coordinates), if any. */
function alternateOwnerIdentity(dependents: GraphNode[], absent: Identity): Identity | undefined {
  const absentClusterScoped = absent.namespace === '';
  const seen = new Set([identityKey(absent)]);
  let first: Identity | undefined;
  let firstFollowing: Identity | undefined;
  for (const dep of dependents) {
    for (const ref of dep.owners) {
      if (ref.uid !== absent.uid) continue;
      if (referenceMatches(ref, absent) && absent.namespace === dep.identity.namespace) continue;
      const id: Identity = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
        uid: ref.uid,
        namespace: dep.identity.namespace,
      };
      if (
        absentClusterScoped &&
        groupOf(id.apiVersion) === groupOf(absent.apiVersion) &&
        id.kind === absent.kind
      ) {
        id.namespace = '';
      }
      const k = identityKey(id);
      if (seen.has(k)) continue;
      seen.add(k);
      first ??= id;
      if (!firstFollowing && identityKey(absent) < k) firstFollowing = id;
    }
  }
  return firstFollowing ?? first;
}

function referencesDiff(
  old: OwnerReference[],
  next: OwnerReference[],
): {
  added: OwnerReference[];
  removed: OwnerReference[];
  changed: { oldRef: OwnerReference; newRef: OwnerReference }[];
} {
  const oldByUid = new Map(old.map((r) => [r.uid, r]));
  const newByUid = new Map(next.map((r) => [r.uid, r]));
  const added = next.filter((r) => !oldByUid.has(r.uid));
  const removed = old.filter((r) => !newByUid.has(r.uid));
  const changed: { oldRef: OwnerReference; newRef: OwnerReference }[] = [];
  for (const r of next) {
    const o = oldByUid.get(r.uid);
    if (
      o &&
      (o.apiVersion !== r.apiVersion ||
        o.kind !== r.kind ||
        o.name !== r.name ||
        !!o.controller !== !!r.controller ||
        !!o.blockOwnerDeletion !== !!r.blockOwnerDeletion)
    ) {
      changed.push({ oldRef: o, newRef: r });
    }
  }
  return { added, removed, changed };
}

function ownerRefsOf(obj: KubeObject | undefined): OwnerReference[] {
  return (obj?.metadata.ownerReferences ?? []).map((r) => ({ ...r }));
}

export class DependencyGraph {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #sink: GraphSink;
  readonly absentOwners = new AbsentOwnerCache(500);

  constructor(sink: GraphSink) {
    this.#sink = sink;
  }

  node(uid: string): GraphNode | undefined {
    return this.#nodes.get(uid);
  }

  get size(): number {
    return this.#nodes.size;
  }

  nodes(): IterableIterator<GraphNode> {
    return this.#nodes.values();
  }

  /** Applies one change (processGraphChanges). */
  process(event: GraphEvent): void {
    const { identity } = event;
    let existing = this.#nodes.get(identity.uid);
    if (existing && !event.virtual && existing.virtual) {
      // First informer event for a node known only as an owner: it is observed now.
      if (!sameIdentity(existing.identity, identity)) {
        const { nonmatching } = partitionDependents(existing.dependents, identity);
        for (const dep of nonmatching) this.#sink.attemptToDelete(dep);
        existing.identity = identity;
      }
      existing.virtual = false;
    }
    if (event.type === 'add' || event.type === 'update') {
      const obj = event.obj!;
      if (!existing) {
        const node = new GraphNode(identity, ownerRefsOf(obj), false);
        node.beingDeleted = beingDeleted(obj);
        node.deletingDependents = node.beingDeleted && hasFinalizer(obj, FINALIZER_FOREGROUND);
        this.#nodes.set(identity.uid, node);
        this.#addDependentToOwners(node, node.owners);
        this.#processTransitions(event.oldObj, obj, node);
        return;
      }
      const owners = ownerRefsOf(obj);
      const { added, removed, changed } = referencesDiff(existing.owners, owners);
      if (added.length || removed.length || changed.length) {
        this.#addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = owners;
        this.#addDependentToOwners(existing, added);
        this.#removeDependentFromOwners(existing, removed);
      }
      if (beingDeleted(obj)) existing.beingDeleted = true;
      this.#processTransitions(event.oldObj, obj, existing);
      return;
    }
    // delete
    if (!existing) return;
    let remove = true;
    if (event.virtual) {
      if (existing.virtual) {
        const { matching, nonmatching } = partitionDependents(existing.dependents, identity);
        if (nonmatching.length > 0) {
          // Some dependents name this uid differently: keep the node for them.
          remove = false;
          if (matching.length > 0) {
            this.absentOwners.add(identity);
            for (const dep of matching) this.#sink.attemptToDelete(dep);
          }
          if (sameIdentity(existing.identity, identity)) {
            const alternate = alternateOwnerIdentity(nonmatching, identity);
            if (alternate) {
              existing.identity = alternate;
              this.#sink.attemptToDelete(existing, true);
            }
          }
        }
      } else if (!sameIdentity(existing.identity, identity)) {
        // An observed node is never removed by a virtual delete of other coordinates.
        remove = false;
        const { matching } = partitionDependents(existing.dependents, identity);
        if (matching.length > 0) {
          this.absentOwners.add(identity);
          for (const dep of matching) this.#sink.attemptToDelete(dep);
        }
      }
    }
    if (!remove) return;
    existing = existing as GraphNode;
    this.#nodes.delete(identity.uid);
    this.#removeDependentFromOwners(existing, existing.owners);
    if (existing.dependents.size > 0) this.absentOwners.add(identity);
    for (const dep of existing.dependents) this.#sink.attemptToDelete(dep);
    for (const ref of existing.owners) {
      const owner = this.#nodes.get(ref.uid);
      // A foreground owner may go once its dependents are gone.
      if (owner?.deletingDependents) this.#sink.attemptToDelete(owner);
    }
  }

  #addDependentToOwners(node: GraphNode, owners: OwnerReference[]): void {
    for (const ref of owners) {
      let owner = this.#nodes.get(ref.uid);
      if (!owner) {
        // A virtual owner: the collector checks whether it exists.
        owner = new GraphNode(
          {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            name: ref.name,
            uid: ref.uid,
            namespace: node.identity.namespace,
          },
          [],
          true,
        );
        this.#nodes.set(ref.uid, owner);
        owner.dependents.add(node);
        this.#sink.attemptToDelete(owner);
        continue;
      }
      owner.dependents.add(node);
      const ownerNs = owner.identity.namespace;
      // A namespaced owner in another namespace cannot own this object: let the collector judge it.
      if (ownerNs && ownerNs !== node.identity.namespace) this.#sink.attemptToDelete(node);
    }
  }

  #removeDependentFromOwners(node: GraphNode, owners: OwnerReference[]): void {
    for (const ref of owners) this.#nodes.get(ref.uid)?.dependents.delete(node);
  }

  /** Owners whose blocking reference was removed or stopped blocking may be able to go now. */
  #addUnblockedOwnersToDeleteQueue(
    removed: OwnerReference[],
    changed: { oldRef: OwnerReference; newRef: OwnerReference }[],
  ): void {
    for (const ref of removed) {
      if (!ref.blockOwnerDeletion) continue;
      const owner = this.#nodes.get(ref.uid);
      if (owner) this.#sink.attemptToDelete(owner);
    }
    for (const { oldRef, newRef } of changed) {
      if (oldRef.blockOwnerDeletion && !newRef.blockOwnerDeletion) {
        const owner = this.#nodes.get(newRef.uid);
        if (owner) this.#sink.attemptToDelete(owner);
      }
    }
  }

  #processTransitions(oldObj: KubeObject | undefined, obj: KubeObject, node: GraphNode): void {
    if (deletionStartsWithFinalizer(oldObj, obj, FINALIZER_ORPHAN)) {
      this.#sink.attemptToOrphan(node);
      return;
    }
    if (deletionStartsWithFinalizer(oldObj, obj, FINALIZER_FOREGROUND)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.#sink.attemptToDelete(dep);
      this.#sink.attemptToDelete(node);
    }
  }
}
