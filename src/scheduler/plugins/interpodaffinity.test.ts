import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterAll, makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import type { Affinity, Namespace, Node, Pod, PodAffinityTerm } from '../types.ts';

const OK = { code: 0, message: '' };
const AFF = { code: 3, message: "node(s) didn't match pod affinity rules" };
const ANTI = { code: 2, message: "node(s) didn't match pod anti-affinity rules" };
const EXISTING = { code: 2, message: "node(s) didn't satisfy existing pods anti-affinity rules" };
const ZONE = 'topology.kubernetes.io/zone';
const HOST = 'kubernetes.io/hostname';

const nodes: Node[] = [
  makeNode('a', { labels: { [ZONE]: 'z1' } }),
  makeNode('b', { labels: { [ZONE]: 'z1' } }),
  makeNode('c', { labels: { [ZONE]: 'z2' } }),
];
const namespaces: Namespace[] = [
  { metadata: { name: 'default', labels: { team: 'a' } } },
  { metadata: { name: 'other', labels: { team: 'b' } } },
];

const term = (app: string, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({
  labelSelector: { matchLabels: { app } },
  topologyKey,
  ...extra,
});

function pod(
  name: string,
  labels: Record<string, string>,
  affinity?: Affinity,
  o: { nodeName?: string; namespace?: string } = {},
): Pod {
  return makePod(name, {
    labels,
    nodeName: o.nodeName,
    namespace: o.namespace,
    spec: { containers: [], affinity },
  });
}

function run(incoming: Pod, existing: Pod[], ns: Node[] = nodes) {
  const { fw, snapshot } = testFramework({
    plugins: [{ name: 'InterPodAffinity' }],
    nodes: ns,
    pods: existing,
    namespaces,
  });
  return filterAll(fw, snapshot, incoming);
}

const db = pod('db', { app: 'db' }, undefined, { nodeName: 'a' });
const affinity = (...t: PodAffinityTerm[]): Affinity => ({
  podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t },
});
const anti = (...t: PodAffinityTerm[]): Affinity => ({
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: t },
});

describe('InterPodAffinity filter', () => {
  const cases: [string, Pod, Pod[], Record<string, unknown>][] = [
    [
      'affinity by zone',
      pod('p', { app: 'web' }, affinity(term('db', ZONE))),
      [db],
      { a: OK, b: OK, c: AFF },
    ],
    [
      'affinity by hostname',
      pod('p', { app: 'web' }, affinity(term('db', HOST))),
      [db],
      { a: OK, b: AFF, c: AFF },
    ],
    [
      'anti-affinity by zone',
      pod('p', { app: 'web' }, anti(term('db', ZONE))),
      [db],
      { a: ANTI, b: ANTI, c: OK },
    ],
    [
      'existing pods’ anti-affinity against the incoming pod',
      pod('p', { app: 'web' }),
      [pod('lonely', { app: 'x' }, anti(term('web', HOST)), { nodeName: 'b' })],
      { a: OK, b: EXISTING, c: OK },
    ],
    [
      'the first pod of a self-affine group may go anywhere',
      pod('p', { app: 'web' }, affinity(term('web', ZONE))),
      [db],
      { a: OK, b: OK, c: OK },
    ],
    [
      'terms select only the listed namespaces',
      pod('p', { app: 'web' }, affinity(term('db', ZONE, { namespaces: ['other'] }))),
      [db],
      { a: AFF, b: AFF, c: AFF },
    ],
    [
      'namespaceSelector selects namespaces by label',
      pod(
        'p',
        { app: 'web' },
        affinity(term('db', ZONE, { namespaceSelector: { matchLabels: { team: 'a' } } })),
      ),
      [db],
      { a: OK, b: OK, c: AFF },
    ],
    [
      'an empty namespaceSelector selects every namespace',
      pod('p', { app: 'web' }, affinity(term('db', HOST, { namespaceSelector: {} }))),
      [pod('db2', { app: 'db' }, undefined, { nodeName: 'c', namespace: 'other' })],
      { a: AFF, b: AFF, c: OK },
    ],
    [
      'existing anti-affinity with a namespaceSelector matches the incoming pod’s namespace labels',
      pod('p', { app: 'web' }),
      [
        pod(
          'guard',
          { app: 'g' },
          anti(term('web', ZONE, { namespaceSelector: { matchLabels: { team: 'a' } } })),
          { nodeName: 'c', namespace: 'other' },
        ),
      ],
      { a: OK, b: OK, c: EXISTING },
    ],
  ];
  for (const [name, p, existing, want] of cases) it(name, () => assert.deepEqual(run(p, existing), want));

  it('requires the topology key on the node for affinity', () => {
    const ns = [makeNode('a', { labels: { [ZONE]: 'z1' } }), makeNode('nozone')];
    assert.deepEqual(run(pod('p', { app: 'web' }, affinity(term('web', ZONE))), [], ns), {
      a: OK,
      nozone: AFF,
    });
  });
});

describe('InterPodAffinity score', () => {
  function score(incoming: Pod, existing: Pod[]) {
    const { fw, snapshot } = testFramework({
      plugins: [{ name: 'InterPodAffinity' }],
      nodes,
      pods: existing,
      namespaces,
    });
    return scoreAll(fw, snapshot, incoming);
  }

  it('preferred affinity and anti-affinity by weight, min-max normalized', () => {
    const pref: Affinity = {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db', ZONE) }],
      },
    };
    assert.deepEqual(score(pod('p', { app: 'web' }, pref), [db]), { a: 100, b: 100, c: 0 });
    const prefAnti: Affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term('db', HOST) }],
      },
    };
    assert.deepEqual(score(pod('p', { app: 'web' }, prefAnti), [db]), { a: 0, b: 100, c: 100 });
  });

  it('existing pods’ required affinity pulls matching pods (hardPodAffinityWeight)', () => {
    const existing = pod('follower', { app: 'f' }, affinity(term('web', ZONE)), { nodeName: 'c' });
    assert.deepEqual(score(pod('p', { app: 'web' }), [existing]), { a: 0, b: 0, c: 100 });
  });
});
