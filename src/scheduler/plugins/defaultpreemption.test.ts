import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CycleState } from '../framework/cycle_state.ts';
import { FitError } from '../framework/fit_error.ts';
import { podInfoOf } from '../framework/podinfo.ts';
import { Algorithm } from '../schedule_one.ts';
import { makeNode, makePod, testFramework } from '../testing.ts';
import type { Node, Pod, PodDisruptionBudget } from '../types.ts';
import type { DefaultPreemption } from './defaultpreemption.ts';
import { type Candidate, filterPodsWithPDBViolation, pickOneNodeForPreemption } from './preemption_select.ts';

const PLUGINS = [{ name: 'TaintToleration' }, { name: 'NodeResourcesFit' }, { name: 'DefaultPreemption' }];

/** Runs a failed cycle for `preemptor` and then PostFilter; returns the outcome and the cluster. */
async function preempt(nodes: Node[], pods: Pod[], preemptor: Pod, pdbs: PodDisruptionBudget[] = []) {
  const { fw, snapshot, cluster } = testFramework({
    plugins: PLUGINS,
    nodes,
    pods: [...pods, preemptor],
    pdbs,
  });
  const state = new CycleState();
  let fitError: FitError | undefined;
  try {
    new Algorithm().schedulePod(fw, state, preemptor, snapshot);
  } catch (err) {
    fitError = err as FitError;
  }
  assert.ok(fitError instanceof FitError, 'the pod must not fit');
  const r = await fw.runPostFilterPlugins(state, preemptor, fitError.diagnosis.nodeToStatus);
  return { r, cluster, fitError };
}

const p = (name: string, node: string, cpu: string, priority: number, o: Record<string, unknown> = {}) =>
  makePod(name, { nodeName: node, cpu, priority, ...o });

describe('DefaultPreemption', () => {
  it('evicts the fewest, least important pods and nominates the node', async () => {
    const nodes = [makeNode('n', { cpu: '4' })];
    const pods = [p('low1', 'n', '1', 1), p('low2', 'n', '1', 2), p('low3', 'n', '2', 3)];
    const { r, cluster } = await preempt(nodes, pods, makePod('hi', { cpu: '2', priority: 10 }));
    assert.equal(r.status, undefined);
    assert.equal(r.result?.nominatedNodeName, 'n');
    const deleted = cluster.calls.filter((c) => c.verb === 'delete').map((c) => c.name);
    assert.deepEqual(deleted.sort(), ['low1', 'low2']);
    const cond = cluster.calls.find((c) => c.verb === 'patch' && c.name === 'low1');
    assert.match(JSON.stringify(cond?.body), /PreemptionByScheduler/);
    assert.deepEqual(
      cluster.events
        .filter((e) => e.reason === 'Preempted')
        .map((e) => (e.involvedObject as { name: string }).name)
        .sort(),
      ['low1', 'low2'],
    );
  });

  it('never evicts pods of equal or higher priority', async () => {
    const nodes = [makeNode('n', { cpu: '2' })];
    const { r, cluster } = await preempt(
      nodes,
      [p('same', 'n', '2', 5)],
      makePod('x', { cpu: '1', priority: 5 }),
    );
    assert.equal(
      r.status?.message(),
      'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    assert.equal(r.result?.nominatedNodeName, '');
    assert.equal(cluster.calls.filter((c) => c.verb === 'delete').length, 0);
  });

  it('does not try nodes where preemption cannot help', async () => {
    const nodes = [
      makeNode('tainted', { cpu: '8', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }),
      makeNode('small', { cpu: '1' }),
      makeNode('full', { cpu: '2' }),
    ];
    const { r, fitError } = await preempt(
      nodes,
      [p('low', 'full', '2', 0)],
      makePod('x', { cpu: '2', priority: 100 }),
    );
    assert.equal(
      fitError.message,
      '0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.',
    );
    assert.equal(r.result?.nominatedNodeName, 'full');
  });

  it('reports "Preemption is not helpful" when no node is merely short of resources', async () => {
    const nodes = [
      makeNode('a', { cpu: '1' }),
      makeNode('b', { taints: [{ key: 'k', effect: 'NoSchedule' }] }),
    ];
    const { r } = await preempt(nodes, [], makePod('x', { cpu: '2', priority: 100 }));
    assert.equal(
      r.status?.message(),
      'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('honours preemptionPolicy Never', async () => {
    const nodes = [makeNode('n', { cpu: '1' })];
    const pod = makePod('x', {
      cpu: '1',
      priority: 100,
      spec: { preemptionPolicy: 'Never', containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] },
    });
    const { r } = await preempt(nodes, [p('low', 'n', '1', 0)], pod);
    assert.equal(r.status?.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
  });

  it('prefers the node whose victims violate no PodDisruptionBudget', async () => {
    const nodes = [makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1' })];
    const pods = [
      p('guarded', 'a', '1', 0, { labels: { app: 'guarded' } }),
      p('free', 'b', '1', 0, { labels: { app: 'free' } }),
    ];
    const pdb: PodDisruptionBudget = {
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'guarded' } } },
      status: { disruptionsAllowed: 0 },
    };
    const { r } = await preempt(nodes, pods, makePod('x', { cpu: '1', priority: 10 }), [pdb]);
    assert.equal(r.result?.nominatedNodeName, 'b');
  });

  it('reprieves PDB-protected pods first when choosing victims on a node', () => {
    const { fw, snapshot } = testFramework({
      plugins: PLUGINS,
      nodes: [makeNode('n', { cpu: '2' })],
      pods: [p('a', 'n', '1', 0, { labels: { app: 'a' } }), p('b', 'n', '1', 0, { labels: { app: 'b' } })],
    });
    const pdb: PodDisruptionBudget = {
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'a' } } },
      status: { disruptionsAllowed: 0 },
    };
    const plugin = fw.postFilter[0] as unknown as DefaultPreemption;
    const pod = makePod('x', { cpu: '1', priority: 10 });
    const state = new CycleState();
    fw.runPreFilterPlugins(state, pod, snapshot.list());
    const r = plugin.selectVictimsOnNode(state, pod, snapshot.get('n')!.clone(), [pdb]);
    assert.deepEqual(
      r.victims.map((v) => v.metadata.name),
      ['b'],
    );
    assert.equal(r.numViolating, 0);
  });
});

describe('preemption selection', () => {
  const pod = (name: string, priority: number, startTime?: string) => makePod(name, { priority, startTime });
  const c = (name: string, pods: Pod[], numPDBViolations = 0): Candidate => ({
    name,
    pods,
    numPDBViolations,
  });

  it('picks by PDB violations, highest victim priority, priority sum, count, then latest start', () => {
    const now = Date.UTC(2026, 0, 2);
    assert.equal(
      pickOneNodeForPreemption([c('a', [pod('x', 1)], 1), c('b', [pod('y', 5)], 0)], now)?.name,
      'b',
    );
    assert.equal(
      pickOneNodeForPreemption([c('a', [pod('x', 5)]), c('b', [pod('y', 3), pod('z', 3)])], now)?.name,
      'b',
    );
    assert.equal(
      pickOneNodeForPreemption([c('a', [pod('x', 3), pod('y', 3)]), c('b', [pod('z', 3), pod('w', 1)])], now)
        ?.name,
      'b',
    );
    assert.equal(
      pickOneNodeForPreemption([c('a', [pod('x', 3), pod('y', -5)]), c('b', [pod('z', 3)])], now)?.name,
      'b',
    );
    assert.equal(
      pickOneNodeForPreemption(
        [c('a', [pod('x', 3, '2026-01-01T00:00:00Z')]), c('b', [pod('y', 3, '2026-01-01T05:00:00Z')])],
        now,
      )?.name,
      'b',
    );
  });

  it('groups PDB-violating pods, counting each budget down', () => {
    const pods = ['a1', 'a2', 'b1'].map((n) => podInfoOf(makePod(n, { labels: { app: n[0]! } })));
    const pdb: PodDisruptionBudget = {
      metadata: { name: 'x', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'a' } } },
      status: { disruptionsAllowed: 1 },
    };
    const r = filterPodsWithPDBViolation(pods, [pdb]);
    assert.deepEqual(
      r.violating.map((p) => p.pod.metadata.name),
      ['a2'],
    );
    assert.deepEqual(
      r.nonViolating.map((p) => p.pod.metadata.name),
      ['a1', 'b1'],
    );
  });
});
