/** findMatchingVolume's rules, one by one. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { findMatchingVolume, nodeSelectorMatches } from './match.ts';

const pvc = (spec: PersistentVolumeClaim['spec'] = {}): PersistentVolumeClaim => ({
  metadata: { name: 'c', namespace: 'ns', uid: 'u1' },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '2Gi' } },
    storageClassName: 'x',
    ...spec,
  },
});
const pv = (
  name: string,
  size: string,
  spec: PersistentVolume['spec'] = {},
  extra: Partial<PersistentVolume> = {},
) =>
  ({
    metadata: { name, ...extra.metadata },
    spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: size }, storageClassName: 'x', ...spec },
    status: { phase: 'Available', ...extra.status },
  }) as PersistentVolume;
const names = (v: PersistentVolume | undefined) => v?.metadata?.name;
const onNode = (host: string) => ({
  required: {
    nodeSelectorTerms: [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] },
    ],
  },
});
const node: Node = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', zone: '3' } } };

it('picks the smallest volume that fits', () => {
  assert.equal(
    names(findMatchingVolume(pvc(), [pv('a', '5Gi'), pv('b', '2Gi'), pv('c', '1Gi'), pv('d', '3Gi')])),
    'b',
  );
});

it('skips other classes, modes, volume modes, phases, claimed and deleting volumes', () => {
  const skipped = [
    pv('class', '5Gi', { storageClassName: 'y' }),
    pv('modes', '5Gi', { accessModes: ['ReadOnlyMany'] }),
    pv('block', '5Gi', { volumeMode: 'Block' }),
    pv('released', '5Gi', {}, { status: { phase: 'Released' } }),
    pv('claimed', '5Gi', { claimRef: { namespace: 'ns', name: 'other' } }),
    pv('deleting', '5Gi', {}, { metadata: { name: 'deleting', deletionTimestamp: '2026-01-01T00:00:00Z' } }),
  ];
  assert.equal(findMatchingVolume(pvc(), skipped), undefined);
  assert.equal(
    names(
      findMatchingVolume(pvc({ storageClassName: '' }), [pv('none', '5Gi', { storageClassName: undefined })]),
    ),
    'none',
  );
});

it('honours the selector and prefers a volume pre-bound to the claim', () => {
  const vols = [
    pv('plain', '2Gi'),
    pv('gold', '9Gi', {}, { metadata: { name: 'gold', labels: { tier: 'gold' } } }),
  ];
  assert.equal(names(findMatchingVolume(pvc({ selector: { matchLabels: { tier: 'gold' } } }), vols)), 'gold');
  const pre = pv(
    'pre',
    '1Gi',
    { claimRef: { namespace: 'ns', name: 'c' } },
    { status: { phase: 'Available' } },
  );
  assert.equal(
    names(findMatchingVolume(pvc(), [pv('a', '2Gi'), pre])),
    'pre',
    'pre-bound wins even when smaller',
  );
  const otherUid = pv('pre2', '5Gi', { claimRef: { namespace: 'ns', name: 'c', uid: 'old' } });
  assert.equal(findMatchingVolume(pvc(), [otherUid]), undefined);
});

it('late binding needs a node that the volume admits', () => {
  const vols = [
    pv('far', '2Gi', { nodeAffinity: onNode('n2') }),
    pv('near', '4Gi', { nodeAffinity: onNode('n1') }),
  ];
  assert.equal(findMatchingVolume(pvc(), vols, { delayBinding: true }), undefined);
  assert.equal(names(findMatchingVolume(pvc(), vols, { delayBinding: true, node })), 'near');
  assert.equal(names(findMatchingVolume(pvc(), vols)), 'far', 'immediate binding ignores node affinity');
});

it('node selector operators', () => {
  const m = (operator: string, values: string[], key = 'zone') =>
    nodeSelectorMatches({ nodeSelectorTerms: [{ matchExpressions: [{ key, operator, values }] }] }, node);
  assert.equal(m('In', ['3']), true);
  assert.equal(m('NotIn', ['3']), false);
  assert.equal(m('Exists', []), true);
  assert.equal(m('DoesNotExist', []), false);
  assert.equal(m('Gt', ['2']), true);
  assert.equal(m('Lt', ['2']), false);
  assert.equal(
    nodeSelectorMatches(
      { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] },
      node,
    ),
    true,
  );
  assert.equal(nodeSelectorMatches({ nodeSelectorTerms: [{}] }, node), false);
});
