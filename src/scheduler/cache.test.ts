import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { SchedulerCache } from './cache.ts';
import { Snapshot } from './framework/snapshot.ts';
import { makeNode, makePod } from './testing.ts';
import type { Pod } from './types.ts';

function setup(ttl = 30_000) {
  const clock = new FakeClock();
  const cache = new SchedulerCache({ clock, assumedPodTtlMs: ttl });
  cache.addNode(makeNode('a', { cpu: '4' }));
  cache.addNode(makeNode('b', { cpu: '4' }));
  return { clock, cache };
}

const bound = (pod: Pod, node: string): Pod => ({ ...pod, spec: { ...pod.spec, nodeName: node } });

describe('SchedulerCache', () => {
  it('counts an assumed pod at once and confirms it when the bound pod arrives', () => {
    const { cache } = setup();
    const pod = makePod('p', { cpu: '1' });
    cache.assumePod(bound(pod, 'a'));
    assert.equal(cache.nodeInfo('a')!.requested.milliCPU, 1000);
    assert.ok(cache.isAssumedPod(pod));
    cache.finishBinding(bound(pod, 'a'));
    cache.addPod(bound(pod, 'a'));
    assert.equal(cache.isAssumedPod(pod), false);
    assert.equal(cache.nodeInfo('a')!.requested.milliCPU, 1000, 'not counted twice');
    assert.equal(cache.nodeInfo('a')!.pods.length, 1);
    assert.throws(() => cache.assumePod(bound(pod, 'a')), /is in the cache/);
  });

  it('forgets an assumed pod whose binding failed', () => {
    const { cache } = setup();
    const pod = bound(makePod('p', { cpu: '1' }), 'a');
    cache.assumePod(pod);
    cache.forgetPod(pod);
    assert.equal(cache.nodeInfo('a')!.requested.milliCPU, 0);
    assert.equal(cache.podCount(), 0);
  });

  it('expires an assumed pod only after binding finished and the TTL passed', () => {
    const { clock, cache } = setup(30_000);
    cache.run();
    const pod = bound(makePod('p', { cpu: '1' }), 'a');
    cache.assumePod(pod);
    clock.advance(60_000);
    assert.ok(cache.isAssumedPod(pod), 'binding still in flight: kept');
    cache.finishBinding(pod);
    clock.advance(29_000);
    assert.ok(cache.isAssumedPod(pod));
    clock.advance(2000);
    assert.equal(cache.isAssumedPod(pod), false);
    assert.equal(cache.nodeInfo('a')!.requested.milliCPU, 0);
    cache.close();
  });

  it('updates snapshots incrementally, copying only changed nodes', () => {
    const { cache } = setup();
    const s = new Snapshot();
    cache.updateSnapshot(s);
    const a = s.get('a')!;
    const b = s.get('b')!;
    const bPods = b.pods;
    cache.addPod(bound(makePod('p', { cpu: '1' }), 'a'));
    cache.updateSnapshot(s);
    assert.equal(s.get('a'), a, 'NodeInfo objects are updated in place');
    assert.equal(a.requested.milliCPU, 1000);
    assert.equal(s.get('b')!.pods, bPods, 'unchanged NodeInfos are not copied');
    // The snapshot is isolated from later cache changes.
    cache.addPod(bound(makePod('q', { cpu: '1' }), 'a'));
    assert.equal(a.pods.length, 1);
    cache.updateSnapshot(s);
    assert.equal(a.pods.length, 2);
  });

  it('ignores node updates that change nothing the scheduler reads', () => {
    const { cache } = setup();
    const s = new Snapshot();
    cache.updateSnapshot(s);
    const gen = s.generation;
    const node = makeNode('a', { cpu: '4' });
    cache.updateNode(node, {
      ...node,
      status: { ...node.status, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    cache.updateSnapshot(s);
    assert.equal(s.generation, gen);
    cache.updateNode(node, makeNode('a', { cpu: '8' }));
    cache.updateSnapshot(s);
    assert.equal(s.get('a')!.allocatable.milliCPU, 8000);
  });

  it('drops removed nodes from the snapshot and keeps their pods until deleted', () => {
    const { cache } = setup();
    const pod = bound(makePod('p', { cpu: '1' }), 'b');
    cache.addPod(pod);
    const s = new Snapshot();
    cache.updateSnapshot(s);
    cache.removeNode(makeNode('b'));
    cache.updateSnapshot(s);
    assert.deepEqual(
      s.list().map((n) => n.name),
      ['a'],
    );
    assert.equal(s.get('b'), undefined);
    cache.addNode(makeNode('b', { cpu: '4' }));
    cache.updateSnapshot(s);
    assert.equal(s.get('b')!.requested.milliCPU, 1000);
    cache.removePod(pod);
    cache.updateSnapshot(s);
    assert.equal(s.get('b')!.pods.length, 0);
  });

  it('lists nodes interleaved by zone', () => {
    const cache = new SchedulerCache({ clock: new FakeClock() });
    const z = (name: string, zone: string) =>
      makeNode(name, { labels: { 'topology.kubernetes.io/zone': zone } });
    for (const n of [z('a1', 'a'), z('a2', 'a'), z('a3', 'a'), z('b1', 'b'), z('c1', 'c'), z('c2', 'c')])
      cache.addNode(n);
    const s = new Snapshot();
    cache.updateSnapshot(s);
    assert.deepEqual(
      s.list().map((n) => n.name),
      ['a1', 'b1', 'c1', 'a2', 'c2', 'a3'],
    );
  });

  it('tracks image sizes and how many nodes hold each image', () => {
    const cache = new SchedulerCache({ clock: new FakeClock() });
    cache.addNode(makeNode('a', { images: [{ names: ['img:1', 'img@sha256:x'], sizeBytes: 100 }] }));
    cache.addNode(makeNode('b', { images: [{ names: ['img:1'], sizeBytes: 100 }] }));
    assert.deepEqual(cache.nodeInfo('a')!.imageStates.get('img:1'), { size: 100, numNodes: 2 });
    assert.deepEqual(cache.nodeInfo('a')!.imageStates.get('img@sha256:x'), { size: 100, numNodes: 1 });
    cache.removeNode(makeNode('b'));
    assert.equal(cache.nodeInfo('a')!.imageStates.get('img:1')!.numNodes, 1);
  });

  it('keeps the affinity node lists current', () => {
    const { cache } = setup();
    const s = new Snapshot();
    cache.updateSnapshot(s);
    assert.equal(s.havePodsWithAffinityList().length, 0);
    const anti = makePod('anti', {
      nodeName: 'b',
      spec: {
        containers: [],
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: 'kubernetes.io/hostname', labelSelector: {} },
            ],
          },
        },
      },
    });
    cache.addPod(anti);
    cache.updateSnapshot(s);
    assert.deepEqual(
      s.havePodsWithRequiredAntiAffinityList().map((n) => n.name),
      ['b'],
    );
    assert.deepEqual(
      s.havePodsWithAffinityList().map((n) => n.name),
      ['b'],
    );
    cache.removePod(anti);
    cache.updateSnapshot(s);
    assert.equal(s.havePodsWithAffinityList().length, 0);
  });
});
