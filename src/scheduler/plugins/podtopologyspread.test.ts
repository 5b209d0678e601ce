import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CycleState } from '../framework/cycle_state.ts';
import { podInfoOf } from '../framework/podinfo.ts';
import { filterAll, makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import type { Node, Pod, TopologySpreadConstraint } from '../types.ts';

const OK = { code: 0, message: '' };
const SKEW = { code: 2, message: "node(s) didn't match pod topology spread constraints" };
const NOLABEL = {
  code: 3,
  message: "node(s) didn't match pod topology spread constraints (missing required label)",
};
const ZONE = 'topology.kubernetes.io/zone';

const zoneNode = (name: string, zone?: string, extra: Record<string, string> = {}) =>
  makeNode(name, { labels: { ...(zone ? { [ZONE]: zone } : {}), ...extra } });
const web = (name: string, nodeName?: string, o: { namespace?: string; deleting?: boolean } = {}) => {
  const p = makePod(name, { nodeName, labels: { app: 'web' }, namespace: o.namespace });
  if (o.deleting) p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return p;
};

function spreadPod(c: Partial<TopologySpreadConstraint>, extra: Partial<Pod['spec']> = {}): Pod {
  const pod = web('incoming');
  pod.spec = {
    ...pod.spec,
    ...extra,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: ZONE,
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { app: 'web' } },
        ...c,
      },
    ],
  };
  return pod;
}

function run(pod: Pod, nodes: Node[], pods: Pod[]) {
  const { fw, snapshot } = testFramework({ plugins: [{ name: 'PodTopologySpread' }], nodes, pods });
  return filterAll(fw, snapshot, pod);
}

describe('PodTopologySpread filter', () => {
  const nodes = [zoneNode('a', 'z1'), zoneNode('b', 'z2'), zoneNode('c', 'z3')];
  const pods = [web('w1', 'a'), web('w2', 'a'), web('w3', 'b')];
  const cases: [string, Pod, Pod[], Node[], Record<string, unknown>][] = [
    ['maxSkew 1: only the emptiest domain', spreadPod({}), pods, nodes, { a: SKEW, b: SKEW, c: OK }],
    ['maxSkew 2', spreadPod({ maxSkew: 2 }), pods, nodes, { a: SKEW, b: OK, c: OK }],
    [
      'nodes without the topology key are unresolvable',
      spreadPod({}),
      [],
      [zoneNode('a', 'z1'), zoneNode('nolabel')],
      { a: OK, nolabel: NOLABEL },
    ],
    [
      'pods of other namespaces and terminating pods do not count',
      spreadPod({}),
      [web('x', 'a', { namespace: 'other' }), web('y', 'b', { deleting: true }), web('z', 'c')],
      nodes,
      { a: OK, b: OK, c: SKEW },
    ],
    [
      'minDomains above the number of domains makes the global minimum 0',
      spreadPod({ minDomains: 4 }),
      [web('w1', 'a'), web('w2', 'b'), web('w3', 'c')],
      nodes,
      { a: SKEW, b: SKEW, c: SKEW },
    ],
    [
      'minDomains met: skew against the real minimum',
      spreadPod({ minDomains: 3 }),
      [web('w1', 'a'), web('w2', 'b'), web('w3', 'c')],
      nodes,
      { a: OK, b: OK, c: OK },
    ],
    [
      'a pod the selector does not match counts 0 for itself',
      spreadPod({ labelSelector: { matchLabels: { app: 'db' } } }),
      pods,
      nodes,
      { a: OK, b: OK, c: OK },
    ],
  ];
  for (const [name, pod, existing, ns, want] of cases)
    it(name, () => assert.deepEqual(run(pod, ns, existing), want));

  it('nodeAffinityPolicy Honor leaves nodes the pod cannot use out of the domains', () => {
    const ns = [zoneNode('a', 'z1', { pool: 'x' }), zoneNode('b', 'z2', { pool: 'x' }), zoneNode('c', 'z3')];
    const honor = spreadPod({}, { nodeSelector: { pool: 'x' } });
    assert.deepEqual(run(honor, ns, pods), { a: SKEW, b: OK, c: OK });
    const ignore = spreadPod({ nodeAffinityPolicy: 'Ignore' }, { nodeSelector: { pool: 'x' } });
    assert.deepEqual(run(ignore, ns, pods), { a: SKEW, b: SKEW, c: OK });
  });

  it('nodeTaintsPolicy Honor leaves untolerated tainted nodes out of the domains', () => {
    const ns = [
      zoneNode('a', 'z1'),
      zoneNode('b', 'z2'),
      makeNode('c', { labels: { [ZONE]: 'z3' }, taints: [{ key: 'k', effect: 'NoSchedule' }] }),
    ];
    assert.deepEqual(run(spreadPod({ nodeTaintsPolicy: 'Honor' }), ns, pods), { a: SKEW, b: OK, c: OK });
    assert.deepEqual(run(spreadPod({}), ns, pods), { a: SKEW, b: SKEW, c: OK });
  });

  it('keeps counts right when preemption removes and re-adds pods', () => {
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'PodTopologySpread' }], nodes, pods });
    const pod = spreadPod({});
    const state = new CycleState();
    fw.runPreFilterPlugins(state, pod, snapshot.list());
    const a = snapshot.get('a')!.clone();
    const copy = state.clone();
    for (const pi of [...a.pods]) {
      a.removePod(pi.pod);
      fw.runPreFilterExtensionRemovePod(copy, pod, pi, a);
    }
    // a now has 0 pods in z1: placing there gives skew 1 - 0 = 1.
    assert.equal(fw.runFilterPlugins(copy, pod, a), undefined);
    a.addPod(pods[0]!);
    fw.runPreFilterExtensionAddPod(copy, pod, podInfoOf(pods[0]!), a);
    assert.equal(fw.runFilterPlugins(copy, pod, a)?.message(), SKEW.message);
    // The original state is untouched.
    assert.equal(fw.runFilterPlugins(state, pod, snapshot.get('c')!), undefined);
  });
});

describe('PodTopologySpread score', () => {
  it('prefers domains with fewer matching pods for ScheduleAnyway', () => {
    const nodes = [zoneNode('a', 'z1'), zoneNode('b', 'z2'), zoneNode('c', 'z3')];
    const pods = [web('w1', 'a'), web('w2', 'a'), web('w3', 'b')];
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'PodTopologySpread' }], nodes, pods });
    const scores = scoreAll(fw, snapshot, spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' }));
    assert.ok(scores.c! > scores.b! && scores.b! > scores.a!, JSON.stringify(scores));
    assert.equal(scores.c, 100);
  });

  it('scores nodes without the key 0', () => {
    const nodes = [zoneNode('a', 'z1'), zoneNode('nolabel')];
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'PodTopologySpread' }], nodes, pods: [] });
    assert.deepEqual(scoreAll(fw, snapshot, spreadPod({ whenUnsatisfiable: 'ScheduleAnyway' })), {
      a: 100,
      nolabel: 0,
    });
  });
});
