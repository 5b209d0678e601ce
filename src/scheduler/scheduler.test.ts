import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { podRequests } from './framework/resource.ts';
import { Scheduler } from './scheduler.ts';
import { FakeCluster, makeNode, makePod, waitFor } from './testing.ts';
import type { Pod, PodCondition } from './types.ts';

function start(cluster: FakeCluster, extra: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) {
  const clock = new FakeClock();
  const sched = new Scheduler({
    client: cluster.client,
    informers: {
      pods: cluster.pods,
      nodes: cluster.nodes,
      namespaces: cluster.namespaces,
      pdbs: cluster.pdbs,
      priorityClasses: cluster.priorityClasses,
    },
    clock,
    random: () => 0,
    ...extra,
  });
  const ac = new AbortController();
  const running = sched.run(ac.signal);
  return {
    sched,
    clock,
    async stop() {
      ac.abort();
      await running;
      await sched.idle();
    },
  };
}

function events(cluster: FakeCluster, reason: string): { name: string; message: string }[] {
  return cluster.events
    .filter((e) => e.reason === reason)
    .map((e) => ({ name: (e.involvedObject as { name: string }).name, message: e.message as string }));
}

function podScheduled(cluster: FakeCluster, name: string): PodCondition | undefined {
  return cluster.pods.get(`default/${name}`)?.status?.conditions?.find((c) => c.type === 'PodScheduled');
}

describe('Scheduler', () => {
  it('schedules 1,000 pods onto 100 nodes without overcommitting any node', async () => {
    const cluster = new FakeCluster();
    cluster.watchDelayMs = 1;
    for (let i = 0; i < 100; i++) {
      cluster.seed('nodes', makeNode(`node-${i}`, { cpu: '4', memory: '8Gi', pods: 110 }));
    }
    // Events unlimited (the fake clock does not move): every binding gets its Scheduled event.
    const s = start(cluster, { eventQps: 0 });
    // 400m × 10 = 4 cpu: the cluster holds exactly 1,000 such pods.
    for (let i = 0; i < 1000; i++) cluster.seed('pods', makePod(`p-${i}`, { cpu: '400m', memory: '256Mi' }));
    await waitFor(
      () =>
        cluster.pods
          .lister()
          .list()
          .every((p) => p.spec?.nodeName),
      30_000,
      'all pods bound',
    );
    await cluster.flush();
    await s.stop();

    const byNode = cluster.podsByNode();
    assert.equal(byNode.size, 100);
    for (const [node, pods] of byNode) {
      const cpu = pods.reduce((sum, p) => sum + podRequests(p).milliCPU, 0);
      const mem = pods.reduce((sum, p) => sum + podRequests(p).memory, 0);
      assert.ok(cpu <= 4000, `${node} cpu ${cpu}m`);
      assert.ok(mem <= 8 * 1024 ** 3, `${node} memory ${mem}`);
      assert.equal(pods.length, 10, node);
    }
    assert.equal(events(cluster, 'Scheduled').length, 1000);
    assert.equal(events(cluster, 'FailedScheduling').length, 0);
    assert.match(
      events(cluster, 'Scheduled')[0]!.message,
      /^Successfully assigned default\/p-\d+ to node-\d+$/,
    );
    const binding = cluster.calls.find((c) => c.verb === 'binding')!;
    const bound = cluster.pods.get(`default/${binding.name}`)!;
    assert.deepEqual(binding.body, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: binding.name, namespace: 'default', uid: bound.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: bound.spec?.nodeName },
    });
    assert.equal(s.sched.cache.assumedCount(), 0);
  });

  it('reports kube-scheduler’s FitError message for a pod that fits nowhere', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('a', { memory: '8Gi' }));
    cluster.seed('nodes', makeNode('b', { memory: '8Gi', labels: { disk: 'ssd' } }));
    cluster.seed('nodes', makeNode('c', { memory: '8Gi', labels: { disk: 'ssd' } }));
    const s = start(cluster);
    cluster.seed('pods', makePod('big', { memory: '16Gi', nodeSelector: { disk: 'ssd' } }));
    await waitFor(() => events(cluster, 'FailedScheduling').length > 0, 5000, 'FailedScheduling');
    await waitFor(() => podScheduled(cluster, 'big') !== undefined, 5000, 'PodScheduled condition');
    await s.stop();

    const want =
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient memory. " +
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    assert.deepEqual(events(cluster, 'FailedScheduling'), [{ name: 'big', message: want }]);
    const ev = cluster.events.find((e) => e.reason === 'FailedScheduling')!;
    assert.equal(ev.type, 'Warning');
    const cond = podScheduled(cluster, 'big')!;
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, want);
    const patch = cluster.calls.find((c) => c.verb === 'patch')!;
    assert.equal(patch.subresource, 'status');
    assert.equal(patch.patchType, 'strategic');
    assert.equal(s.sched.queue.whereIs(cluster.pods.get('default/big')!), 'unschedulable');
  });

  it('moves an unschedulable pod back when a node that fits is added', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('small', { cpu: '1' }));
    const s = start(cluster);
    cluster.seed('pods', makePod('p', { cpu: '2' }));
    await waitFor(() => events(cluster, 'FailedScheduling').length === 1, 5000, 'failure');
    assert.equal(
      events(cluster, 'FailedScheduling')[0]!.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    );
    s.clock.advance(1000);
    cluster.seed('nodes', makeNode('big', { cpu: '8' }));
    s.clock.advance(10_000);
    await waitFor(() => cluster.pods.get('default/p')?.spec?.nodeName === 'big', 5000, 'bound to big');
    await s.stop();
  });

  it('preempts a lower-priority pod and nominates the node', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('n1', { cpu: '2' }));
    cluster.seed('pods', makePod('low', { cpu: '1500m', nodeName: 'n1', priority: 0 }));
    const s = start(cluster);
    cluster.seed('pods', makePod('high', { cpu: '1', priority: 1000 }));
    await waitFor(() => cluster.calls.some((c) => c.verb === 'delete'), 5000, 'victim deleted');
    await cluster.flush();
    await waitFor(
      () => s.sched.queue.whereIs(cluster.pods.get('default/high')!) === 'backoff',
      5000,
      'backoff',
    );
    s.clock.advance(1000); // the preemptor waits out its back-off, then fits where the victim was
    await waitFor(() => cluster.pods.get('default/high')?.spec?.nodeName === 'n1', 5000, 'preemptor bound');
    await s.stop();
    const del = cluster.calls.find((c) => c.verb === 'delete')!;
    assert.equal(del.name, 'low');
    const nominated = cluster.calls.find(
      (c) => c.verb === 'patch' && c.name === 'high' && JSON.stringify(c.body).includes('nominatedNodeName'),
    );
    assert.ok(nominated, 'nominatedNodeName patched');
    assert.equal(
      (nominated.body as { status: { nominatedNodeName: string } }).status.nominatedNodeName,
      'n1',
    );
    assert.equal(
      events(cluster, 'FailedScheduling')[0]!.message,
      '0/1 nodes are available: 1 Insufficient cpu.',
    );
    assert.equal(events(cluster, 'Preempted')[0]!.name, 'low');
  });

  it('retries after a failed binding and forgets the assumed pod', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('n1'));
    cluster.failBindings.push(new Error('connection reset'));
    const s = start(cluster);
    cluster.seed('pods', makePod('p', { cpu: '1' }));
    await waitFor(() => events(cluster, 'FailedScheduling').length === 1, 5000, 'failure');
    assert.equal(
      events(cluster, 'FailedScheduling')[0]!.message,
      'running Bind plugin "DefaultBinder": connection reset',
    );
    assert.equal(s.sched.cache.assumedCount(), 0);
    await waitFor(() => podScheduled(cluster, 'p')?.reason === 'SchedulerError', 5000, 'condition');
    s.clock.advance(2000);
    await waitFor(() => !!cluster.pods.get('default/p')?.spec?.nodeName, 5000, 'bound');
    await s.stop();
  });

  it('ignores pods for other schedulers and pods already assigned', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('n1'));
    const s = start(cluster);
    cluster.seed('pods', makePod('other', { spec: { schedulerName: 'my-scheduler', containers: [] } }));
    cluster.seed('pods', makePod('mine', { cpu: '1' }));
    await waitFor(() => !!cluster.pods.get('default/mine')?.spec?.nodeName, 5000, 'bound');
    await s.stop();
    assert.equal(cluster.pods.get('default/other')?.spec?.nodeName, undefined);
    assert.equal(cluster.calls.filter((c) => c.verb === 'binding').length, 1);
    const pod: Pod = cluster.pods.get('default/mine')!;
    assert.equal(s.sched.cache.nodeInfo('n1')?.pods.length, 1);
    assert.equal(s.sched.cache.isAssumedPod(pod), false);
  });

  it('frees the resources of pods that finished', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('n1', { cpu: '1' }));
    const done = cluster.seed('pods', makePod('job', { cpu: '1', nodeName: 'n1' }));
    const s = start(cluster);
    cluster.seed('pods', makePod('next', { cpu: '1' }));
    await waitFor(() => events(cluster, 'FailedScheduling').length === 1, 5000, 'failure');
    cluster.pods.update({ ...done, status: { phase: 'Succeeded' } });
    s.clock.advance(1000);
    await waitFor(() => cluster.pods.get('default/next')?.spec?.nodeName === 'n1', 5000, 'bound');
    await s.stop();
  });

  it('resolves priorities from PriorityClasses when spec.priority is unset', async () => {
    const cluster = new FakeCluster();
    cluster.seed('priorityclasses', {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'high' },
      value: 1000,
    });
    cluster.seed('nodes', makeNode('n1', { cpu: '1' }));
    cluster.seed('pods', makePod('low', { cpu: '1', nodeName: 'n1' }));
    const s = start(cluster);
    cluster.seed(
      'pods',
      makePod('vip', {
        cpu: '1',
        spec: {
          priorityClassName: 'high',
          containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
        },
      }),
    );
    await waitFor(
      () => cluster.calls.some((c) => c.verb === 'delete' && c.name === 'low'),
      5000,
      'victim deleted',
    );
    await s.stop();
    assert.equal(s.sched.withPriority(cluster.pods.get('default/vip')!).spec?.priority, 1000);
  });

  it('does not patch an unchanged PodScheduled condition again', async () => {
    const cluster = new FakeCluster();
    cluster.seed('nodes', makeNode('n1', { cpu: '1' }));
    const s = start(cluster);
    cluster.seed('pods', makePod('p', { cpu: '2' }));
    await waitFor(() => podScheduled(cluster, 'p') !== undefined, 5000, 'condition');
    s.sched.queue.activate([cluster.pods.get('default/p')!]);
    await waitFor(() => events(cluster, 'FailedScheduling').length === 2, 5000, 'second failure');
    await s.stop();
    assert.equal(cluster.calls.filter((c) => c.verb === 'patch').length, 1);
  });

  it('retries a pod that found no nodes once a node is added', async () => {
    const cluster = new FakeCluster();
    const s = start(cluster);
    cluster.seed('pods', makePod('p'));
    await waitFor(() => events(cluster, 'FailedScheduling').length === 1, 5000, 'failure');
    assert.equal(events(cluster, 'FailedScheduling')[0]!.message, 'no nodes available to schedule pods');
    assert.equal(podScheduled(cluster, 'p')?.reason ?? 'Unschedulable', 'Unschedulable');
    s.clock.advance(1000);
    cluster.seed('nodes', makeNode('n1'));
    await waitFor(() => cluster.pods.get('default/p')?.spec?.nodeName === 'n1', 5000, 'bound');
    await s.stop();
  });
});
