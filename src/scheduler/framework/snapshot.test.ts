import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { SchedulerCache } from '../cache.ts';
import { makeNode, makePod, seeded } from '../testing.ts';
import type { Pod } from '../types.ts';
import { CycleState, type StateData, StateReader } from './cycle_state.ts';
import { NodeInfo } from './nodeinfo.ts';
import { podInfoOf } from './podinfo.ts';
import { Snapshot } from './snapshot.ts';

const names = (list: readonly NodeInfo[]) => list.map((ni) => ni.name);

function podOfKind(kind: number, name: string, node: string): Pod {
  const labels = { app: 'x' };
  const term = { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' };
  const spec: Pod['spec'] = {};
  if (kind === 1)
    spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  if (kind === 2) spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  if (kind === 3) {
    spec.affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term }],
      },
    };
  }
  const p = makePod(name, { cpu: '100m', labels, spec });
  return { ...p, spec: { ...p.spec, nodeName: node } };
}

describe('Snapshot sub-lists', () => {
  it('kept in place by the cache equal a rebuild from scratch, in node order', () => {
    const random = seeded(42);
    const cache = new SchedulerCache({ clock: new FakeClock() });
    const nodeNames = Array.from({ length: 40 }, (_, i) => `n${i}`);
    for (const [i, n] of nodeNames.entries()) {
      cache.addNode(makeNode(n, { labels: { 'topology.kubernetes.io/zone': `z${i % 3}` } }));
    }
    const s = new Snapshot();
    cache.updateSnapshot(s);
    const live = new Map<string, Pod>();
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.6 || live.size === 0) {
        const name = `p${step}`;
        const pod = podOfKind(Math.floor(random() * 4), name, nodeNames[Math.floor(random() * 40)]!);
        cache.addPod(pod);
        live.set(name, pod);
      } else {
        const keys = [...live.keys()];
        const name = keys[Math.floor(random() * keys.length)]!;
        cache.removePod(live.get(name)!);
        live.delete(name);
      }
      // Several changes between snapshots now and then.
      if (random() < 0.7) continue;
      cache.updateSnapshot(s);
      const fresh = new Snapshot();
      cache.updateSnapshot(fresh);
      assert.deepEqual(names(s.list()), names(fresh.list()));
      assert.deepEqual(names(s.havePodsList()), names(fresh.havePodsList()), `havePods at step ${step}`);
      assert.deepEqual(names(s.havePodsWithAffinityList()), names(fresh.havePodsWithAffinityList()));
      assert.deepEqual(
        names(s.havePodsWithRequiredAntiAffinityList()),
        names(fresh.havePodsWithRequiredAntiAffinityList()),
      );
      assert.deepEqual(
        names(s.havePodsWithScoringAffinityList()),
        names(fresh.havePodsWithScoringAffinityList()),
      );
      // Required anti-affinity alone does not score other pods.
      for (const ni of s.havePodsWithScoringAffinityList()) {
        assert.ok(ni.podsWithAffinity.some((pi) => pi.hasScoringAffinity));
      }
    }
  });

  it('bumps labelsGeneration when node labels or the node list change, not for pods', () => {
    const cache = new SchedulerCache({ clock: new FakeClock() });
    const a = makeNode('a', { labels: { zone: 'z1' } });
    cache.addNode(a);
    const s = new Snapshot();
    cache.updateSnapshot(s);
    const g0 = s.labelsGeneration;
    cache.addPod(podOfKind(0, 'p', 'a'));
    cache.updateSnapshot(s);
    assert.equal(s.labelsGeneration, g0);
    cache.updateNode(a, makeNode('a', { labels: { zone: 'z2' } }));
    cache.updateSnapshot(s);
    assert.ok(s.labelsGeneration > g0);
    const g1 = s.labelsGeneration;
    cache.addNode(makeNode('b'));
    cache.updateSnapshot(s);
    assert.ok(s.labelsGeneration > g1);
  });
});

describe('NodeInfo copies of hot fields', () => {
  it('follow the node and the pods through add, remove and copy', () => {
    const ni = new NodeInfo();
    ni.setNode(
      makeNode('n', {
        cpu: '8',
        memory: '16Gi',
        unschedulable: true,
        taints: [{ key: 'k', effect: 'NoSchedule' }],
      }),
    );
    const p1 = makePod('p1', { cpu: '500m', memory: '1Gi' });
    const p2 = makePod('p2');
    ni.addPod(p1);
    ni.addPod(p2);
    ni.removePod(p1);
    const check = (x: NodeInfo) => {
      assert.equal(x.numPods, x.pods.length);
      assert.equal(x.allocatableMilliCPU, x.allocatable.milliCPU);
      assert.equal(x.allocatableMemory, x.allocatable.memory);
      assert.equal(x.allocatableEphemeralStorage, x.allocatable.ephemeralStorage);
      assert.equal(x.allowedPodNumber, x.allocatable.allowedPodNumber);
      assert.equal(x.requestedMilliCPU, x.requested.milliCPU);
      assert.equal(x.requestedMemory, x.requested.memory);
      assert.equal(x.requestedEphemeralStorage, x.requested.ephemeralStorage);
      assert.equal(x.nonZeroRequestedMilliCPU, x.nonZeroRequested.milliCPU);
      assert.equal(x.nonZeroRequestedMemory, x.nonZeroRequested.memory);
      assert.equal(x.labels, x.node!.metadata.labels);
      assert.equal(x.unschedulable, true);
      assert.deepEqual(x.taints, [{ key: 'k', effect: 'NoSchedule' }]);
    };
    check(ni);
    assert.equal(ni.nonZeroRequestedMilliCPU, 100, 'the default for a pod without requests');
    check(ni.clone());
  });
});

describe('PodInfo', () => {
  it('shares parsed terms between pods with the same affinity and namespace, and requests between copies', () => {
    const a = podOfKind(1, 'a', 'n');
    const b = podOfKind(1, 'b', 'n');
    assert.equal(podInfoOf(a).requiredAntiAffinityTerms, podInfoOf(b).requiredAntiAffinityTerms);
    assert.equal(podInfoOf(a).labels, podInfoOf(b).labels);
    const other = { ...b, metadata: { ...b.metadata, namespace: 'other' } };
    assert.notEqual(podInfoOf(other).requiredAntiAffinityTerms, podInfoOf(b).requiredAntiAffinityTerms);
    assert.ok(podInfoOf(other).requiredAntiAffinityTerms[0]!.namespaces.has('other'));
    const copy: Pod = { ...a, spec: { ...a.spec, nodeName: 'm' } };
    assert.equal(podInfoOf(copy).requests, podInfoOf(a).requests);
    assert.equal(podInfoOf(copy).hasScoringAffinity, false);
    assert.equal(podInfoOf(podOfKind(3, 'c', 'n')).hasScoringAffinity, true);
  });
});

describe('StateReader', () => {
  it('reads a key once per state and again after a write', () => {
    class V implements StateData {
      readonly v: number;
      constructor(v: number) {
        this.v = v;
      }
      clone(): StateData {
        return this;
      }
    }
    const r = new StateReader<V>('k');
    const s = new CycleState();
    assert.equal(r.read(s), undefined);
    s.write('k', new V(1));
    assert.equal(r.read(s)?.v, 1);
    s.write('k', new V(2));
    assert.equal(r.read(s)?.v, 2);
    const c = s.clone();
    c.write('k', new V(3));
    assert.equal(r.read(c)?.v, 3);
    assert.equal(r.read(s)?.v, 2);
    s.delete('k');
    assert.equal(r.read(s), undefined);
  });
});
