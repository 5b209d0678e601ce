/** The dependency graph: nodes, virtual owners, and what each change asks the collector to look at. */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { KubeObject } from '../../client/types.ts';
import { DependencyGraph, type GraphNode, type Identity, type OwnerReference } from './graph.ts';

function id(name: string, uid = `uid-${name}`, namespace = 'ns', kind = 'ConfigMap'): Identity {
  return { apiVersion: 'v1', kind, name, uid, namespace };
}

function ref(owner: Identity, block = false): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    blockOwnerDeletion: block,
  };
}

function obj(i: Identity, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name: i.name, uid: i.uid, namespace: i.namespace || undefined, ...meta } };
}

describe('DependencyGraph', () => {
  let deletes: string[];
  let orphans: string[];
  let graph: DependencyGraph;
  const add = (i: Identity, meta: Partial<KubeObject['metadata']> = {}, old?: KubeObject) =>
    graph.process({ type: old ? 'update' : 'add', identity: i, obj: obj(i, meta), oldObj: old });

  beforeEach(() => {
    deletes = [];
    orphans = [];
    graph = new DependencyGraph({
      attemptToDelete: (n: GraphNode) => deletes.push(n.identity.name),
      attemptToOrphan: (n: GraphNode) => orphans.push(n.identity.name),
    });
  });

  it('makes a virtual node for an owner not yet observed and asks for it to be verified', () => {
    const owner = id('owner');
    add(id('dep'), { ownerReferences: [ref(owner)] });
    const node = graph.node(owner.uid);
    assert.ok(node?.virtual);
    assert.deepEqual(
      [...node.dependents].map((d) => d.identity.name),
      ['dep'],
    );
    assert.deepEqual(deletes, ['owner']);
  });

  it('marks a virtual node observed when its object arrives, questioning dependents that name it differently', () => {
    const owner = id('owner');
    add(id('bad'), { ownerReferences: [{ ...ref(owner), name: 'other-name' }] });
    add(id('good'), { ownerReferences: [ref(owner)] });
    assert.equal(
      graph.node(owner.uid)?.identity.name,
      'other-name',
      'the first reference names the virtual node',
    );
    deletes = [];
    add(owner);
    const node = graph.node(owner.uid)!;
    assert.equal(node.virtual, false);
    assert.equal(node.identity.name, 'owner');
    assert.deepEqual(deletes, ['bad']);
  });

  it('on an owner delete, records it absent and asks about each dependent', () => {
    const owner = id('owner');
    add(owner);
    add(id('a'), { ownerReferences: [ref(owner)] });
    add(id('b'), { ownerReferences: [ref(owner)] });
    deletes = [];
    graph.process({ type: 'delete', identity: owner, obj: obj(owner) });
    assert.equal(graph.node(owner.uid), undefined);
    assert.deepEqual(deletes.sort(), ['a', 'b']);
    assert.ok(graph.absentOwners.has(owner));
  });

  it('starts a foreground deletion: marks the owner and asks about its dependents and itself', () => {
    const owner = id('owner');
    add(owner);
    add(id('a'), { ownerReferences: [ref(owner, true)] });
    deletes = [];
    add(owner, { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }, obj(owner));
    assert.equal(graph.node(owner.uid)?.deletingDependents, true);
    assert.deepEqual(deletes, ['a', 'owner']);
    // Seen again (e.g. a resync): no new transition.
    deletes = [];
    const same = obj(owner, {
      deletionTimestamp: '2026-01-01T00:00:00Z',
      finalizers: ['foregroundDeletion'],
    });
    add(owner, same.metadata, same);
    assert.deepEqual(deletes, []);
  });

  it('starts orphaning when an owner is deleted with the orphan finalizer', () => {
    const owner = id('owner');
    add(owner);
    add(owner, { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] }, obj(owner));
    assert.deepEqual(orphans, ['owner']);
  });

  it('asks about a foreground owner once a dependent is gone or stops blocking it', () => {
    const owner = id('owner');
    add(owner, { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    add(id('a'), { ownerReferences: [ref(owner, true)] });
    add(id('b'), { ownerReferences: [ref(owner, true)] });
    deletes = [];
    graph.process({ type: 'delete', identity: id('a'), obj: obj(id('a')) });
    assert.deepEqual(deletes, ['owner']);
    assert.deepEqual(
      graph
        .node(owner.uid)
        ?.blockingDependents()
        .map((d) => d.identity.name),
      ['b'],
    );
    deletes = [];
    add(
      id('b'),
      { ownerReferences: [ref(owner, false)] },
      obj(id('b'), { ownerReferences: [ref(owner, true)] }),
    );
    assert.deepEqual(deletes, ['owner']);
    assert.deepEqual(graph.node(owner.uid)?.blockingDependents(), []);
  });

  it('moves a dependent between owners when its references change', () => {
    const o1 = id('o1');
    const o2 = id('o2');
    add(o1);
    add(o2);
    add(id('d'), { ownerReferences: [ref(o1)] });
    add(id('d'), { ownerReferences: [ref(o2)] }, obj(id('d'), { ownerReferences: [ref(o1)] }));
    assert.equal(graph.node(o1.uid)?.dependents.size, 0);
    assert.equal(graph.node(o2.uid)?.dependents.size, 1);
  });

  it('removes a virtual node on a virtual delete, asking about its dependents', () => {
    const owner = id('owner');
    add(id('d'), { ownerReferences: [ref(owner)] });
    deletes = [];
    graph.process({ type: 'delete', identity: owner, virtual: true });
    assert.equal(graph.node(owner.uid), undefined);
    assert.deepEqual(deletes, ['d']);
  });

  it('keeps a virtual node that dependents name by other coordinates, trying the next identity', () => {
    const owner = id('owner');
    add(id('d1'), { ownerReferences: [ref(owner)] });
    add(id('d2'), { ownerReferences: [{ ...ref(owner), kind: 'Secret' }] });
    deletes = [];
    graph.process({ type: 'delete', identity: owner, virtual: true });
    const node = graph.node(owner.uid);
    assert.ok(node, 'kept for d2');
    assert.equal(node.identity.kind, 'Secret');
    assert.deepEqual(deletes.sort(), ['d1', 'owner']);
    assert.ok(graph.absentOwners.has(owner));
  });

  it('never removes an observed node on a virtual delete of other coordinates', () => {
    const owner = id('owner');
    add(owner);
    add(id('d'), { ownerReferences: [{ ...ref(owner), name: 'wrong' }] });
    deletes = [];
    graph.process({ type: 'delete', identity: { ...owner, name: 'wrong' }, virtual: true });
    assert.ok(graph.node(owner.uid));
    assert.deepEqual(deletes, ['d']);
  });

  it('questions a dependent that names an observed namespaced owner in another namespace', () => {
    const owner = id('owner', 'uid-owner', 'other');
    add(owner);
    deletes = [];
    add(id('d'), { ownerReferences: [ref(owner)] });
    assert.deepEqual(deletes, ['d']);
  });
});
