import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaSet } from '../replicaset/types.ts';
import { computeHash, fnv32a } from './hash.ts';
import {
  equalIgnoreHash,
  findNewReplicaSet,
  findOldReplicaSets,
  lastRevision,
  maxRevision,
  setNewReplicaSetAnnotations,
} from './revision.ts';
import type { Deployment } from './types.ts';

const template = (image: string, labels: Record<string, string> = { app: 'web' }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image }] },
});

function rs(
  name: string,
  revision: string | undefined,
  image: string,
  created = '2026-01-01T00:00:00Z',
): ReplicaSet {
  return {
    metadata: {
      name,
      uid: name,
      creationTimestamp: created,
      annotations: revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision },
    },
    spec: { replicas: 1, template: template(image, { app: 'web', 'pod-template-hash': name }) },
  };
}

const deployment = (image: string, annotations: Record<string, string> = {}): Deployment => ({
  metadata: { name: 'web', namespace: 'ns', annotations },
  spec: { replicas: 4, template: template(image) },
});

describe('pod-template-hash', () => {
  it('is FNV-1a of the template, in the safe alphabet, and stable', () => {
    assert.equal(fnv32a(new Uint8Array()), 0x811c9dc5);
    assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
    const h = computeHash(template('nginx'));
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(computeHash(template('nginx')), h);
    // Key order does not matter; content does.
    assert.equal(computeHash({ spec: template('nginx').spec, metadata: template('nginx').metadata }), h);
    assert.notEqual(computeHash(template('nginx:2')), h);
  });

  it('changes with the collisionCount', () => {
    const h0 = computeHash(template('nginx'));
    const h1 = computeHash(template('nginx'), 1);
    const h2 = computeHash(template('nginx'), 2);
    assert.equal(new Set([h0, h1, h2]).size, 3);
    assert.equal(computeHash(template('nginx'), 1), h1);
  });
});

describe('revisions', () => {
  it('finds the new ReplicaSet by template, ignoring the hash label; the oldest wins', () => {
    const a = rs('a', '1', 'nginx:1');
    const b = rs('b', '2', 'nginx:2', '2026-01-02T00:00:00Z');
    const b2 = rs('b2', '3', 'nginx:2', '2026-01-03T00:00:00Z');
    assert.ok(equalIgnoreHash(a.spec?.template, deployment('nginx:1').spec?.template));
    assert.equal(findNewReplicaSet(deployment('nginx:2'), [b2, a, b])?.metadata.name, 'b');
    assert.deepEqual(
      findOldReplicaSets(deployment('nginx:2'), [b2, a, b]).all.map((x) => x.metadata.name),
      ['b2', 'a'],
    );
    assert.equal(findNewReplicaSet(deployment('nginx:3'), [a, b]), undefined);
  });

  it('knows the highest and the previous revision', () => {
    const all = [rs('a', '1', 'x'), rs('b', '5', 'y'), rs('c', '3', 'z'), rs('d', 'junk', 'w')];
    assert.equal(maxRevision(all), 5);
    assert.equal(lastRevision(all), 3);
  });

  it('raises a revived ReplicaSet to the new revision and keeps the old one in revision-history', () => {
    const revived = rs('a', '1', 'nginx:1');
    const d = deployment('nginx:1', {
      'kubernetes.io/change-cause': 'undo',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'deployment.kubernetes.io/revision': '2',
    });
    assert.equal(setNewReplicaSetAnnotations(d, revived, 3, true), true);
    assert.deepEqual(revived.metadata.annotations, {
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
      'kubernetes.io/change-cause': 'undo',
    });
    // Again later: history grows.
    assert.equal(setNewReplicaSetAnnotations(d, revived, 5, true), true);
    assert.equal(revived.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1,3');
    // Nothing to do when already current.
    assert.equal(setNewReplicaSetAnnotations(d, revived, 5, true), false);
    assert.equal(setNewReplicaSetAnnotations(d, revived, 4, true), false, 'never lowered');
  });

  it('gives a ReplicaSet about to be created its desired- and max-replicas', () => {
    const fresh: ReplicaSet = { metadata: { name: 'n' }, spec: { replicas: 0 } };
    setNewReplicaSetAnnotations(deployment('x'), fresh, 1, false);
    assert.deepEqual(fresh.metadata.annotations, {
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
  });
});
