import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { ActionType, type ClusterEvent } from './framework/interface.ts';
import { SchedulingQueue } from './queue.ts';
import { makePod } from './testing.ts';
import type { Pod } from './types.ts';

const EVENTS = new Map<string, ClusterEvent[]>([
  [
    'NodeResourcesFit',
    [
      { resource: 'AssignedPod', actions: ActionType.Delete },
      { resource: 'Node', actions: ActionType.Add },
    ],
  ],
  ['NodeAffinity', [{ resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel }]],
]);
const podDelete: ClusterEvent = { resource: 'AssignedPod', actions: ActionType.Delete };
const labelUpdate: ClusterEvent = { resource: 'Node', actions: ActionType.UpdateNodeLabel };

function setup() {
  const clock = new FakeClock();
  const q = new SchedulingQueue({ clock, clusterEvents: EVENTS });
  q.run();
  return { clock, q };
}

/** Pops a pod and fails it as unschedulable by `plugins`. */
async function fail(q: SchedulingQueue, plugins: string[]): Promise<Pod> {
  const info = (await q.pop())!;
  const cycle = q.schedulingCycle;
  info.unschedulablePlugins = new Set(plugins);
  q.addUnschedulableIfNotPresent(info, cycle);
  return info.pod;
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival', async () => {
    const { clock, q } = setup();
    q.add(makePod('low', { priority: 1 }));
    clock.advance(1);
    q.add(makePod('high', { priority: 100 }));
    clock.advance(1);
    q.add(makePod('low-later', { priority: 1 }));
    q.add(makePod('high-later', { priority: 100 }));
    const names = [];
    for (let i = 0; i < 4; i++) names.push((await q.pop())!.pod.metadata.name);
    assert.deepEqual(names, ['high', 'high-later', 'low', 'low-later']);
    q.close();
  });

  it('pop waits for a pod and ends on close or abort', async () => {
    const { q } = setup();
    const waiting = q.pop();
    q.add(makePod('p'));
    assert.equal((await waiting)?.pod.metadata.name, 'p');
    const ac = new AbortController();
    const aborted = q.pop(ac.signal);
    ac.abort();
    assert.equal(await aborted, undefined);
    const closed = q.pop();
    q.close();
    assert.equal(await closed, undefined);
  });

  it('backs off 1 s, doubling per attempt, up to 10 s', () => {
    const { q } = setup();
    const info = {
      pod: makePod('p'),
      timestamp: 0,
      initialAttemptTimestamp: 0,
      attempts: 0,
      unschedulablePlugins: new Set<string>(),
      gated: false,
    };
    const ds = [];
    for (let a = 1; a <= 6; a++) ds.push(q.backoffDuration({ ...info, attempts: a }));
    assert.deepEqual(ds, [1000, 2000, 4000, 8000, 10_000, 10_000]);
    q.close();
  });

  it('parks unschedulable pods until an event a rejecting plugin registered for', async () => {
    const { clock, q } = setup();
    q.add(makePod('p'));
    const pod = await fail(q, ['NodeResourcesFit']);
    assert.equal(q.whereIs(pod), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(labelUpdate);
    assert.equal(q.whereIs(pod), 'unschedulable', 'NodeResourcesFit did not register node label updates');
    q.moveAllToActiveOrBackoffQueue(podDelete);
    assert.equal(q.whereIs(pod), 'backoff', 'still within its 1 s back-off');
    clock.advance(1000);
    assert.equal(q.whereIs(pod), 'active');
    q.close();
  });

  it('moves a pod straight to activeQ when its back-off is over', async () => {
    const { clock, q } = setup();
    q.add(makePod('p'));
    const pod = await fail(q, ['NodeAffinity']);
    clock.advance(5000);
    q.moveAllToActiveOrBackoffQueue(labelUpdate);
    assert.equal(q.whereIs(pod), 'active');
    q.close();
  });

  it('sends a pod to backoffQ when a move request arrived during its cycle', async () => {
    const { q } = setup();
    q.add(makePod('p'));
    const info = (await q.pop())!;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoffQueue(labelUpdate);
    info.unschedulablePlugins = new Set(['NodeResourcesFit']);
    q.addUnschedulableIfNotPresent(info, cycle);
    assert.equal(q.whereIs(info.pod), 'backoff');
    q.close();
  });

  it('sends pods that failed with an error to backoffQ', async () => {
    const { q } = setup();
    q.add(makePod('p'));
    const pod = await fail(q, []);
    assert.equal(q.whereIs(pod), 'backoff');
    q.close();
  });

  it('retries pods left unschedulable for 5 minutes', async () => {
    const { clock, q } = setup();
    q.add(makePod('p'));
    const pod = await fail(q, ['NodeAffinity']);
    clock.advance(4 * 60_000);
    assert.equal(q.whereIs(pod), 'unschedulable');
    clock.advance(90_000);
    assert.equal(q.whereIs(pod), 'active');
    q.close();
  });

  it('moves an unschedulable pod when its spec changes, not when only its status does', async () => {
    const { clock, q } = setup();
    q.add(makePod('p'));
    const pod = await fail(q, ['NodeAffinity']);
    clock.advance(2000);
    const statusOnly: Pod = { ...pod, status: { conditions: [{ type: 'PodScheduled', status: 'False' }] } };
    q.update(pod, statusOnly);
    assert.equal(q.whereIs(pod), 'unschedulable');
    const relabelled: Pod = { ...statusOnly, metadata: { ...pod.metadata, labels: { new: 'label' } } };
    q.update(statusOnly, relabelled);
    assert.equal(q.whereIs(pod), 'active');
    assert.deepEqual((await q.pop())!.pod.metadata.labels, { new: 'label' });
    q.close();
  });

  it('forgets deleted pods, also when deleted during their cycle', async () => {
    const { q } = setup();
    q.add(makePod('a'));
    q.add(makePod('b'));
    q.delete(makePod('a'));
    const info = (await q.pop())!;
    assert.equal(info.pod.metadata.name, 'b');
    q.delete(info.pod);
    q.addUnschedulableIfNotPresent(info, q.schedulingCycle);
    assert.equal(q.whereIs(info.pod), undefined);
    assert.deepEqual(q.stats(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
    q.close();
  });

  it('holds gated pods until their scheduling gates are removed', async () => {
    const { q } = setup();
    const gated = makePod('g', { spec: { schedulingGates: [{ name: 'wait' }], containers: [] } });
    q.add(gated);
    assert.equal(q.whereIs(gated), 'unschedulable');
    q.moveAllToActiveOrBackoffQueue(podDelete);
    assert.equal(q.whereIs(gated), 'unschedulable');
    const open = { ...gated, spec: { ...gated.spec, schedulingGates: [] } };
    q.update(gated, open);
    assert.equal((await q.pop())!.pod.metadata.name, 'g');
    q.close();
  });

  it('tracks nominated pods per node', async () => {
    const { q } = setup();
    const pod = makePod('p', { priority: 5 });
    pod.status = { nominatedNodeName: 'n1' };
    q.add(pod);
    assert.deepEqual(
      q.nominator.nominatedPodsForNode('n1').map((p) => p.pod.metadata.name),
      ['p'],
    );
    const moved = { ...pod, status: { nominatedNodeName: 'n2' } };
    q.update(pod, moved);
    assert.equal(q.nominator.nominatedPodsForNode('n1').length, 0);
    assert.equal(q.nominator.nominatedPodsForNode('n2').length, 1);
    q.delete(moved);
    assert.equal(q.nominator.nominatedPodsForNode('n2').length, 0);
    q.close();
  });
});
